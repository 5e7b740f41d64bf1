"""Read-only views for the privacy office console: the monthly dashboard, the deadlines coming
up, and the ledger searched by action, customer and date range.

Nothing here writes. Breach clocks come from the breach service (AMB-2: each deadline shows its
legal date and its earlier internal target); the opt-out failure letters (SAFE-5) from their
open tasks; the monthly figures from `EvidenceReader.dashboard`, set-based.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from cpniguard.audit.model import AuditEntry, Checkpoint
from cpniguard.breaches.clocks import Deadlines
from cpniguard.breaches.model import Incident
from cpniguard.breaches.service import list_incidents
from cpniguard.calendar import add_days, eastern_date, start_of_day
from cpniguard.clock import Clock
from cpniguard.errors import InvalidInput
from cpniguard.ports import UnitOfWork

MONTHS = 12
SEARCH_LIMIT = 200
EARLIEST, LATEST = date(1900, 2, 1), date(2999, 11, 30)  # open ends of a date range (calendar.py's years)


@dataclass(frozen=True, slots=True)
class MonthFigures:
    month: date  # its first day
    opt_outs: int
    opt_ins: int
    customers: int  # accounts open at the month's end
    auth_failures: int
    lockouts: int

    @property
    def opt_out_rate(self) -> float:
        """Opt-outs in the month per 100 accounts open at its end."""
        return 100.0 * self.opt_outs / self.customers if self.customers else 0.0

    @property
    def opt_in_rate(self) -> float:
        return 100.0 * self.opt_ins / self.customers if self.customers else 0.0


@dataclass(frozen=True, slots=True)
class Deadline:
    """Something owed by a legal date, with its internal target (AMB-2)."""

    what: str  # agency-notice | customer-notice | annual-summary | fcc-opt-out-letter
    subject: str
    legal: date | None
    target: date | None
    overdue: bool
    due: bool  # the internal target has come, the legal date not yet passed
    incident: uuid.UUID | None = None

    @property
    def sort_key(self) -> date:
        return self.target or self.legal or date.max


@dataclass(frozen=True, slots=True)
class Dashboard:
    months: list[MonthFigures]
    notices: list[tuple[str, str, int]]  # channel, status, messages queued in the window
    deadlines: list[Deadline]


def month_starts(today: date, count: int = MONTHS) -> list[date]:
    """The first days of the `count` months up to and including today's, oldest first."""
    index = today.year * 12 + today.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(index - count + 1, index + 1)]


def _bounds(starts: list[date]) -> list[tuple[datetime, datetime]]:
    following = date(starts[-1].year + starts[-1].month // 12, starts[-1].month % 12 + 1, 1)
    ends = [*starts[1:], following]
    return [(start_of_day(a), start_of_day(b)) for a, b in zip(starts, ends, strict=True)]


def dashboard(uow: UnitOfWork, clock: Clock, count: int = MONTHS) -> Dashboard:
    today = eastern_date(clock.now())
    starts = month_starts(today, count)
    with uow:
        figures = uow.evidence.dashboard(_bounds(starts))
    months = [
        MonthFigures(m, *values)
        for m, *values in zip(
            starts,
            figures.opt_outs,
            figures.opt_ins,
            figures.customers,
            figures.auth_failures,
            figures.lockouts,
            strict=True,
        )
    ]
    notices = sorted((ch, st, n) for (ch, st), n in figures.notices.items())
    letters = [
        Deadline("fcc-opt-out-letter", task.mechanisms, task.due_on, None, _late(task.due_on, today), False)
        for task in figures.letter_tasks
    ]
    breaches = [d for i, clocks, late in list_incidents(uow, clock) for d in breach_deadlines(i, clocks, late, today)]
    return Dashboard(months, notices, sorted([*breaches, *letters], key=lambda d: d.sort_key))


def _late(legal: date | None, today: date) -> bool:
    return legal is not None and today > legal  # a legal date passes at the end of its day


def breach_deadlines(incident: Incident, clocks: Deadlines | None, late: list[str], today: date) -> list[Deadline]:
    """What the incident still owes: the agency notice (BREACH-1, BREACH23-3), the customer
    notice (BREACH23-7, BREACH-5) and the annual summary (BREACH23-5)."""
    if clocks is None or incident.investigation_closed_at is not None:
        return []
    owed: list[tuple[str, date | None, date | None, str]] = []
    if clocks.agency_recipients and incident.law_enforcement_notified_at is None:
        owed.append(
            (
                "agency-notice",
                clocks.law_enforcement_notice_due,
                clocks.law_enforcement_notice_target,
                "law-enforcement-notice",
            )
        )
    if clocks.customer_notice_required and incident.customer_notices_at is None:
        owed.append(("customer-notice", clocks.customer_notice_due, clocks.customer_notice_target, "customer-notice"))
    if clocks.annual_summary_due:
        owed.append(("annual-summary", clocks.annual_summary_due, None, ""))
    return [
        Deadline(
            what,
            incident.title,
            legal,
            target,
            overdue=tag in late if tag else _late(legal, today),
            due=target is not None and target <= today,
            incident=incident.id,
        )
        for what, legal, target, tag in owed
    ]


@dataclass(frozen=True, slots=True)
class LedgerState:
    entries: int  # the sequence number of the head
    last_checkpoint: Checkpoint | None


def ledger_state(uow: UnitOfWork) -> LedgerState:
    with uow:
        seq, _ = uow.audit.head()
        return LedgerState(seq, uow.audit.last_checkpoint())


def search_ledger(
    uow: UnitOfWork,
    customer: uuid.UUID | None,
    action: str | None,
    first: date | None,
    last: date | None,
    limit: int = SEARCH_LIMIT,
    before: int | None = None,
) -> list[AuditEntry]:
    """The newest entries first, made on the Eastern-time days `first` to `last` (inclusive);
    `before` (an entry's seq) gives the next page, older than that entry."""
    if first and last and last < first:
        raise InvalidInput("the end of the date range lies before its start")
    with uow:
        if first is None and last is None:
            return uow.audit.find(customer, action, limit, before)
        since = start_of_day(first or EARLIEST)
        until = start_of_day(add_days(last or LATEST, 1))
        return uow.evidence.ledger(customer, action, since, until, limit, before)
