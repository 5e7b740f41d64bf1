"""Consent histories for demo customers: opt-out notices every two years, a few bounces,
some objections, a few opt-ins, and a few customers whose biennial re-notice was missed.

The events come back in the order they took effect, with distinct times, so the order they
are stored in (their `seq`) agrees with their times and the stored fold equals this one.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from cpniguard.consent.model import Channel, ConsentEvent, ConsentEventKind, renotice_due, validate_event
from cpniguard.customers.model import ContactKind, Customer
from cpniguard.ids import CustomerId
from cpniguard.jobs.demo_random import days, random_id, seconds_between

Kind = ConsentEventKind
RECORDED_BY = "system:cpniguard-demo"
OPT_OUT_SHARE = 0.08
OPT_IN_SHARE = 0.03
ONE_TIME_SHARE = 0.01
OVERDUE_SHARE = 0.04  # customers whose re-notice is skipped once it falls due (AMB-9)
BOUNCE_SHARE = 0.03


def history(rng: random.Random, customer: Customer, as_of: datetime) -> list[ConsentEvent]:
    events = _notices(rng, customer, as_of)
    if events and rng.random() < OPT_OUT_SHARE:
        events += _pair(rng, customer.id, events[0].at, as_of, Kind.OPT_OUT, Kind.OPT_OUT_WITHDRAWN)
    if rng.random() < OPT_IN_SHARE:
        events += _pair(rng, customer.id, customer.created_at, as_of, Kind.OPT_IN, Kind.OPT_IN_REVOKED)
    if rng.random() < ONE_TIME_SHARE:  # USE-9: approval for the length of one inbound call
        at = seconds_between(rng, customer.created_at, as_of)
        events.append(_event(rng, customer.id, Kind.ONE_TIME_APPROVAL, Channel.PHONE, at, "demo: inbound call"))
    return _distinct_times(events)


def _notices(rng: random.Random, customer: Customer, as_of: datetime) -> list[ConsentEvent]:
    """NOTICE-6/7: a first notice soon after opening, then one before each two-year lapse."""
    # Half get the first notice within days of opening, by letter since no email address is
    # of record yet (DEF-5); half after 31 to 45 days, by email where one is of record by then.
    sent = customer.created_at + (days(rng, 31, 45) if rng.random() < 0.5 else days(rng, 1, 10))
    overdue = rng.random() < OVERDUE_SHARE
    emails = [c for c in customer.contacts if c.kind is ContactKind.EMAIL]
    notices: list[ConsentEvent] = []
    while sent <= as_of:
        # NOTICE-5, DEF-5: by email only to an address of record, else by letter.
        channel = Channel.EMAIL if any(e.of_record(sent) for e in emails) else Channel.MAIL
        notice = _event(rng, customer.id, Kind.OPT_OUT_NOTICE_SENT, channel, sent, f"demo: {channel} notice")
        notices.append(notice)
        if channel is Channel.EMAIL and rng.random() < BOUNCE_SHARE:
            notices += _bounce(rng, notice, as_of)
        last = notices[-1].at
        due = renotice_due(last)
        if overdue and due <= as_of:
            break
        sent = max(last + timedelta(days=1), due - days(rng, 7, 60))
    return notices


def _bounce(rng: random.Random, notice: ConsentEvent, as_of: datetime) -> list[ConsentEvent]:
    """NOTICE-8: the bounce names its notice; most bounced customers are then sent a letter."""
    bounced_at = notice.at + timedelta(seconds=int(rng.uniform(1, 48) * 3600))
    if bounced_at > as_of:
        return []
    evidence = f"demo: bounce of notice {notice.id}"
    bounce = _event(rng, notice.customer_id, Kind.OPT_OUT_NOTICE_BOUNCED, Channel.EMAIL, bounced_at, evidence)
    resent_at = bounced_at + days(rng, 3, 12)
    if rng.random() < 0.3 or resent_at > as_of:
        return [bounce]
    letter = _event(rng, notice.customer_id, Kind.OPT_OUT_NOTICE_SENT, Channel.MAIL, resent_at, "demo: mail notice")
    return [bounce, letter]


def _pair(
    rng: random.Random, cid: CustomerId, start: datetime, as_of: datetime, kind: Kind, undo: Kind
) -> list[ConsentEvent]:
    """A choice the customer made, which one in ten later takes back."""
    if start >= as_of:
        return []
    channel = rng.choice((Channel.WEB, Channel.PHONE, Channel.MAIL, Channel.IN_PERSON))
    made = _event(rng, cid, kind, channel, seconds_between(rng, start, as_of), f"demo: {channel} request")
    if rng.random() >= 0.1:
        return [made]
    undone_at = seconds_between(rng, made.at, as_of)
    return [made, _event(rng, cid, undo, Channel.WEB, undone_at, "demo: web request")]


def _event(
    rng: random.Random, cid: CustomerId, kind: Kind, channel: Channel, at: datetime, evidence: str
) -> ConsentEvent:
    validate_event(kind, channel)
    # Recorded when it took effect: the demo stands in for the carrier's own past systems.
    return ConsentEvent(random_id(rng), cid, kind, channel, at, at, RECORDED_BY, evidence)


def _distinct_times(events: list[ConsentEvent]) -> list[ConsentEvent]:
    ordered: list[ConsentEvent] = []
    for event in sorted(events, key=lambda e: e.at):
        if ordered and event.at <= ordered[-1].at:
            moved = ordered[-1].at + timedelta(seconds=1)
            ordered.append(replace(event, at=moved, recorded_at=moved))
        else:
            ordered.append(event)
    return ordered
