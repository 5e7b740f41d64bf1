"""Call detail by month on PostgreSQL: one partition per calendar month (UTC) of `started_at`.

Tens of millions of calls a year make one table whose index outgrows memory and whose retention
purge would be a DELETE of millions of rows; a month per partition keeps a month's index small
and lets the purge drop a whole month at once. SQLite keeps one table, and all of this is a no-op.

A month's partition is made before the first row of that month is written, in a short
transaction of its own on another connection, so that a long import does not hold a lock on
the table for its whole length. It is made apart and then attached (ATTACH takes only a
SHARE UPDATE EXCLUSIVE lock on the table, which writers and readers pass): CREATE TABLE ...
PARTITION OF would need an ACCESS EXCLUSIVE lock, which waits for the writer's own open
transaction. Rows of that month that were put in the DEFAULT partition are moved into the new
one first, as ATTACH refuses a range the default holds rows of. The writer then locks the new
partition, which makes its transaction see it (PostgreSQL reads pending catalog changes when a
transaction takes a lock it did not hold). A writer whose transaction holds locks ATTACH needs
makes the month in its own transaction instead (`holds_what_attach_needs`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from psycopg.errors import LockNotAvailable
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from cpniguard.errors import Conflict

TABLE = "call_detail_records"
DEFAULT = f"{TABLE}_default"
PARTITION_LOCK = 0x43445250  # "CDRP": makers of partitions take turns (two would make the same month)
LOCK_TIMEOUT = "15s"  # how long a month waits for another transaction that holds what ATTACH needs


def month_of(at: datetime) -> date:
    utc = at.astimezone(UTC)
    return date(utc.year, utc.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_{month:%Y_%m}"


def _bound(month: date) -> str:
    return f"'{month.isoformat()} 00:00:00'"  # `timestamp without time zone`, holding UTC


PARTITION = re.compile(rf"^{TABLE}_(\d{{4}}_\d{{2}}|default)$")


def not_a_partition(name: str | None, type_: str, parents: Mapping[Any, str | None]) -> bool:
    """For Alembic's autogenerate: the partitions and their indexes are not in the metadata."""
    table = name if type_ == "table" else parents.get("table_name")
    return not (table and PARTITION.match(table))


def partitioned(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def months(conn: Connection) -> dict[date, str]:
    """The months that have a partition, and its name."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:parent)"
        ),
        {"parent": TABLE},
    ).scalars()
    found: dict[date, str] = {}
    for name in rows:
        if (named := PARTITION.match(name)) and name != DEFAULT:
            year, month = named.group(1).split("_")
            found[date(int(year), int(month), 1)] = name
    return found


def create_month(conn: Connection, month: date) -> None:
    """Makes `month`'s partition in the connection's transaction, moving its rows out of the default."""
    name, low, high = partition_name(month), _bound(month), _bound(next_month(month))
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PARTITION_LOCK})
    if month in months(conn):
        return  # another writer made it while this one waited
    conn.exec_driver_sql(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)")
    conn.exec_driver_sql(
        f"WITH moved AS (DELETE FROM {DEFAULT} WHERE started_at >= {low} AND started_at < {high} RETURNING *) "
        f"INSERT INTO {name} SELECT * FROM moved"
    )
    conn.exec_driver_sql(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})")


def create_months(engine: Engine, wanted: Iterable[date]) -> None:
    """Each month in a transaction of its own, on a connection of its own."""
    with engine.connect() as conn:
        for month in sorted(set(wanted)):
            try:
                with conn.begin():
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                    create_month(conn, month)
            except OperationalError as exc:
                if not isinstance(exc.orig, LockNotAvailable):
                    raise
                raise Conflict(
                    f"call detail of {month:%Y-%m} needs its partition, and another transaction writing customers "
                    "or reading call detail holds the table: try again once it has finished"
                ) from None


class MonthlyPartitions:
    """The months a unit of work has seen a partition for; makes the missing ones before a write."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._known: set[date] | None = None

    def ensure(self, started: Iterable[datetime]) -> None:
        if not partitioned(self._conn):
            return
        wanted = {month_of(at) for at in started}
        if self._known is None:
            self._known = set(months(self._conn))
        missing = wanted - self._known
        if not missing:
            return
        if holds_what_attach_needs(self._conn):
            for month in sorted(missing):
                create_month(self._conn, month)
        else:
            create_months(self._conn.engine, missing)
            for month in sorted(missing):  # see the module's docstring: this transaction now sees it
                self._conn.exec_driver_sql(f"LOCK TABLE {partition_name(month)} IN ROW EXCLUSIVE MODE")
        self._known |= missing


# ATTACH locks the default partition (ACCESS EXCLUSIVE) and, to give the new partition its
# foreign key, `customers` (SHARE ROW EXCLUSIVE). A transaction that holds a lock in conflict
# with those (it read call detail, or wrote customers, as the demo loader does) would wait on
# itself if another connection attached: it makes the month itself, holding them to its commit.
CONFLICTING = """
SELECT EXISTS (
    SELECT 1 FROM pg_locks WHERE pid = pg_backend_pid() AND (
        relation = to_regclass(:default_partition)
        OR (relation = to_regclass('customers') AND mode NOT IN ('AccessShareLock', 'RowShareLock'))))
"""


def holds_what_attach_needs(conn: Connection) -> bool:
    return bool(conn.execute(text(CONFLICTING), {"default_partition": DEFAULT}).scalar_one())


def drop_months_before(conn: Connection, before: datetime) -> int:
    """Drops the partitions of months that ended at or before `before`; how many rows they held."""
    dropped = 0
    for month, name in sorted(months(conn).items()):
        if _start(next_month(month)) <= before:
            dropped += int(conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one())
            conn.exec_driver_sql(f"DROP TABLE {name}")
    return dropped


def _start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)
