"""Use cases of the privacy office's registers for the certification (CERT-3): complaints about
unauthorised release of CPNI, and actions taken against data brokers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.calendar import EASTERN, eastern_date
from cpniguard.clock import Clock
from cpniguard.customers.model import parse_enum
from cpniguard.errors import InvalidInput, NotFound
from cpniguard.ids import CustomerId, new_id
from cpniguard.ports import UnitOfWork
from cpniguard.privacy_office.model import (
    BrokerAction,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintCounts,
    Forum,
    count_complaints,
    received_problem,
    year_bounds,
)
from cpniguard.text import clean_text


@dataclass(frozen=True, slots=True)
class NewComplaint:
    category: str
    channel: str
    summary: str
    customer_id: uuid.UUID | None = None
    received_at: datetime | None = None  # now, when not given


def parse_category(text: str) -> ComplaintCategory:
    return parse_enum(ComplaintCategory, text.strip().lower(), "complaint category")


def record_complaint(uow: UnitOfWork, clock: Clock, actor: Actor, new: NewComplaint) -> Complaint:
    """CERT-3: a complaint about the release of CPNI, in one of the template's categories."""
    now = clock.now()
    received = new.received_at or now
    received_problem(received, now)
    category = parse_category(new.category)
    channel = parse_enum(ComplaintChannel, new.channel.strip().lower(), "channel")
    summary = clean_text(new.summary, "a summary", 1, 4000)
    complaint = Complaint(new_id(), received, category, channel, new.customer_id, summary, actor.label, now)
    with uow:
        if new.customer_id is not None and not uow.customers.exists(CustomerId(new.customer_id)):
            raise NotFound(f"unknown customer: {new.customer_id}")
        uow.privacy.add_complaint(complaint)
        details = {"complaint": str(complaint.id), "category": category.value, "channel": channel.value}
        uow.audit.add(AuditEntry.of("privacy:complaint:recorded", actor, now, new.customer_id, details=details))
        uow.commit()
    return complaint


def close_complaint(uow: UnitOfWork, clock: Clock, actor: Actor, complaint_id: uuid.UUID, resolution: str) -> Complaint:
    """Closes an open complaint with how it was resolved."""
    now = clock.now()
    text = clean_text(resolution, "a resolution", 1, 4000)
    with uow:
        found = uow.privacy.complaint(complaint_id)
        if found is None:
            raise NotFound(f"unknown complaint: {complaint_id}")
        closed = found.closed(text, now)
        uow.privacy.close_complaint(closed)
        details = {"complaint": str(closed.id), "category": closed.category.value}
        uow.audit.add(AuditEntry.of("privacy:complaint:closed", actor, now, closed.customer_id, details=details))
        uow.commit()
    return closed


def list_complaints(uow: UnitOfWork, year: int | None = None, category: str | None = None) -> list[Complaint]:
    since, until = year_bounds(year) if year is not None else (None, None)
    chosen = parse_category(category) if category else None
    with uow:
        return uow.privacy.complaints(since, until, chosen)


def complaint_counts(uow: UnitOfWork, year: int) -> ComplaintCounts:
    """CERT-3: complaints received from 1 January to 31 December (Eastern), per category and month."""
    since, until = year_bounds(year)
    with uow:
        found = uow.privacy.complaints(since, until)
    return count_complaints(year, [(c.received_at.astimezone(EASTERN).month, c.category) for c in found])


@dataclass(frozen=True, slots=True)
class NewBrokerAction:
    taken_on: date
    forum: str
    broker: str
    description: str


def record_broker_action(uow: UnitOfWork, clock: Clock, actor: Actor, new: NewBrokerAction) -> BrokerAction:
    """CERT-3: a proceeding instituted or a petition filed against a data broker."""
    now = clock.now()
    if new.taken_on > eastern_date(now):
        raise InvalidInput("an action against a data broker cannot be dated in the future")
    forum = parse_enum(Forum, new.forum.strip().lower(), "forum")
    broker = clean_text(new.broker, "a broker name", 1, 200)
    description = clean_text(new.description, "a description", 1, 4000)
    action = BrokerAction(new_id(), new.taken_on, forum, broker, description, actor.label, now)
    with uow:
        uow.privacy.add_broker_action(action)
        details = {"action": str(action.id), "forum": forum.value, "broker": broker, "taken_on": new.taken_on}
        uow.audit.add(AuditEntry.of("privacy:broker-action:recorded", actor, now, details=details))
        uow.commit()
    return action


def list_broker_actions(uow: UnitOfWork, year: int | None = None) -> list[BrokerAction]:
    if year is None:
        with uow:
            return uow.privacy.broker_actions()
    year_bounds(year)  # the same check of the year
    with uow:
        return uow.privacy.broker_actions(date(year, 1, 1), date(year + 1, 1, 1))
