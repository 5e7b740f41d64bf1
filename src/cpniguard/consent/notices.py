"""Opt-out notices: sent to each customer individually (NOTICE-2), written or electronic only
(NOTICE-5), and re-sent every two years (NOTICE-7, AMB-9).

A notice goes by email to an email address of record, with a letter to the postal address of
record as the fallback when the email fails for good (NOTICE-8), or by letter alone. Its
waiting period starts when the worker delivers it (notifications/service.py records the
`opt-out-notice-sent` event then), not when it is queued; a customer whose notice waits in the
outbox is not sent another.

The steps to opt out depend on the channel (NOTICE-3, NOTICE-8): the email is answered directly
(its Reply-To is the marketing mailbox, which records opt-outs); the letter names the mailbox,
the carrier's postal address and its number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from cpniguard.actors import Actor
from cpniguard.clock import Clock
from cpniguard.consent.model import PRESUMED_AFTER_DAYS
from cpniguard.customers.model import ContactKind, Customer
from cpniguard.ids import CustomerId
from cpniguard.notifications.model import Channel, Notice, NoticeEvent, Stop, letter_recipient
from cpniguard.notifications.service import Letterhead, compose, queue_notice
from cpniguard.notifications.texts import render
from cpniguard.ports import UnitOfWork

WAITING_DAYS = PRESUMED_AFTER_DAYS - 1  # what the notice tells the customer (NOTICE-6: at least 30)


def notices_due(uow: UnitOfWork, at: datetime, include_never: bool = False) -> list[CustomerId]:
    """The biennial re-notice report: customers whose notice is due at `at`."""
    with uow:
        return uow.consent.notices_due(at, include_never)


def notice_route(customer: Customer, at: datetime) -> tuple[Stop, ...]:
    """Email of record, then a letter; or a letter alone; never SMS or a call (NOTICE-5)."""
    letters = tuple(
        Stop(Channel.LETTER, letter_recipient(customer.name, c.value))
        for c in customer.contacts_of_record(at, ContactKind.POSTAL)
    )
    emails = customer.contacts_of_record(at, ContactKind.EMAIL)
    return ((Stop(Channel.EMAIL, emails[0].value),) if emails else ()) + letters[:1]


@dataclass(frozen=True, slots=True)
class OptOutAddresses:
    """Where a customer opts out in writing (NOTICE-9): the marketing mailbox, which also takes
    the replies to emailed notices, and the carrier's postal address, on one line."""

    marketing_email: str
    postal_address: str


@dataclass(slots=True)
class NoticeRun:
    queued: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # customer id -> why


ALREADY_QUEUED = "an opt-out notice is already queued and not yet delivered"


def send_opt_out_notices(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    letterhead: Letterhead,
    addresses: OptOutAddresses,
    customers: Sequence[CustomerId],
) -> NoticeRun:
    """Queues one opt-out notice per customer, in one transaction; skips a customer who has one
    waiting in the outbox (a run repeated before the worker delivered the first)."""
    now = clock.now()
    run = NoticeRun()
    chosen = list(dict.fromkeys(customers))
    with uow:
        waiting = uow.outbox.waiting(NoticeEvent.OPT_OUT_NOTICE, chosen)
        for customer_id in chosen:
            if customer_id in waiting:
                run.skipped[str(customer_id)] = ALREADY_QUEUED
                continue
            customer = uow.customers.get(customer_id)
            if customer is None:
                run.skipped[str(customer_id)] = "unknown customer"
                continue
            route = notice_route(customer, now)
            if not route:
                run.skipped[str(customer_id)] = "no email or postal address of record"
                continue
            queue_notice(uow, actor, now, opt_out_notice(customer, now, letterhead, addresses, route))
            run.queued.append(str(customer_id))
        uow.commit()
    return run


def opt_out_notice(
    customer: Customer, at: datetime, letterhead: Letterhead, addresses: OptOutAddresses, route: tuple[Stop, ...]
) -> Notice:
    """The notice in the customer's language: the email's text and Reply-To when it goes by
    email first, and the letter's text for a letter stop."""
    texts = {"days": WAITING_DAYS, "marketing_address": addresses.marketing_email}
    letter = {**texts, "channel": "letter", "postal_address": addresses.postal_address}
    if route[0].channel is not Channel.EMAIL:
        return compose(customer, NoticeEvent.OPT_OUT_NOTICE, at, letterhead, route, **letter)
    notice = compose(customer, NoticeEvent.OPT_OUT_NOTICE, at, letterhead, route, channel="email", **texts)
    language = customer.language.value
    _, letter_body = render(NoticeEvent.OPT_OUT_NOTICE, language, at, letterhead.carrier, letterhead.support, **letter)
    return replace(notice, letter_body=letter_body, reply_to=addresses.marketing_email or None)
