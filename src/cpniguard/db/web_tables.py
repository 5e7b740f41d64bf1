"""Tables of the staff console and the customer portal (issue 6): sign-in sessions and the
sign-in attempts that rate-limit them. Kept apart from `tables.py` only for size."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, String, Table

from cpniguard.db.tables import Seq, UTCDateTime, metadata

# A session is found by the SHA-256 of its cookie; the cookie itself is never stored.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(10), nullable=False),  # staff | customer
    Column("subject", String(200), nullable=False),  # the user's name, or the customer's id
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
)

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("key", String(300), nullable=False),  # who tried: "staff:NAME", "customer:EMAIL", "ip:ADDRESS"
    Column("at", UTCDateTime, nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Index("ix_login_attempts_key_at", "key", "at"),
)
