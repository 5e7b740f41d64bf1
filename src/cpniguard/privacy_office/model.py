"""The privacy office's registers: complaints, actions against data brokers, staff training.

CERT-3: the annual certification summarises the complaints received about unauthorised
release of CPNI, by category, and explains any actions taken against data brokers in the year.
SAFE-2: staff are trained on when they may use CPNI before they are given a role that opens it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from cpniguard.access.model import CPNI_ROLES
from cpniguard.calendar import start_of_day
from cpniguard.errors import Conflict, Forbidden, InvalidInput


class ComplaintCategory(StrEnum):
    """CERT-3: the categories of the FCC's certification template, and the rest."""

    EMPLOYEE_ACCESS = "employee-access"  # improper access by employees
    UNAUTHORIZED_DISCLOSURE = "unauthorized-disclosure"  # improper disclosure to unauthorised individuals
    ONLINE_ACCESS = "online-access"  # improper access to online information by individuals not authorised
    OTHER = "other"


class ComplaintChannel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    MAIL = "mail"
    WEB = "web"
    IN_PERSON = "in-person"
    REGULATOR = "regulator"  # forwarded by the FCC or a state commission
    OTHER = "other"


class Forum(StrEnum):
    """Where an action against a data broker was taken (CERT-3, the FCC template's question)."""

    STATE_COMMISSION = "state-commission"
    COURT = "court"
    FCC = "fcc"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Complaint:
    id: uuid.UUID
    received_at: datetime
    category: ComplaintCategory
    channel: ComplaintChannel
    customer_id: uuid.UUID | None
    summary: str
    recorded_by: str
    recorded_at: datetime
    status: str = "open"  # open | closed
    resolution: str = ""
    closed_at: datetime | None = None

    def closed(self, resolution: str, at: datetime) -> Complaint:
        if self.status == "closed":
            raise Conflict(f"complaint {self.id} was closed already on {self.closed_at:%Y-%m-%d}")
        if at < self.received_at:
            raise InvalidInput("a complaint cannot be closed before it was received")
        return replace(self, status="closed", resolution=resolution, closed_at=at)


def received_problem(received_at: datetime, now: datetime) -> None:
    if received_at > now:
        raise InvalidInput("a complaint cannot be received in the future")


@dataclass(frozen=True, slots=True)
class BrokerAction:
    """A proceeding instituted or a petition filed against a data broker (CERT-3)."""

    id: uuid.UUID
    taken_on: date
    forum: Forum
    broker: str
    description: str
    recorded_by: str
    recorded_at: datetime


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """A calendar year, 1 January to 31 December in Eastern time (CERT-3, CERT-4), as UTC moments."""
    if not 1900 < year < 9999:
        raise InvalidInput(f"the year must be a four-digit year, not {year}")
    return start_of_day(date(year, 1, 1)), start_of_day(date(year + 1, 1, 1))


@dataclass(frozen=True, slots=True)
class ComplaintCounts:
    """CERT-3: how many complaints were received in a year, per category and per month."""

    year: int
    by_category: dict[str, int]
    by_month: dict[int, dict[str, int]]  # month 1..12 -> category -> count

    @property
    def total(self) -> int:
        return sum(self.by_category.values())


def count_complaints(year: int, received: list[tuple[int, ComplaintCategory]]) -> ComplaintCounts:
    """Counts (Eastern month, category) pairs; every category and month appears, if only with 0."""
    by_category = {c.value: 0 for c in ComplaintCategory}
    by_month = {m: {c.value: 0 for c in ComplaintCategory} for m in range(1, 13)}
    for month, category in received:
        by_category[category.value] += 1
        by_month[month][category.value] += 1
    return ComplaintCounts(year, by_category, by_month)


@dataclass(frozen=True, slots=True)
class TrainingRecord:
    """SAFE-2: a member of staff completed CPNI training on a day; it counts until it expires."""

    id: uuid.UUID
    staff_name: str
    course: str
    completed_on: date
    expires_on: date
    recorded_by: str
    recorded_at: datetime

    def current(self, today: date) -> bool:
        return self.completed_on <= today < self.expires_on


def new_training(
    record_id: uuid.UUID, staff: str, course: str, completed_on: date, expires_on: date, by: str, at: datetime
) -> TrainingRecord:
    if expires_on <= completed_on:
        raise InvalidInput("a training record must expire after the day it was completed")
    return TrainingRecord(record_id, staff, course, completed_on, expires_on, by, at)


def check_cpni_training(name: str, roles: frozenset[str], records: list[TrainingRecord], today: date) -> None:
    """SAFE-2: a role that opens CPNI needs a current training record (completed by today,
    expiring after today); auditor and admin open no CPNI and need none."""
    opening = sorted(roles & CPNI_ROLES)
    if opening and not any(r.current(today) for r in records):
        raise Forbidden(
            f"{name} has no current CPNI training record, so cannot be given the {', '.join(opening)} role "
            "(SAFE-2): record the training first (`cpniguard training add`)"
        )


@dataclass(frozen=True, slots=True)
class TrainingDue:
    """A member of staff whose CPNI training is missing, expired, or expires soon."""

    staff_name: str
    roles: frozenset[str]
    expires_on: date | None  # of the latest record; None: never trained
    status: str  # none | expired | expiring


def training_due(
    staff: dict[str, frozenset[str]], records: list[TrainingRecord], today: date, until: date
) -> list[TrainingDue]:
    """Staff holding a role that opens CPNI, and anyone with a record, whose training is missing
    or gone, or ends by `until`."""
    latest: dict[str, date] = {}
    for r in records:
        if r.completed_on <= today:
            latest[r.staff_name] = max(latest.get(r.staff_name, r.expires_on), r.expires_on)
    names = sorted({n for n, roles in staff.items() if roles & CPNI_ROLES} | {r.staff_name for r in records})
    due = []
    for name in names:
        expires = latest.get(name)
        if expires is None:
            due.append(TrainingDue(name, staff.get(name, frozenset()), None, "none"))
        elif expires <= today:
            due.append(TrainingDue(name, staff.get(name, frozenset()), expires, "expired"))
        elif expires <= until:
            due.append(TrainingDue(name, staff.get(name, frozenset()), expires, "expiring"))
    return due
