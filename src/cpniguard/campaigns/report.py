"""The campaign records of SAFE-3 and SAFE-4: every campaign with the CPNI it used, its offer,
its reviews, its audience (excluded customers counted by reason) and its disclosures to third
parties; and one campaign's disclosure records. Dates are days in Eastern time, as the
rules count them (section 0 of RULES.md)."""

from __future__ import annotations

import uuid

from cpniguard.calendar import eastern_date
from cpniguard.campaigns.model import Campaign, CampaignStatus
from cpniguard.errors import NotFound
from cpniguard.ports import AudienceSnapshot, Disclosure, UnitOfWork

REPORT_COLUMNS = (
    "campaign",
    "name",
    "description",
    "status",
    "purpose",
    "offer",
    "offer_category",
    "cpni_used",
    "recipients",
    "channel",
    "segment",
    "owner",
    "reviews",
    "audience_built_on",
    "audience",
    "excluded",
    "disclosures",
    "completed_on",
)
DISCLOSURE_COLUMNS = ("campaign_id", "customer_id", "recipient", "categories", "at", "by", "export_id")
REVIEWED = (CampaignStatus.APPROVED.value, CampaignStatus.REJECTED.value)


def campaign_report(uow: UnitOfWork) -> list[dict[str, str]]:
    """SAFE-3: each campaign with the CPNI it used, its offer, its reviews and its audience."""
    with uow:
        return [_row(uow, c, uow.campaigns.audience_snapshot(c.id)) for c in uow.campaigns.all()]


def _row(uow: UnitOfWork, c: Campaign, audience: AudienceSnapshot | None) -> dict[str, str]:
    reviews = [
        f"{e.status} by {e.by} on {eastern_date(e.at).isoformat()}: {e.reason}"
        for e in uow.campaigns.events(c.id)
        if e.status in REVIEWED
    ]
    return {
        "campaign": str(c.id),
        "name": c.name,
        "description": c.description,
        "status": c.status.value,
        "purpose": c.purpose.value,
        "offer": c.offer,
        "offer_category": c.offer_category.value if c.offer_category else "",
        "cpni_used": ", ".join(c.cpni),
        "recipients": ", ".join(r.value for r in c.recipients),
        "channel": c.channel.value,
        "segment": c.segment.value if c.segment else "",
        "owner": c.owner,
        "reviews": "; ".join(reviews),
        "audience_built_on": eastern_date(audience.built_at).isoformat() if audience else "",
        "audience": str(audience.included) if audience else "",
        "excluded": excluded_text(audience.excluded) if audience else "",
        "disclosures": str(uow.campaigns.disclosure_count(c.id)),
        "completed_on": eastern_date(c.completed_at).isoformat() if c.completed_at else "",
    }


def excluded_text(excluded: dict[str, int]) -> str:
    """`customer objected: 2; opt-in required: 5`, by reason in alphabetical order."""
    return "; ".join(f"{reason}: {n}" for reason, n in sorted(excluded.items()))


def campaign_disclosures(uow: UnitOfWork, campaign_id: uuid.UUID) -> list[Disclosure]:
    """SAFE-3: every disclosure of a customer's CPNI to a third party by this campaign's exports."""
    with uow:
        if uow.campaigns.get(campaign_id) is None:
            raise NotFound(f"unknown campaign: {campaign_id}")
        return uow.campaigns.disclosures(campaign_id)


def disclosure_row(d: Disclosure) -> dict[str, str]:
    return {
        "campaign_id": str(d.campaign_id),
        "customer_id": str(d.customer_id),
        "recipient": d.recipient,
        "categories": d.categories,
        "at": d.at.isoformat(),
        "by": d.by,
        "export_id": str(d.export_id),
    }
