"""The campaign review pages (SAFE-4): the queue of submitted campaigns with the approval each
customer needs (CONSENT-4), a campaign's record with its audience counted by exclusion reason,
and the CRO's or a supervisor's approval or rejection with a reason."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cpniguard.campaigns.model import REVIEWERS
from cpniguard.campaigns.review_queue import campaign_record, count_audience, review_queue
from cpniguard.campaigns.service import review_campaign
from cpniguard.errors import DomainError, InvalidInput, NotFound
from cpniguard.ids import parse_uuid
from cpniguard.ports import BatchOutcome
from cpniguard.web.pages import Page, staff_page

router = APIRouter(include_in_schema=False)
StaffPage = Annotated[Page, Depends(staff_page)]
ROUTE = "campaign_queue"
DECISIONS = {"approve": True, "reject": False}


@router.get("/console/campaigns", name=ROUTE)
def queue(page: StaffPage) -> HTMLResponse:
    page.require(ROUTE)
    waiting, others = review_queue(page.app.uow())
    return page.render("office/campaigns.html", waiting=waiting, others=others)


def _id(text: str) -> uuid.UUID:
    return parse_uuid(text, "campaign")


def _show(page: Page, campaign_id: str, error: DomainError | None = None, **values: Any) -> HTMLResponse:
    try:
        record = campaign_record(page.app.uow(), _id(campaign_id))
    except NotFound as exc:
        return page.refuse("office/not_found.html", exc)
    user = page.require(ROUTE)
    shown = {"record": record, "may_review": bool(user.roles & REVIEWERS), **values}
    if error is not None:
        return page.refuse("office/campaign.html", error, **shown)
    return page.render("office/campaign.html", **shown)


@router.get("/console/campaigns/{campaign_id}", name=ROUTE, response_model=None)
def campaign(campaign_id: str, page: StaffPage, reviewed: str = "") -> Response:
    page.require(ROUTE)
    done = {"approve": page._("The campaign is approved."), "reject": page._("The campaign is rejected.")}
    return _show(page, campaign_id, done=done.get(reviewed, ""))


@router.post("/console/campaigns/{campaign_id}/review", name=ROUTE, response_model=None)
def review(
    campaign_id: str,
    page: StaffPage,
    csrf: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """SAFE-4: the reviewer is the signed-in user; the service refuses the campaign's own maker."""
    user = page.require(ROUTE)
    page.check_form(csrf)
    try:
        if decision not in DECISIONS:
            raise InvalidInput("choose to approve or to reject the campaign")
        review_campaign(page.app.uow(), page.app.clock, _id(campaign_id), user.name, DECISIONS[decision], reason)
    except DomainError as exc:
        return _show(page, campaign_id, exc, reason=reason)
    return RedirectResponse(f"/console/campaigns/{campaign_id}?reviewed={decision}", status_code=303)


@router.post("/console/campaigns/{campaign_id}/audience", name=ROUTE, response_model=None)
def audience(campaign_id: str, page: StaffPage, csrf: Annotated[str, Form()] = "") -> Response:
    """The audience counted now, by exclusion reason (built and frozen once approved)."""
    user = page.require(ROUTE)
    page.check_form(csrf)
    try:
        outcome = count_audience(page.app.uow(), page.app.clock, user.actor(), _id(campaign_id))
    except DomainError as exc:
        return _show(page, campaign_id, exc)
    return _show(page, campaign_id, counted=_counts(outcome))


def _counts(outcome: BatchOutcome) -> dict[str, Any]:
    return {"included": outcome.included, "excluded": sorted(outcome.denied.items()), "total": outcome.total}
