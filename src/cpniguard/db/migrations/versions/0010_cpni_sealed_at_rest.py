"""CPNI at rest: call detail records and bills sealed with AES-GCM (BREACH23-8).

The columns that held the record in clear become one sealed value and the id of its key
(db/cpni_sealing.py). Rows already stored are sealed here, in batches by id, with the keys
`cpniguard init` passes in (`db.migrate.upgrade(engine, sealer)`); without them a table with
rows is refused, and nothing changes. On SQLite the pages that held the clear columns are
overwritten with zeros (secure_delete) and `upgrade` empties the write-ahead log afterwards;
on PostgreSQL `upgrade` rewrites both tables (VACUUM FULL) once this revision has run.

Downgrade opens every row again and restores the clear columns; it needs the keys as well.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from cpniguard.customers.records import Bill, CallDetailRecord, Direction
from cpniguard.db.cpni_sealing import (
    BILLS,
    CALL_DETAIL,
    SealedTable,
    bill_associated,
    bill_plaintext,
    cdr_associated,
    cdr_plaintext,
    open_bills,
    open_call_detail,
)
from cpniguard.db.tables import UTCDateTime
from cpniguard.errors import CpniKeyUnavailable
from cpniguard.ports import CpniSealer

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 2_000

Columns = tuple[tuple[str, sa.types.TypeEngine[Any]], ...]

CDR_CLEAR: Columns = (
    ("service_number", sa.String(length=20)),
    ("direction", sa.String(length=10)),
    ("other_party_number", sa.String(length=20)),
    ("duration_seconds", sa.Integer()),
    ("charge_cents", sa.Integer()),
    ("location", sa.String(length=100)),
)
BILL_CLEAR: Columns = (
    ("account_number", sa.String(length=40)),
    ("total_cents", sa.Integer()),
    ("local_charges_cents", sa.Integer()),
    ("long_distance_charges_cents", sa.Integer()),
    ("directory_assistance_charges_cents", sa.Integer()),
    ("feature_charges_cents", sa.Integer()),
    ("minutes_used", sa.Integer()),
)
SEALED: Columns = (("key_id", sa.String(length=32)), ("sealed", sa.LargeBinary()))
TABLES = (("call_detail_records", CDR_CLEAR), ("bills", BILL_CLEAR))


def _table(name: str, bound: sa.ColumnClause[Any], clear: Columns) -> sa.TableClause:
    both = [sa.column(n, kind) for n, kind in (*clear, *SEALED)]
    return sa.table(name, sa.column("id", sa.Uuid()), sa.column("customer_id", sa.Uuid()), bound, *both)


CDRS = _table("call_detail_records", sa.column("started_at", UTCDateTime()), CDR_CLEAR)
BILL_ROWS = _table("bills", sa.column("period", sa.String()), BILL_CLEAR)


def _sealer(conn: sa.Connection, table: sa.TableClause) -> CpniSealer | None:
    sealer: CpniSealer | None = context.config.attributes.get("cpni_sealer")
    if sealer is None and conn.execute(sa.select(table.c.id).limit(1)).first() is not None:
        raise CpniKeyUnavailable(
            f"{table.name} has rows to seal or open and no CPNI key was given: run `cpniguard init`, "
            "which makes the keyring, or set CPNIGUARD_CPNI_KEY"
        )
    return sealer


def _batches(conn: sa.Connection, table: sa.TableClause, columns: list[Any]) -> Iterator[Sequence[Any]]:
    after = None
    while True:
        query = sa.select(*columns).order_by(table.c.id).limit(BATCH)
        rows = conn.execute(query if after is None else query.where(table.c.id > after)).all()
        if not rows:
            return
        yield rows
        after = rows[-1].id


def _cdr(r: Any) -> tuple[bytes, bytes]:
    record = CallDetailRecord(
        r.id,
        r.customer_id,
        r.service_number,
        r.started_at,
        Direction(r.direction),
        r.other_party_number,
        r.duration_seconds,
        r.charge_cents,
        r.location,
    )
    return cdr_associated(r.id, r.customer_id, r.started_at), cdr_plaintext(record)


def _bill(r: Any) -> tuple[bytes, bytes]:
    bill = Bill(r.id, r.customer_id, r.period, *(getattr(r, name) for name, _ in BILL_CLEAR))
    return bill_associated(r.id, r.customer_id, r.period), bill_plaintext(bill)


def _seal_rows(conn: sa.Connection, table: sa.TableClause, pair: Callable[[Any], tuple[bytes, bytes]]) -> None:
    sealer = _sealer(conn, table)
    if sealer is None:
        return
    change = sa.update(table).where(table.c.id == sa.bindparam("row_id"))
    change = change.values(key_id=sa.bindparam("new_key"), sealed=sa.bindparam("new_sealed"))
    for rows in _batches(conn, table, list(table.c)):
        key, sealed = sealer.seal([pair(r) for r in rows])
        params = [{"row_id": r.id, "new_key": key, "new_sealed": s} for r, s in zip(rows, sealed, strict=True)]
        conn.execute(change, params)


def _open_rows(conn: sa.Connection, table: sa.TableClause, spec: SealedTable, clear: Columns) -> None:
    sealer = _sealer(conn, table)
    if sealer is None:
        return
    names = [name for name, _ in clear]
    change = sa.update(table).where(table.c.id == sa.bindparam("row_id"))
    change = change.values({n: sa.bindparam(f"new_{n}") for n in names})
    reading = [table.c.id, table.c.customer_id, table.c[spec.bound], table.c.key_id, table.c.sealed]
    for rows in _batches(conn, table, reading):
        opened: list[Any] = open_call_detail(sealer, rows) if spec is CALL_DETAIL else open_bills(sealer, rows)
        values = [{"row_id": x.id, **{f"new_{n}": _plain(getattr(x, n)) for n in names}} for x in opened]
        conn.execute(change, values)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Direction) else value


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        op.execute("PRAGMA secure_delete = ON")  # freed pages that held clear CPNI are zeroed, not left behind
    for name, _ in TABLES:
        with op.batch_alter_table(name) as batch:
            for column, kind in SEALED:
                batch.add_column(sa.Column(column, kind, nullable=True))
    _seal_rows(conn, CDRS, _cdr)
    _seal_rows(conn, BILL_ROWS, _bill)
    for name, clear in TABLES:
        with op.batch_alter_table(name) as batch:
            for column, _ in clear:
                batch.drop_column(column)
            for column, kind in SEALED:
                batch.alter_column(column, existing_type=kind, nullable=False)


def downgrade() -> None:
    conn = op.get_bind()
    for name, clear in TABLES:
        with op.batch_alter_table(name) as batch:
            for column, kind in clear:
                batch.add_column(sa.Column(column, kind, nullable=True))
    _open_rows(conn, CDRS, CALL_DETAIL, CDR_CLEAR)
    _open_rows(conn, BILL_ROWS, BILLS, BILL_CLEAR)
    for name, clear in TABLES:
        with op.batch_alter_table(name) as batch:
            for column, _ in SEALED:
                batch.drop_column(column)
            for column, kind in clear:
                batch.alter_column(column, existing_type=kind, nullable=False)
