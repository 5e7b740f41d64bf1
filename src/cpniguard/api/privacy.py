"""The privacy office over HTTP: policy versions, complaints, data-broker actions, training.

The policy page and the portal's notice are public (no API key): they say what the carrier
publishes on its website anyway. Markdown is rendered by markdown-it-py with raw HTML off, so
HTML in a policy file is shown as text, never run.
"""

from __future__ import annotations

import html
import uuid
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from markdown_it import MarkdownIt
from pydantic import Field

from cpniguard.api.auth import Reader, Writer
from cpniguard.api.bodies import Body, When
from cpniguard.api.deps import AppDep, YearQuery, moment
from cpniguard.api.errors import ERROR_RESPONSES, json_refusals
from cpniguard.api.responses import Out
from cpniguard.calendar import EARLIEST_YEAR, LATEST_YEAR
from cpniguard.errors import NotFound
from cpniguard.ids import parse_uuid
from cpniguard.privacy_office import views
from cpniguard.privacy_office.policies import PolicyDraft, PolicyVersion, effective_text
from cpniguard.privacy_office.policy_service import list_policies, policy_in_force, policy_notice, publish_policy
from cpniguard.privacy_office.service import (
    NewBrokerAction,
    NewComplaint,
    close_complaint,
    complaint_counts,
    list_broker_actions,
    list_complaints,
    record_broker_action,
    record_complaint,
)
from cpniguard.privacy_office.staff import due_training, list_training, record_training

router = APIRouter(tags=["privacy office"], responses=ERROR_RESPONSES)


class PolicyIn(Body):
    version: str = Field(max_length=40, examples=["2.0"])
    language: str = Field(max_length=2, examples=["en"], description="en or de")
    effective_on: date
    text: str = Field(description="The policy in Markdown")
    summary: str = Field(max_length=2000, description="What changed, for the notice and the portal")
    material: bool = Field(default=False, description="Email every customer of the language about it")


class PolicyOut(Out):
    id: str
    version: str
    language: str
    effective_on: str
    summary: str
    material: bool
    published_by: str
    published_at: str


class PublicationOut(PolicyOut):
    notices_queued: int
    customers_without_email: int


class NoticeOut(Out):
    version: str
    effective_on: str
    summary: str


@router.post("/privacy-policy/versions", status_code=201)
def publish(body: PolicyIn, app: AppDep, actor: Writer) -> PublicationOut:
    """Publish a version of the privacy policy; a material one queues an email to each customer."""
    draft = PolicyDraft(body.version, body.language, body.effective_on, body.text, body.summary, body.material)
    done = publish_policy(app.uow(), app.clock, actor, app.letterhead, draft)
    counts = {"notices_queued": done.notices_queued, "customers_without_email": done.customers_without_email}
    return PublicationOut.model_validate({**views.policy_view(done.version), **counts})


@router.get("/privacy-policy/versions")
def versions(app: AppDep, actor: Reader, language: str | None = None) -> list[PolicyOut]:
    return [PolicyOut.model_validate(views.policy_view(v)) for v in list_policies(app.uow(), language)]


@router.get("/privacy-policy/notice")
def notice(app: AppDep, language: str = "en", at: When = None) -> NoticeOut | None:
    """Public: what the portal's home page shows, the latest material change for 90 days; null otherwise."""
    found = views.notice_view(policy_notice(app.uow(), language, moment(at, app)))
    return None if found is None else NoticeOut.model_validate(found)


PAGE = {"text/html": {"schema": {"type": "string"}}}


@router.get(
    "/privacy-policy",
    response_class=HTMLResponse,
    responses={
        **json_refusals(),
        404: {"description": "No policy in force in that language then: a page saying so", "content": PAGE},
    },
)
def page(app: AppDep, language: str = "en", at: When = None) -> HTMLResponse:
    """Public: the privacy policy in force, as a web page, with its last revision date."""
    when = moment(at, app)
    try:
        current = policy_in_force(app.uow(), language, when)
    except NotFound as exc:
        return HTMLResponse(_page(language, "Privacy policy", f"<p>{html.escape(str(exc))}.</p>"), status_code=404)
    return HTMLResponse(_page(current.language.value, f"Privacy policy {current.version}", _body(current)))


REVISED = {"en": "Last revised {day} (version {version})", "de": "Zuletzt geändert am {day} (Version {version})"}


def _body(v: PolicyVersion) -> str:
    day = effective_text(v.effective_on, v.language)
    revised = REVISED[v.language.value].format(day=day, version=v.version)
    rendered = MarkdownIt("commonmark", {"html": False}).render(v.text)
    return f'{rendered}\n<p class="revised">{html.escape(revised)}</p>'


def _page(language: str, title: str, body: str) -> str:
    lang = html.escape(language if language in REVISED else "en")
    return (
        f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


class ComplaintIn(Body):
    category: str = Field(description="employee-access, unauthorized-disclosure, online-access, other (CERT-3)")
    channel: str = Field(description="phone, email, mail, web, in-person, regulator, other")
    summary: str = Field(max_length=4000)
    customer: uuid.UUID | None = None
    received_at: When = None


class ComplaintOut(Out):
    id: str
    received_at: str
    category: str
    channel: str
    customer: str | None
    summary: str
    status: str
    resolution: str
    closed_at: str | None
    recorded_by: str


class CloseIn(Body):
    resolution: str = Field(max_length=4000)


class CountsOut(Out):
    year: int
    total: int
    by_category: dict[str, int]
    by_month: dict[str, dict[str, int]]


@router.post("/complaints", status_code=201)
def new_complaint(body: ComplaintIn, app: AppDep, actor: Writer) -> ComplaintOut:
    """CERT-3: a complaint about the release of CPNI."""
    received: datetime | None = moment(body.received_at, app) if body.received_at else None
    new = NewComplaint(body.category, body.channel, body.summary, body.customer, received)
    return ComplaintOut.model_validate(views.complaint_view(record_complaint(app.uow(), app.clock, actor, new)))


@router.post("/complaints/{complaint_id}/close")
def close(complaint_id: str, body: CloseIn, app: AppDep, actor: Writer) -> ComplaintOut:
    closed = close_complaint(app.uow(), app.clock, actor, parse_uuid(complaint_id, "complaint"), body.resolution)
    return ComplaintOut.model_validate(views.complaint_view(closed))


@router.get("/complaints")
def complaints(app: AppDep, actor: Reader, year: YearQuery = None, category: str | None = None) -> list[ComplaintOut]:
    found = list_complaints(app.uow(), year, category)
    return [ComplaintOut.model_validate(views.complaint_view(c)) for c in found]


@router.get("/complaints/counts")
def counts(app: AppDep, actor: Reader, year: Annotated[int, Query(ge=EARLIEST_YEAR, le=LATEST_YEAR)]) -> CountsOut:
    """CERT-3: complaints received in a calendar year (Eastern), per category and per month."""
    return CountsOut.model_validate(views.counts_view(complaint_counts(app.uow(), year)))


class BrokerActionIn(Body):
    taken_on: date
    forum: str = Field(description="state-commission, court, fcc, other")
    broker: str = Field(max_length=200)
    description: str = Field(max_length=4000)


class BrokerActionOut(Out):
    id: str
    taken_on: str
    forum: str
    broker: str
    description: str
    recorded_by: str


@router.post("/data-broker-actions", status_code=201)
def new_broker_action(body: BrokerActionIn, app: AppDep, actor: Writer) -> BrokerActionOut:
    """CERT-3: a proceeding or petition against a data broker."""
    new = NewBrokerAction(body.taken_on, body.forum, body.broker, body.description)
    return BrokerActionOut.model_validate(
        views.broker_action_view(record_broker_action(app.uow(), app.clock, actor, new))
    )


@router.get("/data-broker-actions")
def broker_actions(app: AppDep, actor: Reader, year: YearQuery = None) -> list[BrokerActionOut]:
    return [BrokerActionOut.model_validate(views.broker_action_view(a)) for a in list_broker_actions(app.uow(), year)]


class TrainingIn(Body):
    staff: str = Field(max_length=200, description="The user name, as `users add` gives it")
    course: str = Field(max_length=200)
    completed_on: date
    expires_on: date


class TrainingOut(Out):
    id: str
    staff: str
    course: str
    completed_on: str
    expires_on: str
    recorded_by: str


class TrainingListOut(Out):
    discipline_policy_id: str | None = Field(description="SAFE-2: the HR policy on discipline for CPNI misuse")
    records: list[TrainingOut]


class DueOut(Out):
    staff: str
    roles: list[str]
    expires_on: str | None
    status: str = Field(description="none, expired or expiring")


@router.post("/training", status_code=201)
def new_training(body: TrainingIn, app: AppDep, actor: Writer) -> TrainingOut:
    """SAFE-2: a member of staff completed CPNI training."""
    record = record_training(app.uow(), app.clock, actor, body.staff, body.course, body.completed_on, body.expires_on)
    return TrainingOut.model_validate(views.training_view(record))


@router.get("/training")
def training(app: AppDep, actor: Reader, staff: str | None = None) -> TrainingListOut:
    view = views.training_list_view(list_training(app.uow(), staff), app.settings.discipline_policy_id)
    return TrainingListOut.model_validate(view)


@router.get("/training/due")
def training_due(app: AppDep, actor: Reader, within: Annotated[int, Query(ge=0, le=3650)] = 30) -> list[DueOut]:
    """Staff whose CPNI training is missing, expired, or ends within `within` days (SAFE-2)."""
    return [DueOut.model_validate(views.due_view(d)) for d in due_training(app.uow(), app.clock, within)]
