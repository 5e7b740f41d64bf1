"""Use cases of campaigns: create, submit, review, build the audience, export it (completion,
archiving and the records are in `closing` and `report`).

Every transition is recorded (who, when, why) in the append-only campaign events and in the
audit ledger. The audience is built by the batch gate in one set-based query, frozen, and
checked again when it is exported, so an objection recorded in between removes the customer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from cpniguard.access.model import ROLES, User
from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.calendar import eastern_date
from cpniguard.campaigns.model import (
    OPT_IN_RECIPIENTS,
    Approval,
    Campaign,
    CampaignChannel,
    CampaignStatus,
    Recipient,
    design_problem,
    new_campaign,
    record_problem,
    require_reviewer,
    required_approval,
    review_problem,
)
from cpniguard.clock import Clock
from cpniguard.customers.model import ContactKind, Customer, ServiceCategory
from cpniguard.decisions.model import Purpose
from cpniguard.errors import Conflict, Forbidden, InvalidInput, NotFound
from cpniguard.ids import CustomerId, new_id
from cpniguard.ports import BatchOutcome, CampaignEvent, Disclosure, UnitOfWork
from cpniguard.privacy_office.staff import require_cpni_training
from cpniguard.text import clean_text

MAKERS = frozenset({"marketing", "cro", "supervisor", "admin"})


def add_user(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    name: str,
    roles: frozenset[str],
    corporate_officer: bool = False,
    title: str = "",
) -> User:
    """A member of staff with roles (agent, marketing, cro, supervisor, privacy-officer, auditor,
    admin); those that open CPNI need current training (SAFE-2). An officer may sign the annual
    certificate (CERT-1) under their title (CERT-5)."""
    unknown = sorted(roles - ROLES)
    if unknown or not roles:
        raise InvalidInput(f"unknown or no role: {', '.join(unknown) or '-'} (one of: {', '.join(sorted(ROLES))})")
    now = clock.now()
    named = clean_text(name, "a user name", 1, 200)
    user = User(new_id(), named, frozenset(roles), now, corporate_officer, clean_text(title, "a title", 0, 200))
    with uow:
        if uow.users.by_name(user.name) is not None:
            raise Conflict(f"a user named {user.name!r} exists already")
        require_cpni_training(uow, user.name, user.roles, eastern_date(now))
        uow.users.add(user)
        details = {"user": user.name, "roles": sorted(user.roles), "corporate_officer": corporate_officer}
        uow.audit.add(AuditEntry.of("access:user:added", actor, now, details={**details, "title": user.title}))
        uow.commit()
    return user


def _user(uow: UnitOfWork, name: str) -> User:
    found = uow.users.by_name(name)
    if found is None:
        raise NotFound(f"unknown user: {name!r} (add one with `cpniguard users add`)")
    return found


def _campaign(uow: UnitOfWork, campaign_id: uuid.UUID) -> Campaign:
    found = uow.campaigns.get(campaign_id)
    if found is None:
        raise NotFound(f"unknown campaign: {campaign_id}")
    return found


def _record(uow: UnitOfWork, campaign: Campaign, user: User, at: datetime, reason: str) -> None:
    uow.campaigns.add_event(CampaignEvent(campaign.id, campaign.status.value, user.name, at, reason))
    details = {"campaign": str(campaign.id), "reason": reason}
    uow.audit.add(AuditEntry.of(f"campaigns:campaign:{campaign.status.value}", user.actor(), at, details=details))


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    name: str
    purpose: Purpose
    offer: str
    offer_category: ServiceCategory | None = None
    communications_related: bool = True
    cpni: tuple[str, ...] = ("services",)
    recipients: tuple[Recipient, ...] = (Recipient.CARRIER,)
    channel: CampaignChannel = CampaignChannel.EMAIL
    asks_for_approval: bool = False
    description: str = ""
    segment: ServiceCategory | None = None


def create_campaign(uow: UnitOfWork, clock: Clock, spec: CampaignSpec, by: str) -> Campaign:
    now = clock.now()
    with uow:
        user = _user(uow, by)
        if not user.roles & MAKERS:
            raise Forbidden(f"{user.name} may not create campaigns (marketing, cro, supervisor or admin)")
        campaign = new_campaign(
            new_id(),
            spec.name,
            spec.purpose,
            spec.offer,
            spec.offer_category,
            spec.communications_related,
            spec.cpni,
            spec.recipients,
            spec.channel,
            user.name,
            now,
            spec.asks_for_approval,
            spec.description,
            spec.segment,
        )
        uow.campaigns.add(campaign)
        _record(uow, campaign, user, now, "created")
        uow.commit()
    return campaign


def submit_campaign(uow: UnitOfWork, clock: Clock, campaign_id: uuid.UUID, by: str) -> tuple[Campaign, Approval]:
    """Submits for review; says which approval each customer needs. Refuses a record without its
    SAFE-3 fields (description, CPNI used, offer) and an unlawful design."""
    now = clock.now()
    with uow:
        user = _user(uow, by)
        if not user.roles & MAKERS:
            raise Forbidden(f"{user.name} may not submit campaigns (marketing, cro, supervisor or admin)")
        campaign = _campaign(uow, campaign_id)
        submitted = replace(campaign.moved(CampaignStatus.SUBMITTED), submitted_by=user.name)
        if missing := record_problem(campaign):
            raise InvalidInput(missing)
        if problem := design_problem(campaign):
            raise InvalidInput(f"unlawful design: {problem}")
        needed = required_approval(submitted)
        uow.campaigns.save(submitted)
        _record(uow, submitted, user, now, f"each customer needs {needed.value} approval")
        uow.commit()
    return submitted, needed


def review_campaign(
    uow: UnitOfWork, clock: Clock, campaign_id: uuid.UUID, by: str, approve: bool, reason: str
) -> Campaign:
    """The CRO's (or a named supervisor's) decision, never the submitter's own (SAFE-4). `by` is
    a known member of staff: the console's signed-in user, or the CLI's `--by` (the API has no
    review route: a key names a system, and a system is no CRO)."""
    now = clock.now()
    why = clean_text(reason, "a reason", 1, 2000)
    with uow:
        user = _user(uow, by)
        require_reviewer(user.name, user.roles)  # before the campaign is read, as for the makers
        campaign = _campaign(uow, campaign_id)
        review_problem(user.name, user.roles, campaign)
        reviewed = campaign.moved(CampaignStatus.APPROVED if approve else CampaignStatus.REJECTED)
        uow.campaigns.save(reviewed)
        _record(uow, reviewed, user, now, why)
        uow.commit()
    return reviewed


def build_audience(
    uow: UnitOfWork, clock: Clock, actor: Actor, campaign_id: uuid.UUID, at: datetime | None = None
) -> BatchOutcome:
    """The audience of an approved campaign by the batch gate, frozen as a snapshot with the
    exclusions counted by reason. Built again before the first export, it replaces the snapshot;
    once the campaign runs, the snapshot is the record of whom it was for and stays as it is."""
    now = clock.now()
    when = at or now
    with uow:
        campaign = _campaign(uow, campaign_id)
        if campaign.status is CampaignStatus.RUNNING:
            raise Conflict("the campaign is running: its frozen audience is the record of whom it reached (SAFE-3)")
        if campaign.status is not CampaignStatus.APPROVED:
            raise Conflict(f"the campaign is {campaign.status.value}: only an approved campaign builds an audience")
        uow.campaigns.clear_audience(campaign.id)
        outcome = audience_at(uow, campaign, when, None, into=campaign.id)
        uow.campaigns.freeze_audience(campaign.id, outcome.allowed, outcome.denied, now, when)
        details = {"campaign": str(campaign.id), "included": outcome.included, "excluded": outcome.denied}
        uow.audit.add(
            AuditEntry.of(
                "campaigns:audience:built",
                actor,
                now,
                categories=campaign.cpni,
                purpose=campaign.purpose.value,
                details=details,
            )
        )
        uow.commit()
    return outcome


OBJECTED = "customer objected"
ALREADY_APPROVED = "already approved"


def audience_at(
    uow: UnitOfWork,
    campaign: Campaign,
    at: datetime,
    customers: list[uuid.UUID] | None,
    into: uuid.UUID | None = None,
) -> BatchOutcome:
    """Who the campaign may reach at `at`: those the gate allows; for a request for approval
    (SAFE-4), those who do not have the approval yet and have not objected. `into`: a campaign
    whose audience snapshot takes those the store decides directly (BatchDecisions.decide)."""
    purpose, offer = campaign.purpose.value, campaign.offer_category
    if not campaign.asks_for_approval:
        return uow.batch.decide(purpose, at, customers, offer, segment=campaign.segment, into=into)
    decided = uow.batch.decide(purpose, at, customers, offer, keep_denied=True, segment=campaign.segment)
    lacking = decided.denied_ids or {}
    reachable = [c for reason, ids in lacking.items() if reason != OBJECTED for c in ids]
    excluded = {ALREADY_APPROVED: len(decided.allowed), OBJECTED: len(lacking.get(OBJECTED, []))}
    return BatchOutcome(reachable, {reason: n for reason, n in excluded.items() if n})


@dataclass(frozen=True, slots=True)
class ExportRow:
    """A customer a marketing system may reach, and where, by the campaign's channel."""

    customer_id: uuid.UUID
    name: str
    language: str
    contact: str  # an email or postal address of record, or the telephone number of record


@dataclass(frozen=True, slots=True)
class Export:
    export_id: uuid.UUID
    customers: list[uuid.UUID]  # still allowed at send time
    removed: dict[str, int]  # snapshot members no longer allowed, or not reachable, by reason
    disclosures: int
    rows: list[ExportRow] = field(default_factory=list)


NO_CONTACT = "no contact of record for the channel"
EXPORT_COLUMNS = ("campaign_id", "customer_id", "name", "language", "contact")


def export_row(campaign_id: str, row: ExportRow) -> list[str]:
    return [campaign_id, str(row.customer_id), row.name, row.language, row.contact]


CONTACT_KIND = {CampaignChannel.EMAIL: ContactKind.EMAIL, CampaignChannel.MAIL: ContactKind.POSTAL}


def _contact(customer: Customer, channel: CampaignChannel, at: datetime) -> str | None:
    """Where a campaign on `channel` reaches the customer: the telephone number of a service
    (DEF-6), or an address on the account now (the 30-day tenure of DEF-5 guards disclosures
    and notices of changes, not offers)."""
    if channel not in CONTACT_KIND:  # phone or SMS
        numbers = customer.telephone_numbers_of_record(at)
        return numbers[0] if numbers else None
    kind = CONTACT_KIND[channel]
    found = [c for c in customer.contacts if c.kind is kind and c.on_account(at)]
    return found[0].value if found else None


def export_audience(uow: UnitOfWork, clock: Clock, actor: Actor, campaign_id: uuid.UUID) -> Export:
    """The frozen audience re-checked now (an objection since the build removes the customer);
    CPNI given to joint-venture partners or third parties leaves one disclosure record per
    customer (SAFE-3). The first export starts the campaign running."""
    now = clock.now()
    export_id = new_id()
    with uow:
        campaign = _campaign(uow, campaign_id)
        if campaign.status not in (CampaignStatus.APPROVED, CampaignStatus.RUNNING):
            raise Conflict(f"the campaign is {campaign.status.value}: only an approved campaign is exported")
        if uow.campaigns.audience_built(campaign.id) is None:
            raise Conflict("build the audience first (`cpniguard campaigns audience ID`)")
        snapshot = uow.campaigns.audience(campaign.id)
        now_allowed = audience_at(uow, campaign, now, snapshot)
        rows: list[ExportRow] = []
        removed = dict(now_allowed.denied)
        for customer in uow.customers.get_many(sorted(CustomerId(uuid.UUID(x)) for x in now_allowed.allowed)):
            contact = _contact(customer, campaign.channel, now)
            if contact is None:
                removed[NO_CONTACT] = removed.get(NO_CONTACT, 0) + 1
                continue
            rows.append(ExportRow(customer.id, customer.name, customer.language.value, contact))
        customers = [row.customer_id for row in rows]
        shared = [r for r in campaign.recipients if r in OPT_IN_RECIPIENTS]
        categories = ",".join(campaign.cpni)
        records = [
            Disclosure(campaign.id, c, r.value, categories, now, actor.label, export_id)
            for r in shared
            for c in customers
        ]
        uow.campaigns.add_disclosures(records)
        if campaign.status is CampaignStatus.APPROVED:
            running = campaign.moved(CampaignStatus.RUNNING)
            uow.campaigns.save(running)
            uow.campaigns.add_event(CampaignEvent(campaign.id, running.status.value, actor.label, now, "first export"))
            started = {"campaign": str(campaign.id), "reason": "first export"}
            uow.audit.add(AuditEntry.of("campaigns:campaign:running", actor, now, details=started))
        details = {
            "campaign": str(campaign.id),
            "export": str(export_id),
            "customers": len(customers),
            "removed_since_build": removed,
            "disclosures": len(records),
        }
        uow.audit.add(
            AuditEntry.of(
                "campaigns:audience:exported",
                actor,
                now,
                categories=campaign.cpni,
                purpose=campaign.purpose.value,
                details=details,
            )
        )
        uow.commit()
    return Export(export_id, customers, removed, len(records), rows)
