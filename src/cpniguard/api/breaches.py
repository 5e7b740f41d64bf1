"""Breach incidents over HTTP: deadlines, the timeline, agency and customer notices, and the
closure days of the business calendar (BREACH-*, BREACH23-*, CAL-*)."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import Field

from cpniguard.api.auth import Reader, Writer
from cpniguard.api.bodies import Body, When
from cpniguard.api.deps import AppDep, moment, parse_moment
from cpniguard.api.errors import ERROR_RESPONSES
from cpniguard.bootstrap import App
from cpniguard.breaches import agency as breach_agency
from cpniguard.breaches import closures as closure_days
from cpniguard.breaches import customer_notices as breach_notices
from cpniguard.breaches import service
from cpniguard.breaches.clocks import ClockFacts, RuleVersion, deadlines, parse_rules
from cpniguard.breaches.model import HarmAssessment, Intent, parse_data_types
from cpniguard.breaches.views import deadlines_view, event_view, incident_view
from cpniguard.errors import InvalidInput
from cpniguard.ids import CustomerId, parse_uuid

router = APIRouter(tags=["breaches"], responses=ERROR_RESPONSES)


def _id(text: str) -> uuid.UUID:
    return parse_uuid(text, "breach incident")


def _closures(app: App) -> set[date]:
    with app.uow() as uow:
        return set(uow.calendar.closures())


@router.get("/breach-deadlines")
def breach_deadlines(
    app: AppDep, actor: Reader, determined: str, law_enforcement_notified: str | None = None, rules: str | None = None
) -> dict[str, Any]:
    """The legal dates and internal targets of a breach determined at `determined` (CAL-7)."""
    facts = ClockFacts(
        parse_rules(rules or app.settings.breach_rules),
        parse_moment(determined),
        parse_moment(law_enforcement_notified) if law_enforcement_notified else None,
    )
    return deadlines_view(deadlines(facts, _closures(app)))


class IncidentIn(Body):
    title: str = Field(max_length=200)
    discovered_at: str
    intent: Intent
    data_types: list[str] = Field(min_length=1)
    circumstances: str = Field(max_length=20_000)
    cpni_description: str = Field(default="", max_length=20_000)
    other_data_description: str = Field(default="", max_length=20_000)
    method_of_compromise: str = Field(default="", max_length=20_000)
    incident_start: date | None = None
    incident_end: date | None = None
    good_faith_reason: str | None = Field(default=None, max_length=20_000)
    financial_loss: str = Field(default="", max_length=2000)
    urgent_need: bool = False
    rules: RuleVersion | None = None


def _status(app: App, incident: uuid.UUID) -> dict[str, Any]:
    found = service.status(app.uow(), app.clock, incident)
    return {
        **incident_view(found.incident),
        "deadlines": deadlines_view(found.deadlines) if found.deadlines else None,
        "overdue": found.overdue,
        "review_flags": found.review_flags,
        "affected_listed": found.affected_listed,
        "timeline": [event_view(e) for e in found.events],
    }


@router.post("/breaches", status_code=201)
def open_incident(body: IncidentIn, app: AppDep, actor: Writer) -> dict[str, Any]:
    """Open an incident with the facts its record must hold (BREACH-6)."""
    new = service.NewIncident(
        body.title,
        parse_moment(body.discovered_at),
        body.intent,
        parse_data_types(body.data_types),
        body.circumstances,
        body.cpni_description,
        body.other_data_description,
        body.method_of_compromise,
        body.incident_start,
        body.incident_end,
        body.good_faith_reason,
        body.financial_loss,
        body.urgent_need,
        body.rules,
    )
    incident = service.open_incident(app.uow(), app.clock, actor, new, parse_rules(app.settings.breach_rules))
    return _status(app, incident.id)


@router.get("/breaches")
def list_incidents(app: AppDep, actor: Reader) -> list[dict[str, Any]]:
    return [
        {**incident_view(i), "deadlines": deadlines_view(d) if d else None, "overdue": late}
        for i, d, late in service.list_incidents(app.uow(), app.clock)
    ]


@router.get("/breaches/{incident}")
def show_incident(incident: str, app: AppDep, actor: Reader) -> dict[str, Any]:
    return _status(app, _id(incident))


class DeterminationIn(Body):
    at: When = None
    by: str = Field(max_length=200)
    reason: str = Field(max_length=20_000)


@router.post("/breaches/{incident}/determination")
def determine(incident: str, body: DeterminationIn, app: AppDep, actor: Writer) -> dict[str, Any]:
    """AMB-13: the reasonable determination starts every clock."""
    service.record_determination(app.uow(), app.clock, actor, _id(incident), moment(body.at, app), body.by, body.reason)
    return _status(app, _id(incident))


class NoteIn(Body):
    at: When = None
    text: str = Field(max_length=20_000)
    likely_breach: bool = False


@router.post("/breaches/{incident}/notes", status_code=201)
def note(incident: str, body: NoteIn, app: AppDep, actor: Writer) -> dict[str, Any]:
    service.record_triage_note(
        app.uow(), app.clock, actor, _id(incident), moment(body.at, app), body.text, body.likely_breach
    )
    return _status(app, _id(incident))


class HarmIn(Body):
    harm_likely: bool
    reasoning: str = Field(default="", max_length=20_000)
    decided_by: str = Field(max_length=200)
    evidence: str = Field(default="", max_length=20_000)
    encrypted: bool = False
    key_compromised: str = "unknown"
    encryption_rationale: bool = False


@router.post("/breaches/{incident}/harm")
def harm(incident: str, body: HarmIn, app: AppDep, actor: Writer) -> dict[str, Any]:
    """BREACH23-8: the harm assessment with its reasoning."""
    service.record_harm(app.uow(), app.clock, actor, _id(incident), HarmAssessment(**body.model_dump()))
    return _status(app, _id(incident))


class AffectedIn(Body):
    count: int | None = Field(default=None, ge=0, le=10**10, description="Leave out when unknown (BREACH23-5)")
    basis: str = Field(max_length=20_000)
    customers: list[uuid.UUID] = Field(default_factory=list, max_length=1_000_000)


@router.post("/breaches/{incident}/affected")
def affected(incident: str, body: AffectedIn, app: AppDep, actor: Writer) -> dict[str, Any]:
    customers = [CustomerId(c) for c in body.customers]
    service.record_affected(app.uow(), app.clock, actor, _id(incident), body.count, body.basis, customers)
    return _status(app, _id(incident))


@router.get("/breaches/{incident}/agency-notice")
def agency_notice(incident: str, app: AppDep, actor: Reader) -> dict[str, Any]:
    """BREACH23-4: the notice for staff to submit through the central reporting facility."""
    notice = breach_agency.draft_agency_notice(app.uow(), _id(incident), app.carrier_contact)
    return {**asdict(notice), "missing": notice.missing()}


class SubmissionIn(Body):
    submitted_at: str
    recipients: list[str] = Field(min_length=1)
    reference: str = Field(default="", max_length=400)


@router.post("/breaches/{incident}/agency-notice")
def agency_notice_submitted(incident: str, body: SubmissionIn, app: AppDep, actor: Writer) -> dict[str, Any]:
    """BREACH-1, BREACH23-3: record the submission to every recipient the rules name."""
    breach_agency.record_agency_notice(
        app.uow(),
        app.clock,
        actor,
        _id(incident),
        parse_moment(body.submitted_at),
        tuple(body.recipients),
        body.reference,
        app.carrier_contact,
    )
    return _status(app, _id(incident))


class ConsultationIn(Body):
    at: When = None
    agency: str = Field(max_length=200)
    person: str = Field(max_length=200)
    notes: str = Field(default="", max_length=20_000)


@router.post("/breaches/{incident}/consultations", status_code=201)
def consultation(incident: str, body: ConsultationIn, app: AppDep, actor: Writer) -> dict[str, Any]:
    """BREACH-3: the consultation that lets urgent customer notice go before the hold ends."""
    breach_agency.record_consultation(
        app.uow(), app.clock, actor, _id(incident), moment(body.at, app), body.agency, body.person, body.notes
    )
    return _status(app, _id(incident))


class DirectionIn(Body):
    direction: str = Field(description="directed, extended or ended (the all-clear)")
    received_at: When = None
    agency: str = Field(max_length=200)
    days: int | None = Field(default=None, ge=1, le=3650)
    until: date | None = None
    document_name: str = Field(max_length=200)
    document_type: str = Field(default="application/pdf", max_length=100)
    document_base64: str = Field(description="The written direction as received (BREACH-4)", max_length=30_000_000)


@router.post("/breaches/{incident}/directions", status_code=201)
def direction(incident: str, body: DirectionIn, app: AppDep, actor: Writer) -> dict[str, Any]:
    """BREACH-4, BREACH23-6: an agency's written delay, its extension or its all-clear."""
    try:
        content = base64.b64decode(body.document_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("document_base64 is not valid base64") from None
    breach_agency.record_direction(
        app.uow(),
        app.clock,
        actor,
        _id(incident),
        body.direction,
        moment(body.received_at, app),
        body.agency,
        (body.document_name, body.document_type, content),
        body.days,
        body.until,
    )
    return _status(app, _id(incident))


class NoticesIn(Body):
    monitoring: str = Field(default="", max_length=2000, description="Credit monitoring offered, in one sentence")


@router.post("/breaches/{incident}/customer-notices")
def customer_notices(incident: str, body: NoticesIn, app: AppDep, actor: Writer) -> dict[str, int]:
    """Queue the notice to every listed customer; 409 while a hold stands (BREACH-2..4)."""
    return breach_notices.send_customer_notices(
        app.uow(), app.clock, actor, _id(incident), app.letterhead, body.monitoring
    )


class ClosureIn(Body):
    day: date
    reason: str = Field(max_length=400)


@router.get("/calendar/closures")
def list_closures(app: AppDep, actor: Reader) -> list[dict[str, str]]:
    return [{"day": d.isoformat(), "reason": r} for d, r in closure_days.closures(app.uow()).items()]


@router.post("/calendar/closures", status_code=201)
def add_closure(body: ClosureIn, app: AppDep, actor: Writer) -> dict[str, str]:
    """CAL-3: a day the Commission is closed; every business-day clock skips it."""
    closure_days.add_closure(app.uow(), app.clock, actor, body.day, body.reason)
    return {"day": body.day.isoformat(), "reason": body.reason}


@router.delete("/calendar/closures/{day}", status_code=204)
def remove_closure(day: date, app: AppDep, actor: Writer) -> None:
    closure_days.remove_closure(app.uow(), app.clock, actor, day)
