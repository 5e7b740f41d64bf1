"""A campaign's frozen audience as one row: its customers' ids sorted and packed, 16 bytes each.

One row per customer (`campaign_audience`) made the build of a million-customer audience cost
18x the COUNT of the same customers on PostgreSQL (benchmarks/scale.py): each row paid for its
primary key on a random UUID, the foreign key's check and the write-ahead log. Packed, the
build is one INSERT ... SELECT of one value. Existing snapshots move over unchanged.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OLD, NEW = "campaign_audience", "campaign_audiences"


def upgrade() -> None:
    op.create_table(
        NEW,
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("customers", sa.LargeBinary(), nullable=False),
        sa.Column("included", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_audiences_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaign_audiences")),
    )
    conn = op.get_bind()
    old = sa.table(OLD, sa.column("campaign_id", sa.Uuid()), sa.column("customer_id", sa.Uuid()))
    new = sa.table(
        NEW, sa.column("campaign_id", sa.Uuid()), sa.column("customers", sa.LargeBinary()), sa.column("included")
    )
    campaigns = [row[0] for row in conn.execute(sa.select(old.c.campaign_id).distinct())]
    for campaign in campaigns:
        ids = sorted(r[0] for r in conn.execute(sa.select(old.c.customer_id).where(old.c.campaign_id == campaign)))
        packed = b"".join(i.bytes for i in ids)
        conn.execute(sa.insert(new).values(campaign_id=campaign, customers=packed, included=len(ids)))
    op.drop_table(OLD)


def downgrade() -> None:
    op.create_table(
        OLD,
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_audience_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("campaign_id", "customer_id", name=op.f("pk_campaign_audience")),
    )
    conn = op.get_bind()
    old = sa.table(OLD, sa.column("campaign_id", sa.Uuid()), sa.column("customer_id", sa.Uuid()))
    new = sa.table(NEW, sa.column("campaign_id", sa.Uuid()), sa.column("customers", sa.LargeBinary()))
    for campaign, packed in conn.execute(sa.select(new.c.campaign_id, new.c.customers)).all():
        rows = [
            {"campaign_id": campaign, "customer_id": uuid.UUID(bytes=bytes(packed[i : i + 16]))}
            for i in range(0, len(packed), 16)
        ]
        if rows:
            conn.execute(sa.insert(old), rows)
    op.drop_table(NEW)
