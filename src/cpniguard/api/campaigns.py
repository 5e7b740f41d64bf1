"""Campaigns over HTTP: staff users, the campaign workflow, audiences and exports (SAFE-3, SAFE-4).

`by` names the member of staff acting (a user added with `cpniguard users add`); the API key
names the system they act through. Both are in the ledger.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import Field

from cpniguard.access.model import User
from cpniguard.actors import Actor
from cpniguard.api.auth import Reader, Writer, scoped
from cpniguard.api.bodies import Body, When
from cpniguard.api.deps import AppDep, parse_moment
from cpniguard.api.errors import ERROR_RESPONSES
from cpniguard.api.responses import Out
from cpniguard.campaigns.model import Campaign, Recipient
from cpniguard.campaigns.service import (
    EXPORT_COLUMNS,
    REPORT_COLUMNS,
    CampaignSpec,
    add_user,
    build_audience,
    campaign_report,
    create_campaign,
    export_audience,
    export_row,
    review_campaign,
    submit_campaign,
)
from cpniguard.consent.failures import record_opt_out_failure
from cpniguard.consent.notices import notices_due, send_opt_out_notices
from cpniguard.customers.model import ServiceCategory
from cpniguard.decisions.model import Purpose
from cpniguard.errors import NotFound
from cpniguard.ids import CustomerId, parse_uuid
from cpniguard.privacy_office.staff import grant_role
from cpniguard.views import iso

router = APIRouter(tags=["campaigns"], responses=ERROR_RESPONSES)
Admin = Annotated[Actor, Depends(scoped("admin"))]


class UserIn(Body):
    name: str = Field(max_length=200)
    roles: list[str] = Field(
        min_length=1,
        description="agent, marketing, cro, supervisor, privacy-officer, auditor, admin; "
        "those that open CPNI need current training (SAFE-2)",
    )
    corporate_officer: bool = Field(default=False, description="May sign the annual certificate (CERT-1)")
    title: str = Field(default="", max_length=200, description="As the certificate names it (CERT-5)")


class RoleIn(Body):
    role: str = Field(description="One more role; one that opens CPNI needs current training (SAFE-2)")


class UserOut(Out):
    id: str
    name: str
    roles: list[str]
    corporate_officer: bool = False
    title: str = ""

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=str(user.id),
            name=user.name,
            roles=sorted(user.roles),
            corporate_officer=user.corporate_officer,
            title=user.title,
        )


class CampaignIn(Body):
    name: str = Field(max_length=200)
    purpose: Purpose
    offer: str = Field(max_length=400)
    offer_category: ServiceCategory | None = None
    communications_related: bool = True
    cpni: list[str] = Field(default_factory=lambda: ["services"])
    recipients: list[Recipient] = Field(default_factory=lambda: [Recipient.CARRIER])
    channel: str = Field(default="email", max_length=20)
    asks_for_approval: bool = Field(default=False, description="An outbound request for approval (SAFE-4)")
    description: str = Field(default="", max_length=2000)
    segment: ServiceCategory | None = Field(
        default=None, description="Audience criterion: customers who subscribe to it"
    )
    by: str = Field(description="The staff user creating it")


class ByIn(Body):
    by: str


class ReviewIn(Body):
    by: str
    reason: str = Field(min_length=1, max_length=2000)


class AudienceIn(Body):
    at: When = None


class CampaignOut(Out):
    id: str
    name: str
    purpose: str
    offer: str
    offer_category: str | None
    communications_related: bool
    cpni: list[str]
    recipients: list[str]
    channel: str
    owner: str
    status: str
    submitted_by: str | None
    asks_for_approval: bool = False
    description: str = ""
    segment: str | None = None
    created_at: str | None
    customer_approval_needed: str | None = None


class AudienceOut(Out):
    campaign: str
    included: int
    excluded: dict[str, int]


def _out(c: Campaign, needed: str | None = None) -> CampaignOut:
    return CampaignOut(
        id=str(c.id),
        name=c.name,
        purpose=c.purpose.value,
        offer=c.offer,
        offer_category=c.offer_category.value if c.offer_category else None,
        communications_related=c.communications_related,
        cpni=list(c.cpni),
        recipients=[r.value for r in c.recipients],
        channel=c.channel,
        owner=c.owner,
        status=c.status.value,
        submitted_by=c.submitted_by,
        asks_for_approval=c.asks_for_approval,
        description=c.description,
        segment=c.segment.value if c.segment else None,
        created_at=iso(c.created_at),
        customer_approval_needed=needed,
    )


def _id(text: str) -> uuid.UUID:
    return parse_uuid(text, "campaign")


@router.post("/users", status_code=201)
def new_user(body: UserIn, app: AppDep, actor: Admin) -> UserOut:
    """Add a member of staff with roles; those that open CPNI need current training (SAFE-2)."""
    roles = frozenset(body.roles)
    return UserOut.of(add_user(app.uow(), app.clock, actor, body.name, roles, body.corporate_officer, body.title))


@router.post("/users/{name}/roles")
def grant(name: str, body: RoleIn, app: AppDep, actor: Admin) -> UserOut:
    """Give a member of staff one more role (SAFE-2: CPNI roles only with current training)."""
    return UserOut.of(grant_role(app.uow(), app.clock, actor, name, body.role))


@router.get("/users")
def list_users(app: AppDep, actor: Reader) -> list[UserOut]:
    with app.uow() as uow:
        return [UserOut.of(u) for u in uow.users.all()]


@router.post("/campaigns", status_code=201)
def new_campaign(body: CampaignIn, app: AppDep, actor: Writer) -> CampaignOut:
    """Create a draft campaign."""
    spec = CampaignSpec(
        body.name,
        body.purpose,
        body.offer,
        body.offer_category,
        body.communications_related,
        tuple(body.cpni),
        tuple(body.recipients),
        body.channel,
        body.asks_for_approval,
        body.description,
        body.segment,
    )
    return _out(create_campaign(app.uow(), app.clock, spec, body.by))


@router.get("/campaigns")
def list_campaigns(app: AppDep, actor: Reader) -> list[CampaignOut]:
    with app.uow() as uow:
        return [_out(c) for c in uow.campaigns.all()]


@router.get("/campaigns/{campaign_id}")
def show_campaign(campaign_id: str, app: AppDep, actor: Reader) -> CampaignOut:
    with app.uow() as uow:
        found = uow.campaigns.get(_id(campaign_id))
    if found is None:
        raise NotFound(f"unknown campaign: {campaign_id}")
    return _out(found)


@router.post("/campaigns/{campaign_id}/submit")
def submit(campaign_id: str, body: ByIn, app: AppDep, actor: Writer) -> CampaignOut:
    """Submit for review: the answer says which approval each customer needs."""
    campaign, needed = submit_campaign(app.uow(), app.clock, _id(campaign_id), body.by)
    return _out(campaign, needed.value)


@router.post("/campaigns/{campaign_id}/approve")
def approve(campaign_id: str, body: ReviewIn, app: AppDep, actor: Writer) -> CampaignOut:
    """A CRO or supervisor who did not submit it approves (SAFE-4)."""
    return _out(review_campaign(app.uow(), app.clock, _id(campaign_id), body.by, True, body.reason))


@router.post("/campaigns/{campaign_id}/reject")
def reject(campaign_id: str, body: ReviewIn, app: AppDep, actor: Writer) -> CampaignOut:
    return _out(review_campaign(app.uow(), app.clock, _id(campaign_id), body.by, False, body.reason))


@router.post("/campaigns/{campaign_id}/audience")
def audience(campaign_id: str, body: AudienceIn, app: AppDep, actor: Writer) -> AudienceOut:
    """Build and freeze the audience: included, and excluded counted by reason."""
    at = parse_moment(body.at) if body.at is not None else None
    outcome = build_audience(app.uow(), app.clock, actor, _id(campaign_id), at)
    return AudienceOut(campaign=campaign_id, included=len(outcome.allowed), excluded=outcome.denied)


@router.post("/campaigns/{campaign_id}/export", response_class=Response)
def export(campaign_id: str, app: AppDep, actor: Writer) -> Response:
    """The audience re-checked against consent now, as CSV (third-party disclosures recorded)."""
    done = export_audience(app.uow(), app.clock, actor, _id(campaign_id))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(export_row(campaign_id, row) for row in done.rows)
    headers = {"X-Export-Id": str(done.export_id), "X-Disclosures": str(done.disclosures)}
    return Response(out.getvalue(), media_type="text/csv", headers=headers)


class NoticeRunIn(Body):
    customers: list[uuid.UUID] | None = Field(default=None, description="These customers; or all that are due")
    include_never: bool = Field(default=False, description="With no customers: also those never sent a notice")


class NoticeRunOut(Out):
    queued: int
    skipped: dict[str, str]


class DueOut(Out):
    due: int
    customers: list[str]


class FailureIn(Body):
    mechanisms: str = Field(max_length=500)
    problem: str = Field(max_length=4000)
    found_on: date | None = None
    remedy: str = Field(default="", max_length=4000)


@router.get("/opt-out-notices/due", tags=["opt-out notices"])
def due_notices(app: AppDep, actor: Reader, at: str | None = None, include_never: bool = False) -> DueOut:
    """The biennial re-notice report (NOTICE-7)."""
    moment = parse_moment(at) if at else app.clock.now()
    due = notices_due(app.uow(), moment, include_never)
    return DueOut(due=len(due), customers=[str(c) for c in due])


@router.post("/opt-out-notices", tags=["opt-out notices"])
def send_notices(body: NoticeRunIn, app: AppDep, actor: Writer) -> NoticeRunOut:
    """Queue individual opt-out notices (NOTICE-2): email of record with a letter as fallback, or a letter."""
    chosen = (
        [CustomerId(c) for c in body.customers]
        if body.customers is not None
        else notices_due(app.uow(), app.clock.now(), body.include_never)
    )
    run = send_opt_out_notices(app.uow(), app.clock, actor, app.letterhead, chosen)
    return NoticeRunOut(queued=len(run.queued), skipped=run.skipped)


@router.post("/opt-out-failures", status_code=201, tags=["opt-out notices"])
def opt_out_failure(body: FailureIn, app: AppDep, actor: Writer) -> dict[str, object]:
    """SAFE-5: an opt-out failure; the FCC letter task is due on the fifth business day."""
    task = record_opt_out_failure(
        app.uow(),
        app.clock,
        actor,
        body.mechanisms,
        body.problem,
        body.found_on,
        body.remedy,
        app.settings.carrier_name,
    )
    return {
        "task": task.id,
        "found_on": task.found_on.isoformat(),
        "due_on": task.due_on.isoformat(),
        "letter": asdict(task.letter),
    }


@router.get("/campaigns-report", response_class=Response)
def report(app: AppDep, actor: Reader) -> Response:
    """SAFE-3: every campaign with its CPNI used, offer, reviews, audience and disclosures, as CSV."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(campaign_report(app.uow()))
    return Response(out.getvalue(), media_type="text/csv")
