"""Call detail records and bills stored sealed (BREACH23-8): what a copied database shows of them.

In clear stay only what indexes, retention and partitioning need: the row's id, the customer,
when the call started (call detail is kept and purged by month) or the bill's period, and when
the row was imported. Everything else (numbers, direction, duration, charge,
location; the account number, amounts and minutes) is one value sealed by the `CpniSealer`,
with the id of the key that sealed it.

The associated data names the table, the row, the customer and the clear time or period, so
a sealed value copied onto another row, another customer or another month fails to open.

Writers hold a shared advisory lock on PostgreSQL from before they take the current key until
they commit; a rotation retires a key under the exclusive lock, after it has waited for every
writer that might still insert a value sealed with it. On SQLite every unit of work already
holds the writer lock (db/uow.py) for its whole transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table, bindparam, func, literal, select, text, union_all, update

from cpniguard.customers.records import Bill, CallDetailRecord, Direction
from cpniguard.db import bulk
from cpniguard.db import tables as t
from cpniguard.errors import CpniSealBroken
from cpniguard.ids import CustomerId
from cpniguard.ports import CpniSealer

KEY_LOCK = 0x43504E49  # "CPNI": the advisory lock between writers and a key's retirement
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)  # made once: json.dumps(**options) costs 2 µs a row


def _instant(at: datetime) -> int:
    return (at - EPOCH) // MICROSECOND  # exact, whatever the offset it carries


def cdr_associated(row_id: uuid.UUID, customer_id: uuid.UUID, started_at: datetime) -> bytes:
    return f"cpniguard/1/call_detail_records/{row_id.hex}/{customer_id.hex}/{_instant(started_at)}".encode()


def bill_associated(row_id: uuid.UUID, customer_id: uuid.UUID, period: str) -> bytes:
    return f"cpniguard/1/bills/{row_id.hex}/{customer_id.hex}/{period}".encode()


def _json(values: list[Any]) -> bytes:
    # Layout 1 (named in the associated data): a JSON array in the order below. Another layout
    # takes another number there, so that rows sealed in this one still open.
    return _JSON.encode(values).encode()


def cdr_plaintext(r: CallDetailRecord) -> bytes:
    return _json(
        [r.service_number, r.direction.value, r.other_party_number, r.duration_seconds, r.charge_cents, r.location]
    )


def bill_plaintext(b: Bill) -> bytes:
    return _json(
        [
            b.account_number,
            b.total_cents,
            b.local_charges_cents,
            b.long_distance_charges_cents,
            b.directory_assistance_charges_cents,
            b.feature_charges_cents,
            b.minutes_used,
        ]
    )


@dataclass(frozen=True)
class SealedTable:
    """A table of sealed CPNI: the clear column its associated data binds besides id and customer."""

    table: Table
    what: str
    bound: str

    def associated(self, row: Any) -> bytes:
        if self.table is t.bills:
            return bill_associated(row.id, row.customer_id, row.period)
        return cdr_associated(row.id, row.customer_id, row.started_at)

    def reading(self) -> list[Any]:
        c = self.table.c
        return [c.id, c.customer_id, c[self.bound], c.key_id, c.sealed]


CALL_DETAIL = SealedTable(t.call_detail_records, "call detail record", "started_at")
BILLS = SealedTable(t.bills, "bill", "period")
SEALED_TABLES = (CALL_DETAIL, BILLS)


def hold_keys(conn: Connection) -> None:
    """Before taking the current key to write: a rotation waits for this transaction before it
    retires a key (see the module's docstring)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": KEY_LOCK})


def hold_keys_exclusively(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": KEY_LOCK})


def _call_items(records: Sequence[CallDetailRecord]) -> list[tuple[bytes, bytes]]:
    """(associated data, plaintext) of each record, for the sealer."""
    return [(cdr_associated(r.id, r.customer_id, r.started_at), cdr_plaintext(r)) for r in records]


def _bill_items(bills: Sequence[Bill]) -> list[tuple[bytes, bytes]]:
    return [(bill_associated(b.id, b.customer_id, b.period), bill_plaintext(b)) for b in bills]


def write_call_detail(
    conn: Connection, sealer: CpniSealer, records: Sequence[CallDetailRecord], imported_at: Sequence[datetime]
) -> int:
    sealed = _call_items(records)
    clear = {"started_at": [r.started_at for r in records]}
    return _write_sealed(conn, sealer, CALL_DETAIL, records, imported_at, sealed, clear)


class CallKey(NamedTuple):
    """What an import checks and partitions by of a call detail record prepared elsewhere."""

    customer_id: CustomerId
    started_at: datetime


class BillKey(NamedTuple):
    customer_id: CustomerId
    period: str


SEALED_COLUMNS = ("id", "customer_id", "imported_at", "key_id", "sealed")


def copy_names(spec: SealedTable) -> tuple[str, ...]:
    """The columns of `prepare_call_detail`'s and `prepare_bills`' rows, in order."""
    return (*SEALED_COLUMNS, spec.bound)


def prepare_call_detail(
    sealer: CpniSealer, imported_at: datetime, records: Sequence[CallDetailRecord]
) -> tuple[list[CallKey], bytes]:
    """Records sealed and in COPY's text format (`bulk.copy_text`), ready for `write_prepared`:
    done by an import's worker processes, with a sealer pinned to the key the writer holds."""
    key, sealed = sealer.seal(_call_items(records))
    rows = [(r.id, r.customer_id, imported_at, key, v, r.started_at) for r, v in zip(records, sealed, strict=True)]
    return [CallKey(r.customer_id, r.started_at) for r in records], bulk.copy_text(rows)


def prepare_bills(sealer: CpniSealer, imported_at: datetime, bills: Sequence[Bill]) -> tuple[list[BillKey], bytes]:
    key, sealed = sealer.seal(_bill_items(bills))
    rows = [(b.id, b.customer_id, imported_at, key, v, b.period) for b, v in zip(bills, sealed, strict=True)]
    return [BillKey(b.customer_id, b.period) for b in bills], bulk.copy_text(rows)


def write_prepared(conn: Connection, spec: SealedTable, data: bytes) -> None:
    """Rows from `prepare_call_detail` or `prepare_bills` (PostgreSQL). The writer holds the key
    they were sealed with (`pinned_sealer`) until it commits."""
    bulk.write_copy_text(conn, spec.table, copy_names(spec), data)


def pinned_sealer(conn: Connection, sealer: CpniSealer) -> CpniSealer:
    """The sealer fixed to the current key, for worker processes; held as a writer holds it."""
    hold_keys(conn)
    return sealer.pinned()


def write_bills(conn: Connection, sealer: CpniSealer, bills: Sequence[Bill], imported_at: Sequence[datetime]) -> int:
    sealed = _bill_items(bills)
    return _write_sealed(conn, sealer, BILLS, bills, imported_at, sealed, {"period": [b.period for b in bills]})


def _write_sealed(
    conn: Connection,
    sealer: CpniSealer,
    spec: SealedTable,
    records: Sequence[CallDetailRecord] | Sequence[Bill],
    imported_at: Sequence[datetime],
    values: list[tuple[bytes, bytes]],
    clear: dict[str, list[Any]],
) -> int:
    """The records' clear columns and their sealed values, under the current key (held, see the
    module's docstring); (associated data, plaintext) pairs in `values`."""
    if not records:
        return 0
    hold_keys(conn)
    key, sealed = sealer.seal(values)
    return bulk.insert_columns(
        conn,
        spec.table,
        id=[r.id for r in records],
        customer_id=[r.customer_id for r in records],
        **clear,
        imported_at=[*imported_at],
        key_id=[key] * len(records),
        sealed=sealed,
    )


def open_rows(sealer: CpniSealer, spec: SealedTable, rows: Sequence[Any]) -> list[bytes]:
    """The plaintexts of rows read with `spec.reading()`; a broken seal names its row."""
    try:
        return sealer.open([(r.key_id, spec.associated(r), bytes(r.sealed)) for r in rows])
    except CpniSealBroken as exc:
        row = rows[exc.index] if exc.index is not None else None
        raise CpniSealBroken(
            f"{spec.what} {row.id if row else ''} failed its integrity check "
            "(altered, or moved from another row or customer): refused"
        ) from None


def open_call_detail(sealer: CpniSealer, rows: Iterable[Any]) -> list[CallDetailRecord]:
    found = list(rows)
    records = []
    for r, plain in zip(found, open_rows(sealer, CALL_DETAIL, found), strict=True):
        number, direction, other, seconds, cents, location = json.loads(plain)
        records.append(
            CallDetailRecord(
                r.id,
                CustomerId(r.customer_id),
                number,
                r.started_at,
                Direction(direction),
                other,
                seconds,
                cents,
                location,
            )
        )
    return records


def open_bills(sealer: CpniSealer, rows: Iterable[Any]) -> list[Bill]:
    found = list(rows)
    return [
        Bill(r.id, CustomerId(r.customer_id), r.period, *json.loads(plain))
        for r, plain in zip(found, open_rows(sealer, BILLS, found), strict=True)
    ]


def reseal(
    conn: Connection, sealer: CpniSealer, spec: SealedTable, after: uuid.UUID | None, limit: int
) -> tuple[int, uuid.UUID | None]:
    """Re-seals under the current key up to `limit` rows sealed under another, in id order
    after `after`: how many, and the last id (None when no row was left)."""
    hold_keys(conn)
    current = sealer.current_key()
    c = spec.table.c
    query = select(*spec.reading()).where(c.key_id != current)
    if after is not None:
        query = query.where(c.id > after)
    rows = conn.execute(query.order_by(c.id).limit(limit)).all()
    if not rows:
        return 0, None
    associated = [spec.associated(r) for r in rows]
    key, sealed = sealer.seal(list(zip(associated, open_rows(sealer, spec, rows), strict=True)))
    change = (
        update(spec.table)
        .where(c.id == bindparam("row_id"), c.key_id == bindparam("old_key"))
        .values(key_id=bindparam("new_key"), sealed=bindparam("new_sealed"))
    )
    params = [
        {"row_id": r.id, "old_key": r.key_id, "new_key": key, "new_sealed": s}
        for r, s in zip(rows, sealed, strict=True)
    ]
    conn.execute(change, params)
    return len(rows), rows[-1].id


def keys_in_use(conn: Connection) -> dict[str, dict[str, int]]:
    """Per key id, how many rows of each sealed table it sealed."""
    parts = [
        select(literal(spec.table.name).label("tbl"), spec.table.c.key_id, func.count().label("n")).group_by(
            spec.table.c.key_id
        )
        for spec in SEALED_TABLES
    ]
    used: dict[str, dict[str, int]] = {}
    for row in conn.execute(union_all(*parts)):
        used.setdefault(row.key_id, {})[row.tbl] = int(row.n)
    return used
