"""The later steps of a breach incident on its page: affected customers, harm assessment, triage
notes, the agency notice, consultation, written directions, customer notices and closing. Each
form calls the service function the API and the CLI call; the domain refuses a step out of
order, and a refused step writes nothing and shows the form again with the reason."""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import RedirectResponse, Response

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.breaches import agency as breach_agency
from cpniguard.breaches import customer_notices as breach_notices
from cpniguard.breaches import service
from cpniguard.breaches.model import HarmAssessment
from cpniguard.calendar import parse_when
from cpniguard.errors import DomainError, InvalidInput, NotFound
from cpniguard.ids import parse_customer_id, parse_uuid
from cpniguard.web.office_breach_forms import (
    AffectedForm,
    CloseForm,
    ConsultationForm,
    DirectionForm,
    HarmForm,
    NoteForm,
    NotifyForm,
    StepForm,
    SubmissionForm,
)
from cpniguard.web.office_breaches import ROUTE, day, incident_view, moment
from cpniguard.web.pages import Page, staff_page

router = APIRouter(include_in_schema=False)
StaffPage = Annotated[Page, Depends(staff_page)]

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
            shown = incident_view(page, parse_uuid(incident_id, "breach incident"), **{shown_as: form})
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
        at = moment(form.submitted_at, "when the notice was submitted")
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
        until = day(form.until, "the last day of the delay")
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
