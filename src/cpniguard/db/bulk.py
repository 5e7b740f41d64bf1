"""Bulk writes and set lookups for loads of many rows (the demo carrier, CSV imports, the
audit ledger's flush).

Rows go in column by column. PostgreSQL takes them through COPY on the unit of work's own
connection, so they are part of its transaction; SQLite takes one executemany per table,
with SQLAlchemy's own statement and value conversions. Measured on the demo carrier,
building parameters row by row through `conn.execute(insert(...), dicts)` cost more than the
inserts themselves. Lookups go in chunks of ids, under SQLite's limit on bound parameters.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Connection, Table, insert, select, text, tuple_

from cpniguard.db import tables as t

CHUNK = 900  # ids per IN (...) list; SQLite allows 999 bound parameters per statement
# Fewer rows go through SQLAlchemy's cached statement: a COPY costs a round trip more, and
# the direct path compiles its statement each time (the audit flush of one use case is 1-3 rows).
BULK_FROM = 50
PROBE = datetime(2001, 2, 3, 4, 5, 6, 7, tzinfo=UTC)

Column = list[Any]


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Inserts rows (mappings with the same keys); returns how many."""
    if not rows:
        return 0
    names = list(rows[0])
    return _insert(conn, table, names, [[row[name] for row in rows] for name in names])


def insert_columns(conn: Connection, table: Table, **columns: Column) -> int:
    """Inserts rows given column by column (one list of values per column); returns how many."""
    if not columns:
        return 0
    return _insert(conn, table, list(columns), list(columns.values()))


def insert_records(conn: Connection, table: Table, records: Sequence[Any], **extra: Column) -> int:
    """Inserts dataclass instances whose fields are the table's columns, plus columns given
    whole in `extra` (one value per record); returns how many."""
    if not records:
        return 0
    names = [f.name for f in dataclasses.fields(records[0])]
    columns = [[getattr(record, name) for record in records] for name in names]
    return _insert(conn, table, [*names, *extra], [*columns, *extra.values()])


def _insert(conn: Connection, table: Table, names: list[str], columns: list[Column]) -> int:
    columns = [_plain(column) for column in columns]
    rows = len(columns[0])
    if rows >= BULK_FROM and conn.dialect.name == "postgresql":
        _copy(conn, table, names, columns)
    elif rows >= BULK_FROM and conn.dialect.name == "sqlite":
        _executemany(conn, table, names, columns)
    else:
        conn.execute(insert(table), [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)])
    return rows


def _plain(column: Column) -> Column:
    """Enums as their values: psycopg would write an Enum's name. A column holds one type."""
    first = next((v for v in column if v is not None), None)
    return [v.value if v is not None else None for v in column] if isinstance(first, Enum) else column


def _executemany(conn: Connection, table: Table, names: list[str], columns: list[Column]) -> None:
    compiled = insert(table).compile(dialect=conn.dialect, column_keys=names)
    order = list(compiled.positiontup or names)
    by_name = dict(zip(names, columns, strict=True))
    bound = [_bound(conn, table, name, by_name[name]) for name in order]
    conn.exec_driver_sql(str(compiled), list(zip(*bound, strict=True)))


def _bound(conn: Connection, table: Table, name: str, values: Column) -> Column:
    if isinstance(table.c[name].type, t.UTCDateTime) and _sqlite_stamp_matches(conn):
        return [None if v is None else _sqlite_stamp(v) for v in values]
    process = table.c[name].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return values if process is None else [process(v) for v in values]


def _sqlite_stamp(value: datetime) -> str:
    return _naive_utc(value).isoformat(sep=" ", timespec="microseconds")


def _sqlite_stamp_matches(conn: Connection) -> bool:
    # isoformat is C code and 4x faster than SQLAlchemy's processor; used only while it
    # writes exactly what that processor writes, since SQLite compares stamps as text.
    process: Callable[[Any], Any] | None = t.UTCDateTime().dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process is not None and process(PROBE) == _sqlite_stamp(PROBE)


def _copy(conn: Connection, table: Table, names: list[str], columns: list[Column]) -> None:
    for i, name in enumerate(names):
        if isinstance(table.c[name].type, t.UTCDateTime):
            columns[i] = [None if v is None else _naive_utc(v) for v in columns[i]]
    quote = conn.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in zip(*columns, strict=True):
            copy.write_row(row)


# COPY's text format (PostgreSQL, "COPY ... FROM STDIN"): tab between columns, \N for NULL,
# and a backslash before a backslash, tab, newline or carriage return inside a value.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_ESCAPED = frozenset("\\\t\n\r")


def copy_text(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows in COPY's text format, made without a connection: a worker process checking an
    import's lines prepares them, and the writer passes the bytes on (`write_copy_text`). Values:
    None, str, int, UUID, aware datetime (stored as naive UTC, as UTCDateTime does), Enum (its
    value), bytes (bytea)."""
    by_type = _COPY_BY_TYPE
    lines = ["\t".join([(by_type.get(type(v)) or _copy_encoder(type(v)))(v) for v in row]) for row in rows]
    return ("\n".join(lines) + "\n").encode() if lines else b""


def _copy_str(value: str) -> str:
    return value.translate(_COPY_ESCAPES) if not _ESCAPED.isdisjoint(value) else value


@functools.lru_cache(maxsize=1024)  # an account's rows share its opening; a file's rows its import time
def _copy_datetime(value: datetime) -> str:
    return _naive_utc(value).isoformat(sep=" ")


def _copy_uuid(value: uuid.UUID) -> str:
    return value.hex  # uuid's input takes the 32 digits without hyphens; str() is 3x slower


def _copy_bytes(value: bytes) -> str:
    return "\\\\x" + value.hex()  # bytea's hex input, its backslash escaped for COPY


_COPY_BY_TYPE: dict[type, Callable[[Any], str]] = {
    type(None): lambda _: "\\N",
    str: _copy_str,
    int: str,
    bool: str,
    uuid.UUID: _copy_uuid,
    datetime: _copy_datetime,
    bytes: _copy_bytes,
}


def _copy_encoder(kind: type) -> Callable[[Any], str]:
    """The encoder of a subclass (an Enum, a NewType's value is its base's): found once, kept."""
    if issubclass(kind, Enum):
        encode: Callable[[Any], str] = lambda v: _copy_str(str(v.value))  # noqa: E731
    else:
        bases = [base for base in _COPY_BY_TYPE if base is not type(None) and issubclass(kind, base)]
        if not bases:
            raise TypeError(f"no COPY text for {kind.__name__}")
        encode = _COPY_BY_TYPE[bases[0]]
    _COPY_BY_TYPE[kind] = encode
    return encode


def write_copy_text(conn: Connection, table: Table, names: Sequence[str], data: bytes) -> None:
    """Rows prepared by `copy_text`, in `names`' order, into `table` (PostgreSQL), within the
    unit of work's transaction."""
    if not data:
        return
    quote = conn.dialect.identifier_preparer.quote
    statement = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(data)


def _naive_utc(value: datetime) -> datetime:
    # The columns are `timestamp without time zone` holding UTC; COPY's text input would
    # silently drop an offset, so values are converted here as UTCDateTime does for INSERT.
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
    return value.astimezone(UTC).replace(tzinfo=None)


def prepare_for_bulk(conn: Connection) -> None:
    """A larger page cache for this connection: keys are random UUIDs, so each insert lands
    on a random index page, and SQLite's default 2 MB cache made the OS re-read them."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA cache_size = -262144")  # KiB: at most 256 MB


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def existing_customers(conn: Connection, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The ids among `ids` that name a stored customer."""
    found: set[uuid.UUID] = set()
    if conn.dialect.name == "postgresql":  # one array parameter: an import's batch is 5,000 ids
        query = text("SELECT id FROM customers WHERE id = ANY(CAST(:ids AS uuid[]))")
        found.update(conn.execute(query, {"ids": list(set(ids))}).scalars().all())
        return found
    for chunk in chunks(set(ids)):
        found.update(conn.execute(select(t.customers.c.id).where(t.customers.c.id.in_(chunk))).scalars())
    return found


def unknown_customers(conn: Connection, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The ids among `ids` that name no stored customer: none, in a good file, so PostgreSQL
    sends back nothing (a file of calls names each customer many times)."""
    given = set(ids)
    if conn.dialect.name == "postgresql":
        query = text(
            "SELECT u FROM unnest(CAST(:ids AS uuid[])) AS u WHERE NOT EXISTS (SELECT FROM customers WHERE id = u)"
        )
        return set(conn.execute(query, {"ids": list(given)}).scalars().all())
    return given - existing_customers(conn, given)


def existing_bills(conn: Connection, keys: Iterable[tuple[uuid.UUID, str]]) -> set[tuple[uuid.UUID, str]]:
    """The (customer, period) pairs among `keys` that already have a bill."""
    c = t.bills.c
    found: set[tuple[uuid.UUID, str]] = set()
    for chunk in chunks(set(keys), CHUNK // 2):
        query = select(c.customer_id, c.period).where(tuple_(c.customer_id, c.period).in_(chunk))
        found.update((row.customer_id, row.period) for row in conn.execute(query))
    return found


def refresh_statistics(conn: Connection) -> None:
    """After a bulk load the planner's row counts are stale. Measured on PostgreSQL after the
    demo load: without fresh ones it chose sequential scans for the gate's per-customer
    lookups (1.3 ms instead of 0.1 ms for 16 customers)."""
    conn.exec_driver_sql("ANALYZE")
