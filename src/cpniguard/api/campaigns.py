"""Campaigns over HTTP: staff users, the campaign workflow, audiences and exports (SAFE-3, SAFE-4).

A campaign's record and the SAFE-3 reports are in `campaign_records`, the opt-out notice runs
and the SAFE-5 task in `opt_out_notices`; this router includes both.

`by` names the member of staff acting (a user added with `cpniguard users add`); the API key
names the system they act through. Both are in the ledger.

There is no review route (SAFE-4). An API key names a calling system, not a person, so a `by`
sent with it would let any system with the write scope pass for any CRO. The review is made by
the CRO or a supervisor signed in to the console (/console/campaigns), where the reviewer is the
signed-in user, or by the operator's `cpniguard campaigns approve|reject --by` on the server.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import Field

from cpniguard.access.model import User
from cpniguard.actors import Actor
from cpniguard.api import campaign_records, opt_out_notices
from cpniguard.api.auth import Reader, Writer, scoped
from cpniguard.api.bodies import Body, When
from cpniguard.api.campaign_records import CampaignOut, campaign_out
from cpniguard.api.deps import AppDep, parse_moment
from cpniguard.api.errors import ERROR_RESPONSES
from cpniguard.api.responses import Out
from cpniguard.campaigns.model import CampaignChannel, Recipient
from cpniguard.campaigns.service import (
    EXPORT_COLUMNS,
    CampaignSpec,
    add_user,
    build_audience,
    create_campaign,
    export_audience,
    export_row,
    submit_campaign,
)
from cpniguard.customers.model import ServiceCategory
from cpniguard.decisions.model import Purpose
from cpniguard.ids import parse_uuid
from cpniguard.privacy_office.staff import grant_role

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
    channel: CampaignChannel = Field(default=CampaignChannel.EMAIL, description="How customers are reached")
    asks_for_approval: bool = Field(default=False, description="An outbound request for approval (SAFE-4)")
    description: str = Field(default="", max_length=2000)
    segment: ServiceCategory | None = Field(
        default=None, description="Audience criterion: customers who subscribe to it"
    )
    by: str = Field(description="The staff user creating it")


class ByIn(Body):
    by: str


class AudienceIn(Body):
    at: When = None


class AudienceOut(Out):
    campaign: str
    included: int
    excluded: dict[str, int]


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
    return campaign_out(create_campaign(app.uow(), app.clock, spec, body.by))


@router.get("/campaigns")
def list_campaigns(app: AppDep, actor: Reader) -> list[CampaignOut]:
    with app.uow() as uow:
        return [campaign_out(c) for c in uow.campaigns.all()]


@router.post("/campaigns/{campaign_id}/submit")
def submit(campaign_id: str, body: ByIn, app: AppDep, actor: Writer) -> CampaignOut:
    """Submit for review by the CRO in the console: the answer says which approval each customer needs."""
    campaign, needed = submit_campaign(app.uow(), app.clock, _id(campaign_id), body.by)
    return campaign_out(campaign, needed.value)


@router.post("/campaigns/{campaign_id}/audience")
def audience(campaign_id: str, body: AudienceIn, app: AppDep, actor: Writer) -> AudienceOut:
    """Build and freeze the audience: included, and excluded counted by reason."""
    at = parse_moment(body.at) if body.at is not None else None
    outcome = build_audience(app.uow(), app.clock, actor, _id(campaign_id), at)
    return AudienceOut(campaign=campaign_id, included=outcome.included, excluded=outcome.denied)


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


# The records, the end of a campaign's life and the opt-out notice runs, mounted with these routes.
router.include_router(campaign_records.router)
router.include_router(opt_out_notices.router)
