"""A campaign's record over HTTP: its history, audience counts and disclosures; its completion
and archiving; the SAFE-3 records (disclosures, the campaign report as CSV or PDF).

Included by `api.campaigns`' router, so the app mounts it with the campaign workflow.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import Field

from cpniguard.api.auth import Reader, Writer
from cpniguard.api.bodies import Body
from cpniguard.api.deps import AppDep
from cpniguard.api.errors import ERROR_RESPONSES, json_refusals
from cpniguard.api.responses import Out
from cpniguard.campaigns.closing import archive_campaign, complete_campaign
from cpniguard.campaigns.model import Campaign
from cpniguard.campaigns.report import (
    DISCLOSURE_COLUMNS,
    REPORT_COLUMNS,
    campaign_disclosures,
    campaign_report,
    disclosure_row,
)
from cpniguard.campaigns.review_queue import CampaignRecord, campaign_record
from cpniguard.delivery.campaign_report_pdf import campaign_report_pdf
from cpniguard.ids import parse_uuid
from cpniguard.views import campaign_view, record_view

router = APIRouter(tags=["campaigns"], responses=ERROR_RESPONSES)


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
    completed_at: str | None = None
    customer_approval_needed: str | None = None


class EventOut(Out):
    status: str
    by: str
    at: str | None
    reason: str


class CampaignRecordOut(CampaignOut):
    history: list[EventOut] = Field(description="Every transition: who, when, why (SAFE-4)")
    audience: int | None = Field(description="Customers in the frozen audience; None until it is built")
    excluded: dict[str, int] | None = Field(description="Customers left out of the frozen audience, by reason")
    audience_built_at: str | None
    audience_for: str | None = Field(description="The moment the audience was decided for")
    disclosures: int = Field(description="Customers' CPNI given to third parties by its exports (SAFE-3)")


class CloseIn(Body):
    by: str = Field(description="The staff user acting")
    reason: str = Field(default="", max_length=2000)


class DisclosureOut(Out):
    campaign_id: str
    customer_id: str
    recipient: str
    categories: str
    at: str
    by: str
    export_id: str


def campaign_out(c: Campaign, needed: str | None = None) -> CampaignOut:
    return CampaignOut.model_validate({**campaign_view(c), "customer_approval_needed": needed})


def _record_out(record: CampaignRecord) -> CampaignRecordOut:
    return CampaignRecordOut.model_validate(record_view(record))


def _id(text: str) -> uuid.UUID:
    return parse_uuid(text, "campaign")


@router.get("/campaigns/{campaign_id}")
def show_campaign(campaign_id: str, app: AppDep, actor: Reader) -> CampaignRecordOut:
    """A campaign with its history, its audience counts (excluded by reason) and its disclosures."""
    return _record_out(campaign_record(app.uow(), _id(campaign_id)))


@router.post("/campaigns/{campaign_id}/complete")
def complete(campaign_id: str, body: CloseIn, app: AppDep, actor: Writer) -> CampaignOut:
    """A running campaign is complete; its records are kept at least a year from now (SAFE-3, AMB-8)."""
    return campaign_out(complete_campaign(app.uow(), app.clock, _id(campaign_id), body.by, body.reason))


@router.post("/campaigns/{campaign_id}/archive")
def archive(campaign_id: str, body: CloseIn, app: AppDep, actor: Writer) -> CampaignOut:
    """File away a draft, rejected, approved (never run) or completed campaign; its records stay."""
    return campaign_out(archive_campaign(app.uow(), app.clock, _id(campaign_id), body.by, body.reason))


CSV = {"text/csv": {"schema": {"type": "string"}}}


@router.get(
    "/campaigns/{campaign_id}/disclosures",
    response_model=list[DisclosureOut],
    responses={200: {"description": "The disclosures, as JSON or (`format=csv`) CSV", "content": CSV}},
)
def disclosures(
    campaign_id: str, app: AppDep, actor: Reader, format: Literal["json", "csv"] = "json"
) -> list[DisclosureOut] | Response:
    """SAFE-3: every disclosure of CPNI to a third party by this campaign's exports (JSON or CSV)."""
    rows = [disclosure_row(d) for d in campaign_disclosures(app.uow(), _id(campaign_id))]
    if format == "csv":
        return Response(_csv(DISCLOSURE_COLUMNS, rows), media_type="text/csv")
    return [DisclosureOut(**row) for row in rows]


@router.get(
    "/campaigns-report",
    response_class=Response,
    responses={
        200: {"description": "The report as CSV or PDF", "content": {**CSV, "application/pdf": {}}},
        **json_refusals(),
    },
)
def report(app: AppDep, actor: Reader, format: Literal["csv", "pdf"] = "csv") -> Response:
    """SAFE-3: every campaign with its CPNI used, offer, reviews, audience, exclusions and
    disclosures, as CSV or (`format=pdf`) the PDF `cpniguard campaigns report --pdf` writes."""
    rows = campaign_report(app.uow())
    if format == "pdf":
        return Response(campaign_report_pdf(rows, app.clock.now()), media_type="application/pdf")
    return Response(_csv(REPORT_COLUMNS, rows), media_type="text/csv")


def _csv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
