"""The regulatory clocks of a breach, as pure functions of the facts and the business calendar.

Which rule text applies is a setting (AMB-1): the 2007 text of 47 CFR 64.2011 in force, the
2023 amendments (FCC 23-111) pending, or `strictest`, the union of both. Every clock runs from
the reasonable determination (AMB-13, BREACH23-11), in Eastern time (CAL-4), business days
skipping weekends, federal holidays with their observed days and closure days (CAL-1..CAL-3).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from cpniguard.calendar import add_business_days, add_days, add_years, eastern_date, is_business_day, start_of_day
from cpniguard.errors import InvalidInput

AGENCY_BUSINESS_DAYS = 7  # BREACH-1, BREACH23-3
HOLD_BUSINESS_DAYS = 7  # BREACH-2: seven full business days after the agency notice
CUSTOMER_CAP_DAYS = 30  # BREACH23-7: calendar days, never rolled (CAL-5)
CUSTOMER_SLA_BUSINESS_DAYS = 5  # our internal target once notice may go (BREACH-5, AMB-12)
HOLD_LATE_DAY = 25  # AMB-1: warn when the hold ends after day 25 of the 30-day cap
SUMMARY_THRESHOLD = 500  # BREACH23-5
RECORD_YEARS = 2  # BREACH-6, BREACH23-10


class RuleVersion(StrEnum):
    V2007 = "2007"
    V2023 = "2023"
    STRICTEST = "strictest"


def parse_rules(text: str) -> RuleVersion:
    try:
        return RuleVersion(text.strip().lower())
    except ValueError:
        raise InvalidInput(f"unknown breach rule version {text!r} (one of: 2007, 2023, strictest)") from None


@dataclass(frozen=True, slots=True)
class AgencyDelay:
    """BREACH-4, BREACH23-6: a written direction not to notify, received on `received_on`,
    suppressing notice through `until` (extensions move it), ended early by an all-clear."""

    received_on: date
    until: date
    ended_at: datetime | None = None

    def first_free_moment(self) -> datetime:
        if self.ended_at is not None:
            return self.ended_at
        return start_of_day(add_days(self.until, 1))


@dataclass(frozen=True, slots=True)
class ClockFacts:
    """What the clocks depend on. `covered_2007`: an intentional breach of CPNI (BREACH-7);
    `covered_2023`: covered data, not the good-faith exception (BREACH23-1, BREACH23-2)."""

    rules: RuleVersion
    determined_at: datetime
    law_enforcement_notified_at: datetime | None = None
    covered_2007: bool = True
    covered_2023: bool = True
    affected_count: int | None = None  # None: unknown
    harm_likely: bool | None = None  # None: not yet assessed, so harm is assumed
    urgent_consultation_at: datetime | None = None  # BREACH-3: urgent need stated and agency consulted
    delay: AgencyDelay | None = None
    last_notice_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Each clock as a legal date and an internal target (AMB-2); None where no rule sets one."""

    rules: RuleVersion
    determined_on: date
    agency_recipients: tuple[str, ...]
    law_enforcement_notice_due: date | None
    law_enforcement_notice_target: date | None
    customer_notice_required: bool
    customer_notice_not_before: date | None  # first day of notice after a hold; None: no hold
    customer_notice_not_before_projected: bool  # the agency notice is not recorded: from its due day
    hold_until: datetime | None  # the first moment customer notice may go, when a hold applies
    customer_notice_due: date | None
    customer_notice_target: date | None
    annual_summary_due: date | None
    records_kept_until: date
    informational: tuple[str, ...] = field(default=())
    warnings: tuple[str, ...] = field(default=())


def applies_2007(facts: ClockFacts) -> bool:
    return facts.rules is not RuleVersion.V2023 and facts.covered_2007


def applies_2023(facts: ClockFacts) -> bool:
    return facts.rules is not RuleVersion.V2007 and facts.covered_2023


def annual_summary_path(facts: ClockFacts) -> bool:
    """BREACH23-5: under 500 customers and no harm reasonably likely: into the annual summary,
    not an individual agency notice; unless the 2007 text applies, which has no threshold."""
    small = facts.affected_count is not None and facts.affected_count < SUMMARY_THRESHOLD
    return applies_2023(facts) and not applies_2007(facts) and small and facts.harm_likely is False


def customer_notice_required(facts: ClockFacts) -> bool:
    """BREACH-5: always under 2007; BREACH23-8: under 2023 unless no harm is reasonably likely."""
    return applies_2007(facts) or (applies_2023(facts) and facts.harm_likely is not False)


def agency_recipients(facts: ClockFacts) -> tuple[str, ...]:
    if annual_summary_path(facts) or not (applies_2007(facts) or applies_2023(facts)):
        return ()
    return ("FCC", "USSS", "FBI") if applies_2023(facts) else ("USSS", "FBI")


def deadlines(facts: ClockFacts, closures: Collection[date] = ()) -> Deadlines:
    determined = eastern_date(facts.determined_at)
    recipients = agency_recipients(facts)
    agency_due = add_business_days(determined, AGENCY_BUSINESS_DAYS, closures) if recipients else None
    agency_target = add_business_days(determined, AGENCY_BUSINESS_DAYS - 1, closures) if recipients else None
    required = customer_notice_required(facts)
    hold_until, projected = _hold_until(facts, agency_due, closures)
    not_before = eastern_date(hold_until) if hold_until else None
    due = _customer_due(facts, determined, closures) if required else None
    target = _customer_target(facts, agency_due, hold_until, due, closures) if required else None
    return Deadlines(
        facts.rules,
        determined,
        recipients,
        agency_due,
        agency_target,
        required,
        not_before,
        projected,
        hold_until,
        due,
        target,
        _summary_due(determined, closures) if annual_summary_path(facts) else None,
        records_kept_until(facts),
        _informational(facts, determined),
        _warnings(facts, not_before, due),
    )


def _hold_until(facts: ClockFacts, agency_due: date | None, closures: Collection[date]) -> tuple[datetime | None, bool]:
    """BREACH-2: under 2007, no notice until seven full business days after the agency notice
    (from its due day while it is not recorded); BREACH-3 lifts it after a consultation;
    BREACH-4: an agency's written delay holds notice under either text."""
    moment: datetime | None = None
    projected = False
    if applies_2007(facts) and (facts.law_enforcement_notified_at or agency_due):
        base = eastern_date(facts.law_enforcement_notified_at) if facts.law_enforcement_notified_at else agency_due
        projected = facts.law_enforcement_notified_at is None
        assert base is not None
        moment = start_of_day(add_days(add_business_days(base, HOLD_BUSINESS_DAYS, closures), 1))
        consulted, notified = facts.urgent_consultation_at, facts.law_enforcement_notified_at
        if consulted and notified:
            moment = max(consulted, notified)
            projected = False
    if facts.delay is not None:
        free = facts.delay.first_free_moment()
        moment = free if moment is None else max(moment, free)
    return moment, projected


def _customer_due(facts: ClockFacts, determined: date, closures: Collection[date]) -> date | None:
    """BREACH23-7: 30 calendar days after determination, not rolled (CAL-5). AMB-12: an agency
    delay suspends the cap; the days left when it began resume when it ends (the earlier reading)."""
    if not applies_2023(facts):
        return None  # BREACH-5: the 2007 text sets no outer date
    cap = add_days(determined, CUSTOMER_CAP_DAYS)
    delay = facts.delay
    if delay is None or delay.received_on > cap:
        return cap
    left = max((cap - delay.received_on).days, 0)
    return add_days(eastern_date(delay.first_free_moment()), left)


def _customer_target(
    facts: ClockFacts,
    agency_due: date | None,
    hold_until: datetime | None,
    due: date | None,
    closures: Collection[date],
) -> date:
    """Five business days after notice may first go (or after the agency notice where no hold
    applies), never later than the legal date."""
    if hold_until is not None:
        start = eastern_date(hold_until) - timedelta(days=1)
    elif facts.law_enforcement_notified_at is not None:
        start = eastern_date(facts.law_enforcement_notified_at)
    else:
        start = agency_due or eastern_date(facts.determined_at)
    target = add_business_days(start, CUSTOMER_SLA_BUSINESS_DAYS, closures)
    return min(target, due) if due else target


def _summary_due(determined: date, closures: Collection[date]) -> date:
    """BREACH23-5 [K]: 1 February after the year of the breach; a filing with the FCC, so a
    weekend or holiday rolls it to the next business day (CAL-5)."""
    day = date(determined.year + 1, 2, 1)
    while not is_business_day(day, closures):
        day = add_days(day, 1)
    return day


def records_kept_until(facts: ClockFacts) -> date:
    """BREACH-6, BREACH23-10: two years after the last notice (or the determination)."""
    moments = [facts.determined_at, facts.law_enforcement_notified_at, facts.last_notice_at]
    latest = max(eastern_date(m) for m in moments if m is not None)
    return add_years(latest, RECORD_YEARS)


def _informational(facts: ClockFacts, determined: date) -> tuple[str, ...]:
    """BREACH23-0: with the 2007 text chosen, what the pending 2023 text would add is shown,
    never marked overdue."""
    if facts.rules is not RuleVersion.V2007 or not facts.covered_2023:
        return ()
    cap = add_days(determined, CUSTOMER_CAP_DAYS)
    return (
        "2023 rule (pending, not applied): the FCC is also a recipient of the agency notice",
        f"2023 rule (pending, not applied): customers notified by {cap.isoformat()}",
    )


def _warnings(facts: ClockFacts, not_before: date | None, due: date | None) -> tuple[str, ...]:
    found: list[str] = []
    if not_before and due and not_before > due:
        found.append(f"the hold ends after the 30-day cap ({due.isoformat()}): escalate to counsel (AMB-1, AMB-12)")
    elif not_before and due and (due - not_before).days < CUSTOMER_CAP_DAYS - HOLD_LATE_DAY:
        # AMB-1: the hold ends after day 25 of the cap (or as late, relative to a moved cap)
        found.append(f"the hold ends {(due - not_before).days} days before the 30-day cap: little time is left (AMB-1)")
    if not (applies_2007(facts) or applies_2023(facts)):
        found.append("not a breach under the chosen rules: kept on record, no notice is due (BREACH-7)")
    return tuple(found)
