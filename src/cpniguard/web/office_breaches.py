"""The breach pages for the privacy officer: the incidents with each legal deadline and its
internal target (AMB-2), due and overdue marked; a form that records a new incident with the
facts its record must hold (BREACH-6) and its reasonable determination (AMB-13); an incident's
page with its timeline, clocks, the agency notice draft (BREACH23-4), notices and documents,
and the forms for its later steps, each calling the service function the API and CLI call."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from cpniguard.breaches import agency as breach_agency
from cpniguard.breaches import service
from cpniguard.breaches.clocks import parse_rules
from cpniguard.breaches.model import DATA_TYPES, Intent, notice_problem, parse_data_types
from cpniguard.calendar import eastern_date, parse_when
from cpniguard.errors import DomainError, InvalidInput, NotFound
from cpniguard.ids import parse_uuid
from cpniguard.privacy_office.dashboard import breach_deadlines
from cpniguard.text import clean_text
from cpniguard.web.office_breach_forms import blank_forms
from cpniguard.web.pages import Page, staff_page

router = APIRouter(include_in_schema=False)
StaffPage = Annotated[Page, Depends(staff_page)]
ROUTE = "breaches"


class IncidentForm(BaseModel):
    """The new-incident form as posted; every field optional here, checked by the domain."""

    csrf: str = ""
    title: str = ""
    discovered_at: str = ""
    intent: str = "intentional"
    data_types: list[str] = []
    circumstances: str = ""
    cpni_description: str = ""
    other_data_description: str = ""
    method_of_compromise: str = ""
    incident_start: str = ""
    incident_end: str = ""
    financial_loss: str = ""
    good_faith_reason: str = ""
    urgent_need: str = ""
    determined_at: str = ""
    determined_by: str = ""
    determination_reason: str = ""


def _listing(page: Page) -> dict[str, Any]:
    today = eastern_date(page.app.clock.now())
    rows = [
        (incident, clocks, late, breach_deadlines(incident, clocks, late, today))
        for incident, clocks, late in service.list_incidents(page.app.uow(), page.app.clock)
    ]
    rows.sort(key=lambda row: row[0].discovered_at, reverse=True)
    return {"rows": rows, "intents": [i.value for i in Intent], "data_types": sorted(DATA_TYPES)}


@router.get("/console/breaches", name=ROUTE)
def breaches(page: StaffPage) -> HTMLResponse:
    user = page.require(ROUTE)
    return page.render("office/breaches.html", form=IncidentForm(determined_by=user.name), **_listing(page))


def moment(text: str, what: str) -> datetime:
    if not text.strip():
        raise InvalidInput(f"say {what}")
    return parse_when(text)


def day(text: str, what: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        raise InvalidInput(f"{what} is not a date (YYYY-MM-DD)") from None


def _new_incident(form: IncidentForm) -> service.NewIncident:
    try:
        intent = Intent(form.intent)
    except ValueError:
        raise InvalidInput(f"unknown intent {form.intent!r} (one of: {', '.join(i.value for i in Intent)})") from None
    return service.NewIncident(
        form.title,
        moment(form.discovered_at, "when the incident was discovered"),
        intent,
        parse_data_types(form.data_types),
        form.circumstances,
        form.cpni_description,
        form.other_data_description,
        form.method_of_compromise,
        day(form.incident_start, "the first day of the incident"),
        day(form.incident_end, "the last day of the incident"),
        form.good_faith_reason,
        form.financial_loss,
        form.urgent_need == "yes",
    )


def _determination(form: IncidentForm, discovered: datetime, now: datetime) -> tuple[datetime, str, str] | None:
    """Checked before anything is written, so a bad determination leaves no incident behind."""
    if not (form.determined_at.strip() or form.determination_reason.strip()):
        return None
    at = moment(form.determined_at, "when the breach was reasonably determined")
    if at > now:
        raise InvalidInput("the determination cannot lie in the future")
    if at < discovered:
        raise InvalidInput("a determination cannot precede the discovery (AMB-13)")
    if not form.determination_reason.strip():
        raise InvalidInput("say why the breach is now more likely than not (BREACH23-11)")
    return at, clean_text(form.determined_by, "who determined it", 1, 200), form.determination_reason


@router.post("/console/breaches", name=ROUTE, response_model=None)
def record_incident(page: StaffPage, form: Annotated[IncidentForm, Form()]) -> Response:
    user = page.require(ROUTE)
    page.check_form(form.csrf)
    app, actor = page.app, user.actor()
    try:
        new = _new_incident(form)
        determination = _determination(form, new.discovered_at, app.clock.now())
        incident = service.open_incident(app.uow(), app.clock, actor, new, parse_rules(app.settings.breach_rules))
        if determination is not None:
            service.record_determination(app.uow(), app.clock, actor, incident.id, *determination)
    except DomainError as exc:
        return page.refuse("office/breaches.html", exc, form=form, **_listing(page))
    return RedirectResponse(f"/console/breaches/{incident.id}", status_code=303)


def incident_view(page: Page, incident_id: uuid.UUID, **values: Any) -> dict[str, Any]:
    found = service.status(page.app.uow(), page.app.clock, incident_id)
    notice = None
    if found.deadlines is not None:
        notice = breach_agency.draft_agency_notice(page.app.uow(), incident_id, page.app.carrier_contact)
    now = page.app.clock.now()
    directions = [str(e.details["direction"]) for e in found.events if e.kind == "agency-direction"]
    return {
        "record": found,
        "clocks": found.deadlines,
        "owed": breach_deadlines(found.incident, found.deadlines, found.overdue, eastern_date(now)),
        "notice": notice,
        "documents": [e for e in found.events if e.document_id is not None],
        "notices": [e for e in found.events if e.kind in ("agency-notice", "customer-notices")],
        "notice_problem": notice_problem(found.incident, found.deadlines, now) if found.deadlines else None,
        "delay_in_force": bool(directions) and directions[-1] != "ended",
        **blank_forms(found.incident, page.user.name if page.user else ""),
        **values,
    }


@router.get("/console/breaches/{incident_id}", name=ROUTE, response_model=None)
def incident_page(incident_id: str, page: StaffPage) -> Response:
    user = page.require(ROUTE)
    try:
        shown = incident_view(page, parse_uuid(incident_id, "breach incident"), determined_by=user.name)
    except NotFound as exc:
        return page.refuse("office/not_found.html", exc)
    return page.render("office/incident.html", **shown)


@router.post("/console/breaches/{incident_id}/determination", name=ROUTE, response_model=None)
def determination(
    incident_id: str,
    page: StaffPage,
    csrf: Annotated[str, Form()] = "",
    determined_at: Annotated[str, Form()] = "",
    determined_by: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """AMB-13: the reasonable determination starts every clock."""
    user = page.require(ROUTE)
    page.check_form(csrf)
    found = parse_uuid(incident_id, "breach incident")
    try:
        at = moment(determined_at, "when the breach was reasonably determined")
        service.record_determination(page.app.uow(), page.app.clock, user.actor(), found, at, determined_by, reason)
    except DomainError as exc:
        shown = incident_view(page, found, determined_by=determined_by, determined_at=determined_at, reason=reason)
        return page.refuse("office/incident.html", exc, **shown)
    return RedirectResponse(f"/console/breaches/{incident_id}", status_code=303)
