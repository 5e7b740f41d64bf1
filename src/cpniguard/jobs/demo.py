"""The demo carrier: residential and business customers with services, contacts of record,
call detail, bills and consent histories, made from a seed and an as-of moment.

Pure: nothing here reads the clock or touches storage. The same seed and as-of give the same
customers, ids included (every id and choice comes from one seeded RNG, in one order), so a
demo database can be rebuilt exactly; jobs/demo_load.py writes the batches.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cpniguard.consent.model import ConsentEvent, ConsentState, fold
from cpniguard.customers.model import (
    Contact,
    ContactKind,
    Customer,
    CustomerKind,
    Language,
    ListingStatus,
    Service,
    ServiceCategory,
)
from cpniguard.customers.records import Bill, CallDetailRecord
from cpniguard.ids import CustomerId
from cpniguard.jobs import demo_consent, demo_usage
from cpniguard.jobs import demo_vocabulary as words
from cpniguard.jobs.demo_random import random_id, seconds_before, seconds_between
from cpniguard.jobs.demo_vocabulary import EXCHANGES, REGIONS

DEFAULT_SEED = 1
LINES_PER_EXCHANGE = 10_000
AREA_SPACE = len(EXCHANGES) * LINES_PER_EXCHANGE
# k -> (k * STRIDE + offset) mod AREA_SPACE visits every number of an area code once, because
# STRIDE is a prime that does not divide AREA_SPACE: numbers never repeat within a run.
STRIDE = 1_000_003
Cat = ServiceCategory


@dataclass(slots=True)
class DemoBatch:
    """One batch of customers with everything the demo records about them."""

    customers: list[Customer] = field(default_factory=list)
    call_detail: list[CallDetailRecord] = field(default_factory=list)
    bills: list[Bill] = field(default_factory=list)
    consent_events: list[ConsentEvent] = field(default_factory=list)
    consent_states: list[ConsentState] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email_words: tuple[str, ...]


class DemoCarrier:
    """Makes customers in batches; keeps the RNG and the number allocation between batches."""

    def __init__(self, seed: int, as_of: datetime) -> None:
        self.seed = seed
        self.as_of = as_of
        self._rng = random.Random(seed)
        self._offsets = [self._rng.randrange(AREA_SPACE) for _ in REGIONS]
        self._allocated = [0] * len(REGIONS)
        self._made = 0
        self._periods = demo_usage.billed_periods(as_of)

    def batch(self, size: int) -> DemoBatch:
        batch = DemoBatch()
        for _ in range(size):
            self._add(batch, self._customer())
        return batch

    def _add(self, batch: DemoBatch, customer: Customer) -> None:
        rng = self._rng
        calls = demo_usage.call_detail(rng, customer, self.as_of)
        events = demo_consent.history(rng, customer, self.as_of)
        batch.customers.append(customer)
        batch.call_detail.extend(calls)
        batch.bills.extend(demo_usage.bills(rng, customer, calls, self._periods))
        batch.consent_events.extend(events)
        if events:  # a customer without events has no current-state row, as in the service
            batch.consent_states.append(fold(customer.id, events))

    def _customer(self) -> Customer:
        rng, self._made = self._rng, self._made + 1
        cid = CustomerId(random_id(rng))
        kind = CustomerKind.BUSINESS if rng.random() < 0.12 else CustomerKind.RESIDENTIAL
        language = Language.DE if rng.random() < 0.15 else Language.EN
        created = self._opened_at()
        region = rng.randrange(len(REGIONS))
        person = _business(rng, language) if kind is CustomerKind.BUSINESS else _resident(rng, language)
        services = self._services(cid, kind, region, created)
        contacts = _telephones(rng, services) + self._addresses(cid, kind, region, person, created)
        return Customer(
            cid, person.name, kind, language, created, _listing(rng, kind), tuple(services), tuple(contacts)
        )

    def _opened_at(self) -> datetime:
        r = self._rng.random()
        if r < 0.04:  # newer than 30 days: no address of record yet (DEF-5)
            return seconds_before(self._rng, self.as_of, 0, 30)
        if r < 0.10:
            return seconds_before(self._rng, self.as_of, 30, 120)
        return seconds_before(self._rng, self.as_of, 120, 8 * 365)

    def _number(self, region: int) -> str:
        k, self._allocated[region] = self._allocated[region], self._allocated[region] + 1
        n = (k * STRIDE + self._offsets[region]) % AREA_SPACE
        exchange, line = divmod(n, LINES_PER_EXCHANGE)
        return f"+1{REGIONS[region].area_code}{EXCHANGES[exchange]}{line:04d}"

    def _services(self, cid: CustomerId, kind: CustomerKind, region: int, created: datetime) -> list[Service]:
        rng = self._rng
        lines, extras = _plan(rng, kind)
        numbers = [self._number(region) for _ in range(len(lines))]
        services = [Service(random_id(rng), cid, cat, created, n) for cat, n in zip(lines, numbers, strict=True)]
        for cat in extras:
            services.append(self._extra(cid, cat, numbers[0], created))
        return services

    def _extra(self, cid: CustomerId, cat: ServiceCategory, number: str, created: datetime) -> Service:
        rng = self._rng
        added = created if rng.random() < 0.6 else seconds_between(rng, created, self.as_of)
        removed = seconds_between(rng, added, self.as_of) if rng.random() < 0.08 else None
        on_number = None if cat is Cat.INTERNET_ACCESS else number
        return Service(random_id(rng), cid, cat, added, on_number, removed)

    def _addresses(
        self, cid: CustomerId, kind: CustomerKind, region: int, person: Person, created: datetime
    ) -> list[Contact]:
        rng = self._rng
        business = kind is CustomerKind.BUSINESS
        found: list[Contact] = []
        if rng.random() < (0.95 if business else 0.85):
            found += self._history(cid, ContactKind.EMAIL, created, lambda: self._email(person))
        found += self._history(cid, ContactKind.POSTAL, created, lambda: _postal(rng, region, business))
        return found

    def _history(self, cid: CustomerId, kind: ContactKind, created: datetime, make: Callable[[], str]) -> list[Contact]:
        """One contact, or an old one replaced in the last 90 days (often still not of record)."""
        rng = self._rng
        if created < self.as_of - timedelta(days=120) and rng.random() < 0.06:
            changed = seconds_before(rng, self.as_of, 0, 90)
            old = Contact(random_id(rng), cid, kind, make(), created, changed)
            new = make()
            while new == old.value:  # a change of address is to another address
                new = make()
            return [old, Contact(random_id(rng), cid, kind, new, changed)]
        return [Contact(random_id(rng), cid, kind, make(), created)]

    def _email(self, person: Person) -> str:
        local = words.email_local_part(*person.email_words, str(self._made))
        return f"{local}{self._rng.choice(('', '.home', '.mail'))}@{self._rng.choice(words.EMAIL_DOMAINS)}"


def _plan(rng: random.Random, kind: CustomerKind) -> tuple[list[ServiceCategory], list[ServiceCategory]]:
    """The numbered lines a customer buys, and the extras on the first line."""
    r = rng.random()
    if kind is CustomerKind.BUSINESS:
        if r < 0.5:
            lines, extras = [Cat.UCAAS] * rng.randint(2, 6), [Cat.INTERNET_ACCESS]
        elif r < 0.7:
            lines, extras = [Cat.SIP_TRUNK] * rng.randint(1, 3), [Cat.INTERNET_ACCESS]
        else:
            lines, extras = [Cat.LOCAL] * rng.randint(1, 3), [Cat.LONG_DISTANCE, Cat.VOICEMAIL]
        return lines, [c for c in extras if rng.random() < 0.8] + _maybe(rng, Cat.CALL_FEATURES, 0.2)
    if r < 0.45:
        lines, extras = [Cat.WIRELESS] * rng.choices((1, 2, 3), (55, 30, 15))[0], []
    elif r < 0.75:
        lines, extras = [Cat.LOCAL], _maybe(rng, Cat.LONG_DISTANCE, 0.8)
    else:
        lines, extras = [Cat.INTERCONNECTED_VOIP], []
    extras += _maybe(rng, Cat.VOICEMAIL, 0.4) + _maybe(rng, Cat.CALL_FEATURES, 0.3)
    return lines, extras + _maybe(rng, Cat.INTERNET_ACCESS, 0.45)


def _maybe(rng: random.Random, cat: ServiceCategory, chance: float) -> list[ServiceCategory]:
    return [cat] if rng.random() < chance else []


def _telephones(rng: random.Random, services: list[Service]) -> list[Contact]:
    """DEF-6: each line's own number is a telephone number of record from the day it is added."""
    numbers: dict[str, datetime] = {}
    for service in services:  # the lines come first, so a number counts from its line's start
        if service.telephone_number:
            numbers.setdefault(service.telephone_number, service.added_at)
    return [Contact(random_id(rng), services[0].customer_id, ContactKind.TELEPHONE, n, at) for n, at in numbers.items()]


def _resident(rng: random.Random, language: Language) -> Person:
    german = language is Language.DE
    first = rng.choice(words.FIRST_NAMES_DE if german else words.FIRST_NAMES_EN)
    last = rng.choice(words.LAST_NAMES_DE if german else words.LAST_NAMES_EN)
    return Person(f"{first} {last}", (first, last))


def _business(rng: random.Random, language: Language) -> Person:
    german = language is Language.DE
    owner = rng.choice(words.LAST_NAMES_DE if german else words.LAST_NAMES_EN)
    trade = rng.choice(words.BUSINESS_TRADES)
    form = words.GERMAN_BUSINESS_FORM if german and rng.random() < 0.5 else rng.choice(words.BUSINESS_FORMS)
    return Person(f"{owner} {trade} {form}", ("office", owner, trade))


def _postal(rng: random.Random, region: int, business: bool) -> str:
    where = REGIONS[region]
    street = f"{rng.randint(1, 9899)} {rng.choice(words.STREETS)} {rng.choice(words.STREET_KINDS)}"
    suite = f", Suite {rng.randint(1, 40) * 25}" if business else ""
    return f"{street}{suite}, {where.city}, {where.state} {where.zip_prefix}{rng.randint(1, 99):02d}"


def _listing(rng: random.Random, kind: CustomerKind) -> ListingStatus:
    """AMB-6: most numbers are non-published; published listings are subscriber list information."""
    r = rng.random()
    if kind is CustomerKind.BUSINESS:
        return ListingStatus.PUBLISHED if r < 0.45 else ListingStatus.NON_PUBLISHED
    if r < 0.2:
        return ListingStatus.PUBLISHED
    return ListingStatus.UNLISTED if r < 0.3 else ListingStatus.NON_PUBLISHED
