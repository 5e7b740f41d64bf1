"""Plain dictionaries of incidents and their clocks, for the CLI's JSON and the API alike."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from cpniguard.breaches.clocks import Deadlines
from cpniguard.breaches.model import BreachEvent, Incident


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def deadlines_view(d: Deadlines) -> dict[str, Any]:
    return {
        "rules": d.rules.value,
        "determined_on": _iso(d.determined_on),
        "agency_recipients": list(d.agency_recipients),
        "law_enforcement_notice_due": _iso(d.law_enforcement_notice_due),
        "law_enforcement_notice_target": _iso(d.law_enforcement_notice_target),
        "customer_notice_required": d.customer_notice_required,
        "customer_notice_not_before": _iso(d.customer_notice_not_before),
        "customer_notice_not_before_projected": d.customer_notice_not_before_projected,
        "hold_until": _iso(d.hold_until),
        "customer_notice_due": _iso(d.customer_notice_due),
        "customer_notice_target": _iso(d.customer_notice_target),
        "annual_summary_due": _iso(d.annual_summary_due),
        "records_kept_until": _iso(d.records_kept_until),
        "informational": list(d.informational),
        "warnings": list(d.warnings),
    }


def incident_view(i: Incident) -> dict[str, Any]:
    return {
        "id": str(i.id),
        "title": i.title,
        "rules": i.rules.value,
        "discovered_at": _iso(i.discovered_at),
        "determined_at": _iso(i.determined_at),
        "determined_by": i.determined_by,
        "determination_reason": i.determination_reason,
        "intent": i.intent.value,
        "covered_2007": i.covered_2007,
        "covered_2023": i.covered_2023,
        "data_types": list(i.data_types),
        "cpni_description": i.cpni_description,
        "other_data_description": i.other_data_description,
        "circumstances": i.circumstances,
        "method_of_compromise": i.method_of_compromise,
        "incident_start": _iso(i.incident_start),
        "incident_end": _iso(i.incident_end),
        "affected_count": i.affected_count,
        "affected_count_basis": i.affected_count_basis,
        "harm_likely": i.harm_likely,
        "harm_reasoning": i.harm_reasoning,
        "harm_decided_by": i.harm_decided_by,
        "urgent_need": i.urgent_need,
        "law_enforcement_notified_at": _iso(i.law_enforcement_notified_at),
        "investigation_closed_at": _iso(i.investigation_closed_at),
        "customer_notices_at": _iso(i.customer_notices_at),
        "records_kept_until": _iso(i.records_kept_until),
        "created_by": i.created_by,
        "created_at": _iso(i.created_at),
    }


def event_view(e: BreachEvent) -> dict[str, Any]:
    return {
        "kind": e.kind,
        "at": _iso(e.at),
        "recorded_at": _iso(e.recorded_at),
        "by": e.by,
        "details": e.details,
        "document_id": str(e.document_id) if e.document_id else None,
    }
