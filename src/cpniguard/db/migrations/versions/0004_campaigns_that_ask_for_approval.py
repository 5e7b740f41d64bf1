"""Campaigns that ask customers for their approval (SAFE-4): a flag on the campaign.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 15:11:53.777491
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("asks_for_approval", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("asks_for_approval")
