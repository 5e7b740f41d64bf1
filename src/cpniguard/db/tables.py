"""SQLAlchemy Core tables: portable between SQLite and PostgreSQL (rule 8).

Every CPNI table keeps `customer_id`, so the schema can be distributed by customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    any_,
    bindparam,
    false,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """The one datetime type: stored as UTC without an offset, read back as aware UTC."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return parsed.replace(tzinfo=UTC)


# A 64-bit key that is also SQLite's rowid alias (so it autoincrements there).
Seq = BigInteger().with_variant(Integer(), "sqlite")


def _customer_fk(**kw: Any) -> Column[Any]:
    return Column("customer_id", Uuid, ForeignKey("customers.id"), nullable=False, **kw)


customers = Table(
    "customers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("language", String(2), nullable=False),
    Column("listing_status", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_customers_name", "name"),
)

services = Table(
    "services",
    metadata,
    Column("id", Uuid, primary_key=True),
    _customer_fk(index=True),
    Column("category", String(40), nullable=False),
    Column("telephone_number", String(20)),
    Column("added_at", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Uuid, primary_key=True),
    _customer_fk(index=True),
    Column("kind", String(20), nullable=False),
    Column("value", String(400), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime),
    Index("ix_contacts_value", "value"),
)

# CPNI at rest (BREACH23-8, db/cpni_sealing.py): in clear only what indexes, retention and the
# monthly partitioning to come need; the record itself is `sealed` (AES-GCM) under `key_id`.
call_detail_records = Table(
    "call_detail_records",
    metadata,
    Column("id", Uuid, primary_key=True),
    _customer_fk(),
    # On PostgreSQL partitioned by month of started_at (0011, db/cdr_partitions.py), so the key
    # must hold it: (id, started_at) there; SQLite's table keeps the key id alone.
    Column("started_at", UTCDateTime, primary_key=True),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Index("ix_call_detail_records_customer_started", "customer_id", "started_at"),
)

bills = Table(
    "bills",
    metadata,
    Column("id", Uuid, primary_key=True),
    _customer_fk(),
    Column("period", String(7), nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    UniqueConstraint("customer_id", "period"),
)

consent_events = Table(
    "consent_events",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("id", Uuid, nullable=False, unique=True),
    _customer_fk(),
    Column("kind", String(40), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("evidence", Text, nullable=False, default=""),
    Index("ix_consent_events_customer_at", "customer_id", "at"),
)

# The fold of consent_events per customer, written in the same transaction as each event.
consent_state = Table(
    "consent_state",
    metadata,
    Column("customer_id", Uuid, ForeignKey("customers.id"), primary_key=True),
    Column("objection_event", Uuid),
    Column("objection_since", UTCDateTime),
    Column("opt_in_event", Uuid),
    Column("opt_in_since", UTCDateTime),
    Column("notice_event", Uuid),
    Column("presumed_from", UTCDateTime),
    Column("renotice_due", UTCDateTime),
    Column("last_event_at", UTCDateTime),
    Column("events_applied", Integer, nullable=False),
)

# Stored as the very text that is hashed (audit.model.StoredEntry): ids as dashed UUIDs, `at` as
# 2026-03-02T15:00:00.000000Z, so verifying hashes what it reads. seq is the key; `id` has no
# unique index (a uuid4, and a random-key index cost more than hashing on every append).
audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=False),
    Column("id", String(36), nullable=False),
    Column("at", String(27), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("customer_id", String(36)),  # no foreign key: the ledger outlives any purge
    Column("categories", String(200), nullable=False),
    Column("purpose", String(60), nullable=False),
    Column("basis", String(200), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_entries_customer_id", "customer_id"),  # a customer's history
)

# One row: the chain head. Appenders lock it, so the chain stays one line on PostgreSQL too.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=False),
    Column("head_hash", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("public_key", String(100), nullable=False),
    Column("signature", String(200), nullable=False),
)

# A message to a customer, committed with the change it announces (AMB-4) and delivered by the
# worker. `route` is the channels to try in order, as JSON [[channel, recipient], ...]; `step`
# is the one being tried. A claimed row is `sending` until `lease_until`; a worker that died
# leaves it to be claimed again, and the resend carries the same idempotency key.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("customer_id", Uuid),
    Column("event", String(60), nullable=False),
    Column("language", String(2), nullable=False),
    Column("route", Text, nullable=False),
    Column("step", Integer, nullable=False),
    Column("channel", String(20), nullable=False),
    Column("recipient", String(400), nullable=False),
    Column("subject", String(400), nullable=False),
    Column("body", Text, nullable=False),
    Column("letter_body", Text),  # the text for a letter stop, when it differs from the email's
    Column("reply_to", String(400)),  # where a reply to an email goes (NOTICE-8: the opt-out mailbox)
    Column("confidential", Boolean, nullable=False),  # a one-time code: never listed in full
    Column("attachment_name", String(200)),
    Column("attachment", LargeBinary),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("claimed_by", String(100)),
    Column("delivered_at", UTCDateTime),
    Column("last_error", Text),
    Index("ix_outbox_due", "status", "next_attempt_at"),
    Index("ix_outbox_customer_id", "customer_id"),
)

# Evidence of every delivery attempt: append-only.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("message_id", Uuid, ForeignKey("outbox.id"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("channel", String(20), nullable=False),
    Column("recipient", String(400), nullable=False),
    Column("idempotency_key", String(100), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("outcome", String(30), nullable=False),
    Column("provider_reference", String(400)),
    Column("error", Text),
    Column("worker", String(100), nullable=False),
)

# One current credential per customer and kind; history lives in the audit ledger.
credentials = Table(
    "credentials",
    metadata,
    _customer_fk(primary_key=True),
    Column("id", Uuid, nullable=False),
    Column("kind", String(20), primary_key=True),
    Column("secret_hash", String(400), nullable=False),
    Column("question", String(400)),
    Column("set_at", UTCDateTime, nullable=False),
    Column("verified_by", String(30), nullable=False),
)

auth_attempts = Table(
    "auth_attempts",
    metadata,
    Column("id", Uuid, primary_key=True),
    _customer_fk(),
    Column("kind", String(20), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Index("ix_auth_attempts_customer_kind_at", "customer_id", "kind", "at"),
)

one_time_codes = Table(
    "one_time_codes",
    metadata,
    Column("id", Uuid, primary_key=True),
    _customer_fk(index=True),
    Column("purpose", String(40), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("recipient", String(400), nullable=False),
    Column("code_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used_at", UTCDateTime),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("customer_id", Uuid, ForeignKey("customers.id"), index=True),
    Column("kind", String(40), nullable=False),
    Column("raised_at", UTCDateTime, nullable=False),
    Column("details", Text, nullable=False),
    Column("resolved_at", UTCDateTime),
)

call_sessions = Table(
    "call_sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    _customer_fk(index=True),
    Column("agent", String(200), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("proof", String(30), nullable=False),
    Column("via_representative", Boolean, nullable=False),
    Column("single_call_id", Uuid),  # AUTH-4: the one call the caller described unaided
)

business_exemptions = Table(
    "business_exemptions",
    metadata,
    _customer_fk(primary_key=True),
    Column("representative", String(200)),
    Column("contract_id", String(100)),
    Column("cpni_clause", Boolean, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("roles", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("corporate_officer", Boolean, nullable=False, server_default=false()),  # CERT-1
    Column("title", String(200), nullable=False, server_default=""),  # CERT-5: the signatory's title
    Column("password_hash", String(200)),  # argon2id; None: may not sign in to the console
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("purpose", String(60), nullable=False),
    Column("offer", String(400), nullable=False),
    Column("offer_category", String(40)),
    Column("communications_related", Boolean, nullable=False),
    Column("cpni", String(200), nullable=False),
    Column("recipients", String(200), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("submitted_by", String(200)),
    Column("audience_built_at", UTCDateTime),
    Column("audience_for", UTCDateTime),
    Column("asks_for_approval", Boolean, nullable=False, server_default=false()),
    Column("description", Text, nullable=False, server_default=""),
    Column("segment", String(40)),
    # SAFE-3, AMB-8: the campaign's records are kept at least a year after this moment.
    Column("completed_at", UTCDateTime),
    Column("audience_excluded", Text),  # JSON: customers left out of the snapshot, by reason
)

# Every transition of a campaign, with who, when and why: append-only (SAFE-3, SAFE-4).
campaign_events = Table(
    "campaign_events",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("campaign_id", Uuid, ForeignKey("campaigns.id"), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("by", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False),
)

# The audience frozen when it was built (re-checked against consent at send time): one row per
# campaign, its customers' ids sorted and packed 16 bytes each (db/audience_sets.py, 0012).
campaign_audiences = Table(
    "campaign_audiences",
    metadata,
    Column("campaign_id", Uuid, ForeignKey("campaigns.id"), primary_key=True),
    Column("customers", LargeBinary, nullable=False),
    Column("included", Integer, nullable=False),
)

# One row per customer whose CPNI a campaign export gave to a third party: append-only (SAFE-3).
disclosures = Table(
    "disclosures",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("campaign_id", Uuid, ForeignKey("campaigns.id"), nullable=False, index=True),
    Column("customer_id", Uuid, nullable=False, index=True),
    Column("recipient", String(40), nullable=False),
    Column("categories", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("by", String(200), nullable=False),
    Column("export_id", Uuid, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("scopes", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("revoked_at", UTCDateTime),
)


def one_of(conn: Connection, column: Column[Any], ids: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN ids`. On PostgreSQL as `= ANY(array)`: one statement text for any number
    of ids, so the server prepares it once (an IN list is a new statement for every length)."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam("ids", list(ids), type_=postgresql.ARRAY(column.type)))
    return column.in_(list(ids))
