"""The breach pages for the privacy officer: the incidents with each legal deadline and its
internal target (AMB-2), due and overdue marked; a form that records a new incident with the
facts its record must hold (BREACH-6) and its reasonable determination (AMB-13); an incident's
page with its timeline, clocks, the agency notice draft (BREACH23-4), notices and documents,
and the forms for its later steps, each calling the service function the API and CLI call."""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.breaches import agency as breach_agency
from cpniguard.breaches import customer_notices as breach_notices
from cpniguard.breaches import service
from cpniguard.breaches.clocks import parse_rules
from cpniguard.breaches.model import DATA_TYPES, HarmAssessment, Incident, Intent, notice_problem, parse_data_types
from cpniguard.calendar import eastern_date, parse_when
from cpniguard.errors import DomainError, InvalidInput, NotFound
from cpniguard.ids import parse_customer_id, parse_uuid
from cpniguard.privacy_office.dashboard import breach_deadlines
from cpniguard.text import clean_text
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


def _moment(text: str, what: str) -> datetime:
    if not text.strip():
        raise InvalidInput(f"say {what}")
    return parse_when(text)


def _day(text: str, what: str) -> date | None:
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
        _moment(form.discovered_at, "when the incident was discovered"),
        intent,
        parse_data_types(form.data_types),
        form.circumstances,
        form.cpni_description,
        form.other_data_description,
        form.method_of_compromise,
        _day(form.incident_start, "the first day of the incident"),
        _day(form.incident_end, "the last day of the incident"),
        form.good_faith_reason,
        form.financial_loss,
        form.urgent_need == "yes",
    )


def _determination(form: IncidentForm, discovered: datetime, now: datetime) -> tuple[datetime, str, str] | None:
    """Checked before anything is written, so a bad determination leaves no incident behind."""
    if not (form.determined_at.strip() or form.determination_reason.strip()):
        return None
    at = _moment(form.determined_at, "when the breach was reasonably determined")
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


def _incident(page: Page, incident_id: uuid.UUID, **values: Any) -> dict[str, Any]:
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
        **_blank_forms(found.incident, page.user.name if page.user else ""),
        **values,
    }


@router.get("/console/breaches/{incident_id}", name=ROUTE, response_model=None)
def incident_page(incident_id: str, page: StaffPage) -> Response:
    user = page.require(ROUTE)
    try:
        shown = _incident(page, parse_uuid(incident_id, "breach incident"), determined_by=user.name)
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
        at = _moment(determined_at, "when the breach was reasonably determined")
        service.record_determination(page.app.uow(), page.app.clock, user.actor(), found, at, determined_by, reason)
    except DomainError as exc:
        shown = _incident(page, found, determined_by=determined_by, determined_at=determined_at, reason=reason)
        return page.refuse("office/incident.html", exc, **shown)
    return RedirectResponse(f"/console/breaches/{incident_id}", status_code=303)


# The later steps of an incident. Each form calls the service function the API and the CLI
# call; the domain refuses a step out of order, and a refused step writes nothing.


class StepForm(BaseModel):
    """A step's form as posted; every field optional here, checked by the domain."""

    csrf: str = ""


class AffectedForm(StepForm):
    count: str = ""
    unknown: str = ""
    basis: str = ""
    customers: str = ""  # customer ids, one a line


class HarmForm(StepForm):
    harm_likely: str = ""
    reasoning: str = ""
    decided_by: str = ""
    evidence: str = ""
    encrypted: str = ""
    key_compromised: str = "unknown"
    encryption_rationale: str = ""


class NoteForm(StepForm):
    at: str = ""
    text: str = ""
    likely_breach: str = ""


class SubmissionForm(StepForm):
    submitted_at: str = ""
    recipients: list[str] = []
    reference: str = ""


class ConsultationForm(StepForm):
    at: str = ""
    agency: str = ""
    person: str = ""
    notes: str = ""


class DirectionForm(StepForm):
    kind: str = ""
    received_at: str = ""
    agency: str = ""
    days: str = ""
    until: str = ""


class NotifyForm(StepForm):
    monitoring: str = ""


class CloseForm(StepForm):
    closed_at: str = ""


def _blank_forms(incident: Incident, user: str) -> dict[str, StepForm]:
    """The forms as the incident stands, so a count or an assessment is amended, not retyped."""
    count, assessed = incident.affected_count, incident.harm_likely
    yes_no = {True: "yes", False: "no", None: ""}
    return {
        "affected": AffectedForm(
            count="" if count is None else str(count),
            unknown="yes" if count is None and incident.affected_count_basis else "",
            basis=incident.affected_count_basis,
        ),
        "harm": HarmForm(
            harm_likely=yes_no[assessed],
            reasoning=incident.harm_reasoning,
            decided_by=incident.harm_decided_by or user,
            evidence=incident.harm_evidence,
            encrypted="yes" if incident.encrypted else "",
            key_compromised=incident.key_compromised,
        ),
        "note": NoteForm(),
        "submission": SubmissionForm(),
        "consultation": ConsultationForm(),
        "direction": DirectionForm(),
        "notify": NotifyForm(),
        "closing": CloseForm(),
    }


Act = Callable[[App, Actor, uuid.UUID], object]


def _step(page: Page, incident_id: str, form: StepForm, shown_as: str, act: Act) -> Response:
    """Permission, CSRF, one service call; the form again with the reason when refused."""
    user = page.require(ROUTE)
    page.check_form(form.csrf)
    try:
        found = parse_uuid(incident_id, "breach incident")
        act(page.app, user.actor(), found)
    except DomainError as exc:
        try:
            shown = _incident(page, parse_uuid(incident_id, "breach incident"), **{shown_as: form})
        except NotFound as missing:
            return page.refuse("office/not_found.html", missing)
        return page.refuse("office/incident.html", exc, **shown)
    return RedirectResponse(f"/console/breaches/{found}", status_code=303)


def _at_or_now(text: str, app: App) -> datetime:
    return parse_when(text) if text.strip() else app.clock.now()


MOST_CUSTOMERS = 2**31 - 1  # the column's limit, on every database


def _count(form: AffectedForm) -> int | None:
    """BREACH23-5: a number, or unknown said in so many words; never both, never neither."""
    text = form.count.strip()
    if form.unknown == "yes":
        if text:
            raise InvalidInput("give the number of affected customers or mark it unknown, not both")
        return None
    if not text:
        raise InvalidInput("give the number of affected customers, or mark it unknown (BREACH23-5)")
    try:
        count = int(text)
    except ValueError:
        raise InvalidInput(f"the number of affected customers is not a whole number: {text!r}") from None
    if count > MOST_CUSTOMERS:
        raise InvalidInput("the number of affected customers is too large")
    return count


@router.post("/console/breaches/{incident_id}/affected", name=ROUTE, response_model=None)
def affected(incident_id: str, page: StaffPage, form: Annotated[AffectedForm, Form()]) -> Response:
    """BREACH23-10: the number affected with its basis, and the customers known to be among them."""

    def act(app: App, actor: Actor, found: uuid.UUID) -> object:
        customers = [parse_customer_id(line.strip()) for line in form.customers.splitlines() if line.strip()]
        return service.record_affected(app.uow(), app.clock, actor, found, _count(form), form.basis, customers)

    return _step(page, incident_id, form, "affected", act)


def _assessment(form: HarmForm) -> HarmAssessment:
    if form.harm_likely not in ("yes", "no"):
        raise InvalidInput("say whether harm to customers is reasonably likely (BREACH23-8)")
    return HarmAssessment(
        form.harm_likely == "yes",
        form.reasoning.strip(),
        form.decided_by.strip(),
        form.evidence.strip(),
        form.encrypted == "yes",
        form.key_compromised,
        form.encryption_rationale == "yes",
    )


@router.post("/console/breaches/{incident_id}/harm", name=ROUTE, response_model=None)
def harm(incident_id: str, page: StaffPage, form: Annotated[HarmForm, Form()]) -> Response:
    """BREACH23-8: the harm assessment with its reasoning."""

    def act(app: App, actor: Actor, found: uuid.UUID) -> object:
        return service.record_harm(app.uow(), app.clock, actor, found, _assessment(form))

    return _step(page, incident_id, form, "harm", act)


@router.post("/console/breaches/{incident_id}/notes", name=ROUTE, response_model=None)
def note(incident_id: str, page: StaffPage, form: Annotated[NoteForm, Form()]) -> Response:
    """BREACH23-11: a triage note; one calling the breach likely before the determination flags a review."""

    def act(app: App, actor: Actor, found: uuid.UUID) -> None:
        at = _at_or_now(form.at, app)
        service.record_triage_note(app.uow(), app.clock, actor, found, at, form.text, form.likely_breach == "yes")

    return _step(page, incident_id, form, "note", act)


@router.post("/console/breaches/{incident_id}/agency-notice", name=ROUTE, response_model=None)
def agency_notice(incident_id: str, page: StaffPage, form: Annotated[SubmissionForm, Form()]) -> Response:
    """BREACH-1, BREACH23-3: the submission, refused while the notice lacks a field (BREACH23-4)."""

    def act(app: App, actor: Actor, found: uuid.UUID) -> object:
        at = _moment(form.submitted_at, "when the notice was submitted")
        recipients = tuple(form.recipients)
        return breach_agency.record_agency_notice(
            app.uow(), app.clock, actor, found, at, recipients, form.reference, app.carrier_contact
        )

    return _step(page, incident_id, form, "submission", act)


@router.post("/console/breaches/{incident_id}/consultations", name=ROUTE, response_model=None)
def consultation(incident_id: str, page: StaffPage, form: Annotated[ConsultationForm, Form()]) -> Response:
    """BREACH-3: the consultation that lets urgent customer notice go before the hold ends."""

    def act(app: App, actor: Actor, found: uuid.UUID) -> None:
        at = _at_or_now(form.at, app)
        breach_agency.record_consultation(app.uow(), app.clock, actor, found, at, form.agency, form.person, form.notes)

    return _step(page, incident_id, form, "consultation", act)


LARGEST_DOCUMENT = 20 * 1024 * 1024


def _document(upload: UploadFile | None) -> tuple[str, str, bytes]:
    """The written direction as received (BREACH-4); an empty one is refused by the domain."""
    if upload is None or not upload.filename:
        return "", "", b""
    content = upload.file.read(LARGEST_DOCUMENT + 1)
    if len(content) > LARGEST_DOCUMENT:
        raise InvalidInput("the document is larger than 20 MB")
    media = upload.content_type or mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
    return upload.filename, media, content


def _days(text: str) -> int | None:
    if not text.strip():
        return None
    try:
        days = int(text)
    except ValueError:
        raise InvalidInput(f"the length of the delay is not a whole number of days: {text!r}") from None
    if days > 3650:
        raise InvalidInput("a delay of more than ten years is not plausible")
    return days


@router.post("/console/breaches/{incident_id}/directions", name=ROUTE, response_model=None)
def direction(
    incident_id: str,
    page: StaffPage,
    form: Annotated[DirectionForm, Form()],
    document: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """BREACH-4, BREACH23-6: an agency's written delay, its extension or its all-clear."""

    def act(app: App, actor: Actor, found: uuid.UUID) -> object:
        received = _at_or_now(form.received_at, app)
        until = _day(form.until, "the last day of the delay")
        return breach_agency.record_direction(
            app.uow(),
            app.clock,
            actor,
            found,
            form.kind,
            received,
            form.agency,
            _document(document),
            _days(form.days),
            until,
        )

    return _step(page, incident_id, form, "direction", act)


@router.post("/console/breaches/{incident_id}/customer-notices", name=ROUTE, response_model=None)
def customer_notices(incident_id: str, page: StaffPage, form: Annotated[NotifyForm, Form()]) -> Response:
    """Queues the notice to every listed customer, refused while a hold stands (BREACH-2..4)."""

    def act(app: App, actor: Actor, found: uuid.UUID) -> object:
        return breach_notices.send_customer_notices(app.uow(), app.clock, actor, found, app.letterhead, form.monitoring)

    return _step(page, incident_id, form, "notify", act)


@router.post("/console/breaches/{incident_id}/close", name=ROUTE, response_model=None)
def close(incident_id: str, page: StaffPage, form: Annotated[CloseForm, Form()]) -> Response:
    """Closes the investigation once every notice the rules require is on record (BREACH-5)."""

    def act(app: App, actor: Actor, found: uuid.UUID) -> object:
        at = _at_or_now(form.closed_at, app)
        return breach_notices.close_investigation(app.uow(), app.clock, actor, found, at)

    return _step(page, incident_id, form, "closing", act)
