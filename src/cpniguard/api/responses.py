"""Response models: the shapes of `cpniguard.views`, declared so /openapi.json describes them.

Routes build these from the view dicts (`Model.model_validate(view)`), so the API answers
exactly what `cpniguard ... --json` prints. Times are ISO 8601 strings, as the views make them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

Time = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class HealthOut(Out):
    status: str = Field(examples=["ok"])
    schema_revision: str | None = Field(description="Alembic revision of the database schema")


class ServiceOut(Out):
    id: str
    category: str
    telephone_number: str | None
    added_at: Time | None
    removed_at: Time | None


class ContactOut(Out):
    id: str
    kind: str
    value: str
    added_at: Time | None
    removed_at: Time | None
    of_record: bool = Field(description="An address of record (DEF-5: 30 days on the account) at the time of answering")


class CustomerOut(Out):
    id: str
    name: str
    kind: str
    language: str
    listing_status: str
    created_at: Time | None
    services: list[ServiceOut]
    contacts: list[ContactOut]


class DecisionOut(Out):
    """The gate's answer, as `cpniguard check --json` prints it; it is in the ledger already."""

    customer: str | None
    purpose: str
    allowed: bool
    basis: str = Field(description="statute, consent or none")
    basis_ref: str | None = Field(description="The consent event id, or the statute")
    citation: str | None
    reason: str
    at: Time | None = Field(description="The moment decided for")


class EventOut(Out):
    id: str
    event: str
    channel: str
    at: Time | None = Field(description="When the event took effect")
    recorded_at: Time | None
    recorded_by: str
    evidence: str


class ApprovalsOut(Out):
    objection_active: bool
    objection_since: Time | None
    opt_in_active: bool
    opt_in_since: Time | None
    opt_out_approval_presumed: bool
    opt_out_approval_presumed_from: Time | None
    opt_out_renotice_due: Time | None
    opt_out_renotice_overdue: bool


class RecordedEventOut(Out):
    event: EventOut
    customer: str
    approvals: ApprovalsOut = Field(description="The approvals in force now, after this event")


class ConsentOut(Out):
    customer: str
    at: Time | None
    approvals: ApprovalsOut
    history: list[EventOut] = Field(description="The events in effect by `at`")


class BatchOut(Out):
    purpose: str
    at: Time | None
    total: int
    allowed: int
    denied: int
    denied_by_reason: dict[str, int]
    allowed_customers: list[str] | None = Field(default=None, description="Only when include_ids was true")


class EntryOut(Out):
    seq: int
    id: str
    at: Time | None
    actor: str
    action: str
    customer: str | None
    categories: str
    purpose: str
    basis: str
    outcome: str
    reason: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class VerificationOut(Out):
    ok: bool
    entries: int
    head_hash: str
    first_bad: EntryOut | None
    problem: str | None
    checkpoints_checked: int
    bad_checkpoints: list[int]


class CheckpointOut(Out):
    seq: int
    head_hash: str
    at: Time | None
    public_key: str
    signature: str


class FieldClassOut(Out):
    table: str
    column: str
    data_class: str = Field(alias="class", description="cpni, subscriber-list-information, protected, ...")
    call_detail: bool
