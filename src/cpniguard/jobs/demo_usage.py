"""Usage for demo customers: three months of call detail and the monthly bills that total it.

A bill's long-distance charges and minutes are the sums of its period's calls, so the demo's
CPNI agrees with itself when an agent compares a bill with its call detail.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cpniguard.calendar import eastern_date, start_of_day
from cpniguard.customers.model import Customer, CustomerKind, Service, ServiceCategory
from cpniguard.customers.records import Bill, CallDetailRecord, Direction
from cpniguard.jobs.demo_random import random_id, seconds_between
from cpniguard.jobs.demo_vocabulary import EXCHANGES, REGIONS

Cat = ServiceCategory
CALL_DETAIL_DAYS = 90
BILLED_MONTHS = 3
CALLING = frozenset({Cat.LOCAL, Cat.WIRELESS, Cat.INTERCONNECTED_VOIP, Cat.UCAAS, Cat.SIP_TRUNK})
REGION_OF_AREA = {r.area_code: r for r in REGIONS}
# Monthly plan prices in cents, and the bill column each belongs to.
LINE_PRICE = {Cat.LOCAL: 2495, Cat.WIRELESS: 4500, Cat.INTERCONNECTED_VOIP: 1999, Cat.UCAAS: 2500, Cat.SIP_TRUNK: 1800}
FEATURE_PRICE = {Cat.VOICEMAIL: 400, Cat.CALL_FEATURES: 600}
LONG_DISTANCE_PLAN = 500
INTERNET_PRICE = 5500
LONG_DISTANCE_RATE = 7  # cents a minute with a long-distance plan
CASUAL_RATE = 25  # cents a minute without one
TAX_RATE = 0.11


def call_detail(rng: random.Random, customer: Customer, as_of: datetime) -> list[CallDetailRecord]:
    lines = [s for s in customer.services if s.category in CALLING and s.telephone_number]
    if not lines:
        return []
    window = as_of - timedelta(days=CALL_DETAIL_DAYS)
    has_plan = Cat.LONG_DISTANCE in customer.subscribed_categories(as_of)
    calls = []
    for _ in range(rng.randint(2, 8)):
        line = rng.choice(lines)
        start = max(window, line.added_at)
        if start < as_of:
            calls.append(_call(rng, customer, line, seconds_between(rng, start, as_of), has_plan))
    return sorted(calls, key=lambda c: c.started_at)


def _call(rng: random.Random, customer: Customer, line: Service, at: datetime, has_plan: bool) -> CallDetailRecord:
    number = line.telephone_number or ""
    own_area = int(number[2:5])
    area = own_area if rng.random() < 0.6 else rng.choice(REGIONS).area_code
    other = f"+1{area}{rng.choice(EXCHANGES)}{rng.randrange(10_000):04d}"
    outbound = rng.random() < 0.55
    # About one call in eight is not answered; the rest last ~100 s typically, at most 2 h.
    duration = 0 if rng.random() < 0.12 else min(7200, 1 + int(rng.lognormvariate(4.6, 1.1)))
    toll = outbound and area != own_area and line.category is Cat.LOCAL
    charge = math.ceil(duration / 60) * (LONG_DISTANCE_RATE if has_plan else CASUAL_RATE) if toll else 0
    region = REGION_OF_AREA[own_area]
    location = f"{region.city}, {region.state}" if line.category is Cat.WIRELESS else ""
    direction = Direction.OUTBOUND if outbound else Direction.INBOUND
    return CallDetailRecord(random_id(rng), customer.id, number, at, direction, other, duration, charge, location)


@dataclass(frozen=True, slots=True)
class Period:
    label: str  # YYYY-MM
    start: datetime
    end: datetime


def billed_periods(as_of: datetime) -> list[Period]:
    """The last complete months before the as-of month (Eastern time), oldest first."""
    end = eastern_date(as_of).replace(day=1)
    found = []
    for _ in range(BILLED_MONTHS):
        first = (end - timedelta(days=1)).replace(day=1)
        found.append(Period(f"{first.year:04d}-{first.month:02d}", start_of_day(first), start_of_day(end)))
        end = first
    return found[::-1]


def bills(rng: random.Random, customer: Customer, calls: list[CallDetailRecord], periods: list[Period]) -> list[Bill]:
    prefix = "B" if customer.kind is CustomerKind.BUSINESS else "R"
    account = f"{prefix}{rng.randrange(10**9, 10**10)}"
    made = []
    for period in periods:
        if customer.created_at < period.end:
            in_period = [c for c in calls if period.start <= c.started_at < period.end]
            made.append(_bill(rng, customer, account, period, in_period))
    return made


def _bill(rng: random.Random, customer: Customer, account: str, period: Period, calls: list[CallDetailRecord]) -> Bill:
    last_second = period.end - timedelta(seconds=1)
    active = [s.category for s in customer.services if s.active(last_second)]
    local = sum(LINE_PRICE.get(cat, 0) for cat in active)
    features = sum(FEATURE_PRICE.get(cat, 0) for cat in active)
    plan = LONG_DISTANCE_PLAN if Cat.LONG_DISTANCE in active else 0
    long_distance = plan + sum(c.charge_cents for c in calls)
    assistance = rng.choice((0,) * 9 + (199, 299))
    internet = INTERNET_PRICE if Cat.INTERNET_ACCESS in active else 0
    subtotal = local + features + long_distance + assistance + internet
    total = subtotal + round(subtotal * TAX_RATE)
    minutes = sum(math.ceil(c.duration_seconds / 60) for c in calls)
    charges = (local, long_distance, assistance, features)
    return Bill(random_id(rng), customer.id, period.label, account, total, *charges, minutes)


def _next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def call_imported_at(started_at: datetime, as_of: datetime) -> datetime:
    """Call detail arrives in the nightly feed, at 02:00 Eastern after the call's day."""
    nightly = start_of_day(eastern_date(started_at) + timedelta(days=1)) + timedelta(hours=2)
    return min(nightly, as_of)


def bill_imported_at(period: str, as_of: datetime) -> datetime:
    """Bills are loaded on the third day after their period closes."""
    year, month = (int(part) for part in period.split("-"))
    return min(start_of_day(_next_month(date(year, month, 1)) + timedelta(days=2)), as_of)
