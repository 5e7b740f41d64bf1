"""Marketing campaigns that use CPNI: what they offer, to whom CPNI goes, who approved them.

A campaign's design decides the approval each customer needs (CONSENT-4): offers within the
categories a customer buys need none (USE-2, 64.2005(a)); communications-related offers by the
carrier, its affiliates and agents need opt-out or opt-in approval; joint-venture partners,
third parties and non-communications offers need opt-in. A design whose purpose does not match
that is refused at submission (an opt-out basis for a joint-venture partner, say).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from cpniguard.customers.model import ServiceCategory, parse_enum
from cpniguard.decisions.model import Purpose
from cpniguard.errors import Conflict, Forbidden, InvalidInput


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    RUNNING = "running"
    COMPLETED = "completed"
    ARCHIVED = "archived"


NEXT: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.SUBMITTED, CampaignStatus.ARCHIVED}),
    CampaignStatus.SUBMITTED: frozenset({CampaignStatus.APPROVED, CampaignStatus.REJECTED}),
    CampaignStatus.APPROVED: frozenset({CampaignStatus.RUNNING, CampaignStatus.ARCHIVED}),
    CampaignStatus.REJECTED: frozenset({CampaignStatus.ARCHIVED}),
    CampaignStatus.RUNNING: frozenset({CampaignStatus.COMPLETED}),
    CampaignStatus.COMPLETED: frozenset({CampaignStatus.ARCHIVED}),
    CampaignStatus.ARCHIVED: frozenset(),
}


class Recipient(StrEnum):
    """Who receives or uses the CPNI (CONSENT-4)."""

    CARRIER = "carrier"
    AFFILIATE = "affiliate"
    AGENT = "agent"
    JOINT_VENTURE = "joint-venture"
    THIRD_PARTY = "third-party"


OPT_IN_RECIPIENTS = frozenset({Recipient.JOINT_VENTURE, Recipient.THIRD_PARTY})
MARKETING = frozenset({Purpose.MARKETING_SUBSCRIBED, Purpose.MARKETING_COMMUNICATIONS, Purpose.MARKETING_THIRD_PARTY})
# The CPNI a campaign may name (DEF-1): what it reads to pick and address its audience.
CPNI_CATEGORIES = frozenset({"services", "call-detail", "usage", "bills", "location"})


class CampaignChannel(StrEnum):
    """How the campaign reaches its audience; the export gives each customer's contact for it."""

    EMAIL = "email"
    MAIL = "mail"
    PHONE = "phone"
    SMS = "sms"


WRITTEN_CHANNELS = frozenset({CampaignChannel.EMAIL, CampaignChannel.MAIL})


class Approval(StrEnum):
    NONE = "none"
    OPT_OUT = "opt-out"
    OPT_IN = "opt-in"


@dataclass(frozen=True, slots=True)
class Campaign:
    id: uuid.UUID
    name: str
    purpose: Purpose
    offer: str
    offer_category: ServiceCategory | None
    communications_related: bool
    cpni: tuple[str, ...]
    recipients: tuple[Recipient, ...]
    channel: CampaignChannel
    owner: str
    created_at: datetime
    status: CampaignStatus = CampaignStatus.DRAFT
    submitted_by: str | None = None
    # SAFE-4: an outbound request to customers for their approval (its audience is those
    # without it); it goes through the same supervisory review before anyone is contacted.
    asks_for_approval: bool = False
    description: str = ""
    segment: ServiceCategory | None = None  # audience criterion: customers who subscribe to it
    # SAFE-3, SAFE-4, AMB-8: the records are kept at least a year from this moment.
    completed_at: datetime | None = None

    def moved(self, to: CampaignStatus) -> Campaign:
        if to not in NEXT[self.status]:
            raise Conflict(f"{_article(self.status.value)} {self.status.value} campaign cannot become {to.value}")
        return replace(self, status=to)

    def completed(self, at: datetime) -> Campaign:
        return replace(self.moved(CampaignStatus.COMPLETED), completed_at=at)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def record_problem(campaign: Campaign) -> str | None:
    """SAFE-3: the campaign record describes the campaign, the CPNI it uses and what it offers."""
    missing = [
        what
        for what, given in (
            ("a description", campaign.description),
            ("the CPNI used", campaign.cpni),
            ("the products or services offered", campaign.offer),
        )
        if not given
    ]
    if not missing:
        return None
    return f"the campaign record needs {' and '.join(missing)} (SAFE-3, 47 CFR 64.2009(c))"


def required_approval(campaign: Campaign) -> Approval:
    """The approval each customer needs for this campaign (CONSENT-4, USE-2)."""
    if set(campaign.recipients) & OPT_IN_RECIPIENTS or not campaign.communications_related:
        return Approval.OPT_IN
    if campaign.purpose is Purpose.MARKETING_THIRD_PARTY:
        return Approval.OPT_IN
    if campaign.purpose is Purpose.MARKETING_SUBSCRIBED:
        return Approval.NONE
    return Approval.OPT_OUT


def design_problem(campaign: Campaign) -> str | None:
    """Why the campaign's design is unlawful, or None. Checked at submission."""
    needed = required_approval(campaign)
    if needed is Approval.OPT_IN and campaign.purpose is not Purpose.MARKETING_THIRD_PARTY:
        whom = "joint-venture partners or third parties" if set(campaign.recipients) & OPT_IN_RECIPIENTS else None
        what = whom or "a non-communications offer"
        return (
            f"{what} need opt-in approval (CONSENT-4, 47 CFR 64.2007(b)); "
            f"a {campaign.purpose.value} campaign would rely on less: use marketing-third-party"
        )
    if campaign.purpose is Purpose.MARKETING_SUBSCRIBED and campaign.offer_category is None:
        return "an offer within subscribed categories must name its service category (USE-2)"
    if campaign.asks_for_approval:
        if needed is Approval.NONE:
            return "offers within subscribed categories need no approval: there is nothing to ask for (USE-2)"
        if needed is Approval.OPT_OUT and campaign.channel not in WRITTEN_CHANNELS:
            return "opt-out approval is sought only by a written or electronic notice, by email or mail (NOTICE-5)"
    return None


def new_campaign(
    campaign_id: uuid.UUID,
    name: str,
    purpose: Purpose,
    offer: str,
    offer_category: ServiceCategory | None,
    communications_related: bool,
    cpni: tuple[str, ...],
    recipients: tuple[Recipient, ...],
    channel: CampaignChannel,
    owner: str,
    at: datetime,
    asks_for_approval: bool = False,
    description: str = "",
    segment: ServiceCategory | None = None,
) -> Campaign:
    if purpose not in MARKETING:
        raise InvalidInput("a campaign's purpose is one of the marketing purposes")
    unknown = sorted(set(cpni) - CPNI_CATEGORIES)
    if unknown:
        known = ", ".join(sorted(CPNI_CATEGORIES))
        raise InvalidInput(f"unknown CPNI categories: {', '.join(unknown)} (one of: {known})")
    if not name.strip() or not offer.strip():
        raise InvalidInput("a campaign needs a name and an offer")
    return Campaign(
        campaign_id,
        name.strip(),
        purpose,
        offer.strip(),
        offer_category,
        communications_related,
        tuple(dict.fromkeys(cpni or ("services",))),
        tuple(dict.fromkeys(recipients or (Recipient.CARRIER,))),
        parse_enum(CampaignChannel, channel, "campaign channel"),
        owner,
        at,
        asks_for_approval=asks_for_approval,
        description=description.strip(),
        segment=segment,
    )


REVIEWERS = frozenset({"cro", "supervisor"})


def require_reviewer(reviewer: str, reviewer_roles: frozenset[str]) -> None:
    """SAFE-4 and the carrier's policy: only a CRO (or a supervisor the carrier names) reviews."""
    if not reviewer_roles & REVIEWERS:
        raise Forbidden(f"{reviewer} may not review campaigns: the cro or supervisor role is needed (SAFE-4)")


def review_problem(reviewer: str, reviewer_roles: frozenset[str], campaign: Campaign) -> None:
    """SAFE-4 and the carrier's policy: a CRO (or a supervisor the carrier names) who did not
    submit the campaign reviews it."""
    require_reviewer(reviewer, reviewer_roles)
    if reviewer in (campaign.submitted_by, campaign.owner):
        raise Forbidden("a campaign cannot be approved by the person who made or submitted it (SAFE-4)")
