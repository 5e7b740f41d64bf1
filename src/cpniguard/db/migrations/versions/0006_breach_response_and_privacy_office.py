"""Breach incidents with their timeline, documents and affected customers (the timeline and
the documents append-only, BREACH-6); closure days (CAL-3); privacy policy versions,
complaints, data-broker actions, training records and certifications; the officer flag and
title of staff users (CERT-1, CERT-5).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 16:14:24.701420
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cpniguard.db.append_only import make_append_only

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "breach_incidents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("rules", sa.String(length=10), nullable=False),
        sa.Column("discovered_at", sa.DateTime(), nullable=False),
        sa.Column("determined_at", sa.DateTime(), nullable=True),
        sa.Column("determined_by", sa.String(length=200), nullable=True),
        sa.Column("determination_reason", sa.Text(), nullable=True),
        sa.Column("investigation_closed_at", sa.DateTime(), nullable=True),
        sa.Column("intent", sa.String(length=20), nullable=False),
        sa.Column("good_faith_reason", sa.Text(), nullable=True),
        sa.Column("cpni_description", sa.Text(), nullable=False),
        sa.Column("other_data_description", sa.Text(), nullable=False),
        sa.Column("data_types", sa.String(length=400), nullable=False),
        sa.Column("circumstances", sa.Text(), nullable=False),
        sa.Column("method_of_compromise", sa.Text(), nullable=False),
        sa.Column("incident_start", sa.Date(), nullable=True),
        sa.Column("incident_end", sa.Date(), nullable=True),
        sa.Column("affected_count", sa.Integer(), nullable=True),
        sa.Column("affected_count_basis", sa.Text(), nullable=False),
        sa.Column("harm_likely", sa.Boolean(), nullable=True),
        sa.Column("harm_reasoning", sa.Text(), nullable=False),
        sa.Column("harm_decided_by", sa.String(length=200), nullable=True),
        sa.Column("harm_evidence", sa.Text(), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("key_compromised", sa.String(length=10), nullable=False),
        sa.Column("financial_loss", sa.Text(), nullable=False),
        sa.Column("urgent_need", sa.Boolean(), nullable=False),
        sa.Column("law_enforcement_notified_at", sa.DateTime(), nullable=True),
        sa.Column("law_enforcement_pending_reason", sa.Text(), nullable=False),
        sa.Column("customer_notices_at", sa.DateTime(), nullable=True),
        sa.Column("last_notice_at", sa.DateTime(), nullable=True),
        sa.Column("records_kept_until", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breach_incidents")),
    )
    op.create_table(
        "certifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.Column("built_by", sa.String(length=200), nullable=False),
        sa.Column("signatory", sa.String(length=200), nullable=True),
        sa.Column("draft", sa.Boolean(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certifications")),
    )
    op.create_table(
        "closure_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_closure_days")),
    )
    op.create_table(
        "data_broker_actions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("forum", sa.String(length=40), nullable=False),
        sa.Column("broker", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_broker_actions")),
    )
    op.create_table(
        "policy_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("material", sa.Boolean(), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_versions")),
        sa.UniqueConstraint("version", "language", name=op.f("uq_policy_versions_version_language")),
    )
    op.create_table(
        "training_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("staff_name", sa.String(length=200), nullable=False),
        sa.Column("course", sa.String(length=200), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_records")),
    )
    with op.batch_alter_table("training_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_records_staff_name"), ["staff_name"], unique=False)

    op.create_table(
        "breach_affected",
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("notice_id", sa.Uuid(), nullable=True),
        sa.Column("noticed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_breach_affected_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["breach_incidents.id"], name=op.f("fk_breach_affected_incident_id_breach_incidents")
        ),
        sa.PrimaryKeyConstraint("incident_id", "customer_id", name=op.f("pk_breach_affected")),
    )
    op.create_table(
        "breach_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["breach_incidents.id"], name=op.f("fk_breach_documents_incident_id_breach_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breach_documents")),
    )
    with op.batch_alter_table("breach_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_breach_documents_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "complaints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_complaints_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index("ix_complaints_received", ["received_at"], unique=False)

    op.create_table(
        "breach_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["breach_documents.id"], name=op.f("fk_breach_events_document_id_breach_documents")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["breach_incidents.id"], name=op.f("fk_breach_events_incident_id_breach_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_breach_events")),
    )
    with op.batch_alter_table("breach_events", schema=None) as batch_op:
        batch_op.create_index("ix_breach_events_incident", ["incident_id", "at"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("corporate_officer", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("title", sa.String(length=200), server_default="", nullable=False))

    make_append_only(op.get_bind().dialect.name, op.execute, ["breach_events", "breach_documents"])


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("title")
        batch_op.drop_column("corporate_officer")

    with op.batch_alter_table("breach_events", schema=None) as batch_op:
        batch_op.drop_index("ix_breach_events_incident")

    op.drop_table("breach_events")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_received")

    op.drop_table("complaints")
    with op.batch_alter_table("breach_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_breach_documents_incident_id"))

    op.drop_table("breach_documents")
    op.drop_table("breach_affected")
    with op.batch_alter_table("training_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_records_staff_name"))

    op.drop_table("training_records")
    op.drop_table("policy_versions")
    op.drop_table("data_broker_actions")
    op.drop_table("closure_days")
    op.drop_table("certifications")
    op.drop_table("breach_incidents")
