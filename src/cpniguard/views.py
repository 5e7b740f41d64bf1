"""Plain-data views of domain objects, shared by the CLI's --json and the API's responses."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cpniguard.audit.model import AuditEntry, Checkpoint, Verification
from cpniguard.campaigns.model import Campaign
from cpniguard.campaigns.review_queue import CampaignRecord
from cpniguard.classification.model import CATALOGUE
from cpniguard.consent.model import ConsentEvent, ConsentState
from cpniguard.consent.service import ConsentView
from cpniguard.customers.model import Contact, Customer, Service
from cpniguard.customers.records import Bill, CallDetailRecord
from cpniguard.decisions.model import Decision
from cpniguard.ports import Alert, BatchOutcome, NoticeRecord


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def contact_view(contact: Contact, at: datetime) -> dict[str, Any]:
    return {
        "id": str(contact.id),
        "kind": contact.kind.value,
        "value": contact.value,
        "added_at": iso(contact.added_at),
        "removed_at": iso(contact.removed_at),
        "of_record": contact.of_record(at),
    }


def service_view(service: Service) -> dict[str, Any]:
    return {
        "id": str(service.id),
        "category": service.category.value,
        "telephone_number": service.telephone_number,
        "added_at": iso(service.added_at),
        "removed_at": iso(service.removed_at),
    }


def customer_view(customer: Customer, at: datetime) -> dict[str, Any]:
    return {
        "id": str(customer.id),
        "name": customer.name,
        "kind": customer.kind.value,
        "language": customer.language.value,
        "listing_status": customer.listing_status.value,
        "created_at": iso(customer.created_at),
        "services": [service_view(s) for s in customer.services],
        "contacts": [contact_view(c, at) for c in customer.contacts],
    }


def decision_view(decision: Decision, customer: str | None = None, at: datetime | None = None) -> dict[str, Any]:
    return {
        "customer": customer,
        "purpose": decision.purpose,
        "allowed": decision.allowed,
        "basis": decision.basis.value,
        "basis_ref": str(decision.basis_ref) if decision.basis_ref else None,
        "citation": decision.citation,
        "reason": decision.reason,
        "at": iso(at),
    }


def event_view(event: ConsentEvent) -> dict[str, Any]:
    return {
        "id": str(event.id),
        "event": event.kind.value,
        "channel": event.channel.value,
        "at": iso(event.at),
        "recorded_at": iso(event.recorded_at),
        "recorded_by": event.recorded_by,
        "evidence": event.evidence,
    }


def state_view(state: ConsentState, at: datetime) -> dict[str, Any]:
    return {
        "objection_active": state.objection_active(at),
        "objection_since": iso(state.objection_since),
        "opt_in_active": state.opt_in_active(at),
        "opt_in_since": iso(state.opt_in_since),
        "opt_out_approval_presumed": state.opt_out_approval_presumed(at),
        "opt_out_approval_presumed_from": iso(state.presumed_from),
        "opt_out_renotice_due": iso(state.renotice_due),
        "opt_out_renotice_overdue": state.renotice_overdue(at),
    }


def consent_view(view: ConsentView) -> dict[str, Any]:
    return {
        "customer": str(view.state.customer_id),
        "at": iso(view.at),
        "approvals": state_view(view.state, view.at),
        "history": [event_view(e) for e in view.events],
    }


def entry_view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "id": entry.id,
        "at": _ledger_time(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "customer": entry.customer_id,
        "categories": entry.categories,
        "purpose": entry.purpose,
        "basis": entry.basis,
        "outcome": entry.outcome,
        "reason": entry.reason,
        "details": _ledger_details(entry.details),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


# A tampered entry (the one verification names) may hold any text: it is shown as stored.
def _ledger_time(stamp: str) -> str:
    try:
        return datetime.fromisoformat(stamp).isoformat()
    except ValueError:
        return stamp


def _ledger_details(details: str) -> Any:
    try:
        return json.loads(details)
    except ValueError:
        return {"stored_text": details}


def checkpoint_view(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "seq": checkpoint.seq,
        "head_hash": checkpoint.head_hash,
        "at": iso(checkpoint.at),
        "public_key": checkpoint.public_key,
        "signature": checkpoint.signature,
    }


def verification_view(result: Verification) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "entries": result.entries,
        "head_hash": result.head_hash,
        "first_bad": entry_view(result.first_bad) if result.first_bad else None,
        "problem": result.problem or None,
        "checkpoints_checked": result.checkpoints_checked,
        "bad_checkpoints": result.bad_checkpoints,
    }


def batch_view(outcome: BatchOutcome, purpose: str, at: datetime, include_ids: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "purpose": purpose,
        "at": iso(at),
        "total": outcome.total,
        "allowed": len(outcome.allowed),
        "denied": sum(outcome.denied.values()),
        "denied_by_reason": outcome.denied,
    }
    if include_ids:
        view["allowed_customers"] = outcome.allowed
    return view


def field_class_views() -> list[dict[str, Any]]:
    """The classification catalogue: every stored customer field and its class."""
    return [
        {"table": f.table, "column": f.column, "class": f.data_class.value, "call_detail": f.call_detail}
        for f in CATALOGUE
    ]


def recorded_view(event: ConsentEvent, state: ConsentState, now: datetime) -> dict[str, Any]:
    """A consent event just recorded, with the approvals it leaves in force now."""
    return {"event": event_view(event), "customer": str(event.customer_id), "approvals": state_view(state, now)}


def notice_view(record: NoticeRecord) -> dict[str, Any]:
    """A notice as staff see it; a one-time code's text is never shown again (AUTH-7)."""
    notice = record.notice
    return {
        "id": str(notice.id),
        "customer_id": str(notice.customer_id) if notice.customer_id else None,
        "event": notice.event.value,
        "channel": record.channel,
        "recipient": record.recipient,
        "subject": notice.subject,
        "body": "(one-time code withheld)" if notice.confidential else notice.body,
        "language": notice.language,
        "status": record.status,
        "attempts": record.attempts,
        "created_at": iso(notice.created_at),
        "delivered_at": iso(record.delivered_at),
        "last_error": record.last_error,
        "route": [{"channel": s.channel.value, "recipient": s.recipient} for s in notice.route],
        "attachment": notice.attachment_name,
    }


def alert_view(alert: Alert) -> dict[str, Any]:
    return {
        "id": str(alert.id),
        "customer_id": str(alert.customer_id) if alert.customer_id else None,
        "kind": alert.kind,
        "raised_at": iso(alert.raised_at),
        "details": alert.details,
        "resolved_at": iso(alert.resolved_at),
    }


def cdr_view(record: CallDetailRecord) -> dict[str, Any]:
    return {
        "id": str(record.id),
        "started_at": iso(record.started_at),
        "direction": record.direction.value,
        "service_number": record.service_number,
        "other_party_number": record.other_party_number,
        "duration_seconds": record.duration_seconds,
        "charge_cents": record.charge_cents,
        "location": record.location,
    }


def bill_view(bill: Bill) -> dict[str, Any]:
    return {
        "id": str(bill.id),
        "period": bill.period,
        "account_number": bill.account_number,
        "total_cents": bill.total_cents,
        "local_charges_cents": bill.local_charges_cents,
        "long_distance_charges_cents": bill.long_distance_charges_cents,
        "directory_assistance_charges_cents": bill.directory_assistance_charges_cents,
        "feature_charges_cents": bill.feature_charges_cents,
        "minutes_used": bill.minutes_used,
    }


def campaign_view(c: Campaign) -> dict[str, object]:
    return {
        "id": str(c.id),
        "name": c.name,
        "purpose": c.purpose.value,
        "offer": c.offer,
        "offer_category": c.offer_category.value if c.offer_category else None,
        "communications_related": c.communications_related,
        "cpni": list(c.cpni),
        "recipients": [r.value for r in c.recipients],
        "channel": c.channel.value,
        "owner": c.owner,
        "status": c.status.value,
        "submitted_by": c.submitted_by,
        "asks_for_approval": c.asks_for_approval,
        "description": c.description,
        "segment": c.segment.value if c.segment else None,
        "created_at": iso(c.created_at),
        "completed_at": iso(c.completed_at),
    }


def record_view(record: CampaignRecord) -> dict[str, Any]:
    """A campaign with its history, its audience counted (excluded by reason) and its disclosures."""
    a = record.audience
    history = [{"status": e.status, "by": e.by, "at": iso(e.at), "reason": e.reason} for e in record.events]
    return {
        **campaign_view(record.campaign),
        "customer_approval_needed": record.approval.value,
        "history": history,
        "audience": a.included if a else None,
        "excluded": a.excluded if a else None,
        "audience_built_at": iso(a.built_at) if a else None,
        "audience_for": iso(a.decided_for) if a else None,
        "disclosures": record.disclosures,
    }
