"""Opt-out notices: sent to each customer individually (NOTICE-2), written or electronic only
(NOTICE-5), and re-sent every two years (NOTICE-7, AMB-9).

A notice goes by email to an email address of record, with a letter to the postal address of
record as the fallback when the email fails for good (NOTICE-8), or by letter alone. Its
waiting period starts when the worker delivers it (notifications/service.py records the
`opt-out-notice-sent` event then), not when it is queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cpniguard.actors import Actor
from cpniguard.clock import Clock
from cpniguard.consent.model import PRESUMED_AFTER_DAYS
from cpniguard.customers.model import ContactKind, Customer
from cpniguard.ids import CustomerId
from cpniguard.notifications.model import Channel, NoticeEvent, Stop, letter_recipient
from cpniguard.notifications.service import Letterhead, compose, queue_notice
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


@dataclass(slots=True)
class NoticeRun:
    queued: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # customer id -> why


def send_opt_out_notices(
    uow: UnitOfWork, clock: Clock, actor: Actor, letterhead: Letterhead, customers: Sequence[CustomerId]
) -> NoticeRun:
    """Queues one opt-out notice per customer, in one transaction."""
    now = clock.now()
    run = NoticeRun()
    with uow:
        for customer_id in dict.fromkeys(customers):
            customer = uow.customers.get(customer_id)
            if customer is None:
                run.skipped[str(customer_id)] = "unknown customer"
                continue
            route = notice_route(customer, now)
            if not route:
                run.skipped[str(customer_id)] = "no email or postal address of record"
                continue
            notice = compose(customer, NoticeEvent.OPT_OUT_NOTICE, now, letterhead, route, days=WAITING_DAYS)
            queue_notice(uow, actor, now, notice)
            run.queued.append(str(customer_id))
        uow.commit()
    return run
