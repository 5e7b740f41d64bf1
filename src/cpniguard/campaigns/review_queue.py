"""The CRO's review queue (SAFE-4): the submitted campaigns with the approval each customer
needs (CONSENT-4), and a campaign's record with its reviews and its audience counted.

Counting the audience of a submitted campaign runs the same batch gate as the build, without
freezing a snapshot, so the reviewer sees who would be reached and who is excluded, by reason,
before deciding; the count is a use of CPNI, so it leaves a ledger entry. Once approved, the
count is the build itself (`build_audience`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.campaigns.model import Approval, Campaign, CampaignStatus, required_approval
from cpniguard.campaigns.service import audience_at, build_audience
from cpniguard.clock import Clock
from cpniguard.errors import Conflict, NotFound
from cpniguard.ports import AudienceSnapshot, BatchOutcome, CampaignEvent, UnitOfWork


@dataclass(frozen=True, slots=True)
class Reviewed:
    campaign: Campaign
    approval: Approval  # what each customer needs (CONSENT-4, USE-2)


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    campaign: Campaign
    approval: Approval
    events: list[CampaignEvent]
    audience_built_at: datetime | None
    audience_size: int | None
    disclosures: int
    audience: AudienceSnapshot | None = None  # with the exclusions counted by reason


def review_queue(uow: UnitOfWork) -> tuple[list[Reviewed], list[Reviewed]]:
    """The submitted campaigns, oldest first, and every other campaign, newest first."""
    with uow:
        everything = [Reviewed(c, required_approval(c)) for c in uow.campaigns.all()]
    waiting = sorted((r for r in everything if r.campaign.status is CampaignStatus.SUBMITTED), key=_made)
    others = sorted((r for r in everything if r.campaign.status is not CampaignStatus.SUBMITTED), key=_made)
    return waiting, others[::-1]


def _made(reviewed: Reviewed) -> datetime:
    return reviewed.campaign.created_at


def campaign_record(uow: UnitOfWork, campaign_id: uuid.UUID) -> CampaignRecord:
    with uow:
        campaign = uow.campaigns.get(campaign_id)
        if campaign is None:
            raise NotFound(f"unknown campaign: {campaign_id}")
        audience = uow.campaigns.audience_snapshot(campaign.id)
        return CampaignRecord(
            campaign,
            required_approval(campaign),
            uow.campaigns.events(campaign.id),
            audience.built_at if audience else None,
            audience.included if audience else None,
            uow.campaigns.disclosure_count(campaign.id),
            audience,
        )


def count_audience(uow: UnitOfWork, clock: Clock, actor: Actor, campaign_id: uuid.UUID) -> BatchOutcome:
    """Who the campaign would reach now and who is excluded, by reason: counted for a submitted
    campaign, built and frozen for an approved one (a running one's snapshot stays as it is)."""
    with uow:
        found = uow.campaigns.get(campaign_id)
    if found is not None and found.status in (CampaignStatus.APPROVED, CampaignStatus.RUNNING):
        return build_audience(uow, clock, actor, campaign_id)  # checks the status again
    now = clock.now()
    with uow:
        campaign = uow.campaigns.get(campaign_id)
        if campaign is None:
            raise NotFound(f"unknown campaign: {campaign_id}")
        if campaign.status is not CampaignStatus.SUBMITTED:
            raise Conflict(f"the campaign is {campaign.status.value}: only a submitted campaign's audience is counted")
        outcome = audience_at(uow, campaign, now, None)
        details = {"campaign": str(campaign.id), "included": outcome.included, "excluded": outcome.denied}
        uow.audit.add(
            AuditEntry.of(
                "campaigns:audience:counted",
                actor,
                now,
                categories=campaign.cpni,
                purpose=campaign.purpose.value,
                details=details,
            )
        )
        uow.commit()
    return outcome
