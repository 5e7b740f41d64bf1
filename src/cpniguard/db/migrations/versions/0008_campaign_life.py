"""A campaign's completion and its audience's exclusions; opt-out notices answered by email.

`campaigns.completed_at` is when a campaign's records start their year (SAFE-3, AMB-8): the
purge keeps its audience snapshot until a year after it. `campaigns.audience_excluded` holds the
customers left out of the frozen audience, counted by reason. A campaign's channel is one of
email, mail, phone and sms from now on; the export used to treat any other value as email, so
such rows become email, which is what they were exported as.

`outbox.letter_body` is the text of a letter stop when it differs from the email's (an opt-out
notice tells an email reader to reply, a letter reader to write or call), and `outbox.reply_to`
where a reply to the email goes (NOTICE-8: the marketing mailbox that records opt-outs).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CHANNELS = ("email", "mail", "phone", "sms")


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("audience_excluded", sa.Text(), nullable=True))
    campaigns = sa.table("campaigns", sa.column("channel", sa.String(20)))
    op.execute(campaigns.update().where(campaigns.c.channel.not_in(CHANNELS)).values(channel="email"))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("letter_body", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reply_to", sa.String(length=400), nullable=True))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN, not a batch copy: on SQLite a copy of `campaigns` would have
    # to drop the table its events and disclosures refer to (SQLite has DROP COLUMN since 3.35).
    for table, column in (
        ("outbox", "reply_to"),
        ("outbox", "letter_body"),
        ("campaigns", "audience_excluded"),
        ("campaigns", "completed_at"),
    ):
        op.drop_column(table, column)
