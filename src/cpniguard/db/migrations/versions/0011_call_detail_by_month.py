"""PostgreSQL: call detail partitioned by month of `started_at` (db/cdr_partitions.py).

The table becomes a table partitioned by RANGE (started_at), with one partition for each month
that has calls and a DEFAULT partition for rows of a month not made yet (writers make the month
first, so it stays empty). A partitioned table's primary key must hold the partition key, so
the key is (id, started_at); ids are random UUIDs made in Python, unique on their own. Rows
are moved over month by month; the sealed values do not change, as their associated data
names the table `call_detail_records`, not a partition. SQLite keeps one table: nothing to do.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

from datetime import UTC

from alembic import op
from sqlalchemy import text

from cpniguard.db.cdr_partitions import DEFAULT, TABLE, create_month, month_of

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OLD = f"{TABLE}_unpartitioned"
COLUMNS = """
    id uuid NOT NULL,
    customer_id uuid NOT NULL,
    started_at timestamp without time zone NOT NULL,
    imported_at timestamp without time zone NOT NULL,
    key_id varchar(32) NOT NULL,
    sealed bytea NOT NULL
"""
CONSTRAINTS = ("pk_call_detail_records", "fk_call_detail_records_customer_id_customers")
INDEX = "ix_call_detail_records_customer_started"


def _set_aside() -> None:
    op.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    for name in CONSTRAINTS:
        op.execute(f"ALTER TABLE {OLD} RENAME CONSTRAINT {name} TO {name}_old")
    op.execute(f"ALTER INDEX {INDEX} RENAME TO {INDEX}_old")


def _keys(key: str) -> str:
    return (
        f"CONSTRAINT pk_call_detail_records PRIMARY KEY ({key}), "
        "CONSTRAINT fk_call_detail_records_customer_id_customers FOREIGN KEY (customer_id) REFERENCES customers (id)"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _set_aside()
    op.execute(f"CREATE TABLE {TABLE} ({COLUMNS}, {_keys('id, started_at')}) PARTITION BY RANGE (started_at)")
    op.execute(f"CREATE INDEX {INDEX} ON {TABLE} (customer_id, started_at)")
    op.execute(f"CREATE TABLE {DEFAULT} PARTITION OF {TABLE} DEFAULT")
    conn = op.get_bind()
    starts = conn.execute(text(f"SELECT DISTINCT date_trunc('month', started_at) FROM {OLD}")).scalars()
    for start in sorted(starts):
        create_month(conn, month_of(start.replace(tzinfo=UTC)))  # stored as UTC without an offset
    op.execute(f"INSERT INTO {TABLE} SELECT id, customer_id, started_at, imported_at, key_id, sealed FROM {OLD}")
    op.execute(f"DROP TABLE {OLD}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _set_aside()
    op.execute(f"CREATE TABLE {TABLE} ({COLUMNS}, {_keys('id')})")
    op.execute(f"CREATE INDEX {INDEX} ON {TABLE} (customer_id, started_at)")
    op.execute(f"INSERT INTO {TABLE} SELECT id, customer_id, started_at, imported_at, key_id, sealed FROM {OLD}")
    op.execute(f"DROP TABLE {OLD}")  # and its partitions with it
