"""Tables of the breach response and the privacy office (issue 5), on the shared metadata.

Kept apart from `tables.py` only for size; the migration 0006 creates them.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from cpniguard.db.tables import UTCDateTime, metadata

# CAL-3, CAL-6: days the Commission's headquarters is closed beyond the federal holidays
# (an executive-order closure, a shutdown), kept by compliance staff.
closure_days = Table(
    "closure_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("reason", String(400), nullable=False),
    Column("added_by", String(200), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
)

# BREACH-6, BREACH23-10: one row per incident with its current facts; the timeline of how they
# came to be is `breach_events`. Rows are never deleted before `records_kept_until`.
breach_incidents = Table(
    "breach_incidents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("rules", String(10), nullable=False),  # 2007 | 2023 | strictest (AMB-1)
    Column("discovered_at", UTCDateTime, nullable=False),
    Column("determined_at", UTCDateTime),  # AMB-13, BREACH23-11: the clocks run from this
    Column("determined_by", String(200)),
    Column("determination_reason", Text),
    Column("investigation_closed_at", UTCDateTime),
    Column("intent", String(20), nullable=False),  # intentional | inadvertent | good-faith
    Column("good_faith_reason", Text),
    Column("cpni_description", Text, nullable=False),  # "" when no CPNI was involved
    Column("other_data_description", Text, nullable=False),  # PII beyond CPNI (BREACH23-2)
    Column("data_types", String(400), nullable=False),  # comma-separated DATA_TYPES
    Column("circumstances", Text, nullable=False),
    Column("method_of_compromise", Text, nullable=False),
    Column("incident_start", Date),
    Column("incident_end", Date),
    Column("affected_count", Integer),  # None: unknown
    Column("affected_count_basis", Text, nullable=False),
    Column("harm_likely", Boolean),  # None: not assessed
    Column("harm_reasoning", Text, nullable=False),
    Column("harm_decided_by", String(200)),
    Column("harm_evidence", Text, nullable=False),
    Column("encrypted", Boolean, nullable=False),
    Column("key_compromised", String(10), nullable=False),  # yes | no | unknown
    Column("financial_loss", Text, nullable=False),  # BREACH23-4(vi): may say none/unknown
    Column("urgent_need", Boolean, nullable=False),  # BREACH-3: stated in the agency notice
    Column("law_enforcement_notified_at", UTCDateTime),
    Column("law_enforcement_pending_reason", Text, nullable=False),
    Column("customer_notices_at", UTCDateTime),  # when the customer notices were queued
    Column("last_notice_at", UTCDateTime),
    Column("records_kept_until", Date, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# The timeline: every fact, document, notice and reminder, append-only.
breach_events = Table(
    "breach_events",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("incident_id", Uuid, ForeignKey("breach_incidents.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("at", UTCDateTime, nullable=False),  # when it happened (may be before it was entered)
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("by", String(200), nullable=False),
    Column("details", Text, nullable=False),  # JSON
    Column("document_id", Uuid, ForeignKey("breach_documents.id")),
    Index("ix_breach_events_incident", "incident_id", "at"),
)

# BREACH-4, BREACH23-6: written directions, extensions and all-clears, kept as received.
breach_documents = Table(
    "breach_documents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("incident_id", Uuid, ForeignKey("breach_incidents.id"), nullable=False, index=True),
    Column("filename", String(200), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("added_by", String(200), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
)

breach_affected = Table(
    "breach_affected",
    metadata,
    Column("incident_id", Uuid, ForeignKey("breach_incidents.id"), primary_key=True),
    Column("customer_id", Uuid, ForeignKey("customers.id"), primary_key=True),
    Column("notice_id", Uuid),  # the outbox message that told this customer, once queued
    Column("noticed_at", UTCDateTime),
)

# Privacy policy versions (the carrier's own text, per language; company policy, not 64.2008).
policy_versions = Table(
    "policy_versions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("version", String(40), nullable=False),
    Column("language", String(2), nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("text", Text, nullable=False),  # Markdown
    Column("summary", Text, nullable=False),  # what changed, for the notice and the portal
    Column("material", Boolean, nullable=False),
    Column("published_by", String(200), nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
    UniqueConstraint("version", "language"),
)

# CERT-3: complaints about unauthorised release of CPNI, by category.
complaints = Table(
    "complaints",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("category", String(40), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("customer_id", Uuid, ForeignKey("customers.id")),
    Column("summary", Text, nullable=False),
    Column("status", String(20), nullable=False),  # open | closed
    Column("resolution", Text, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_complaints_received", "received_at"),
)

# CERT-3: actions against data brokers (proceedings, petitions) in a year.
data_broker_actions = Table(
    "data_broker_actions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("taken_on", Date, nullable=False),
    Column("forum", String(40), nullable=False),  # state-commission | court | fcc | other
    Column("broker", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

# SAFE-2: who was trained on the use of CPNI, when, and until when it counts.
training_records = Table(
    "training_records",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("staff_name", String(200), nullable=False, index=True),
    Column("course", String(200), nullable=False),
    Column("completed_on", Date, nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

# CERT-1..CERT-5: each certification built, with what it said.
certifications = Table(
    "certifications",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("year", Integer, nullable=False),
    Column("built_at", UTCDateTime, nullable=False),
    Column("built_by", String(200), nullable=False),
    Column("signatory", String(200)),
    Column("draft", Boolean, nullable=False),
    Column("content", Text, nullable=False),  # the JSON document
    Column("pdf_sha256", String(64), nullable=False),
)
