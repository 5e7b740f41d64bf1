"""The edges of retry and fallback in the outbox (AMB-4, NOTIFY-3), with scripted fake adapters
and the injected clock, on both databases: a stop is retried with doubling backoff up to its cap,
handed to the next channel after its allowed attempts, and a message whose last channel fails is
`failed` with every attempt on record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import select

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.clock import FixedClock
from cpniguard.customers.model import Customer
from cpniguard.db import tables as t
from cpniguard.notifications.delivery import RetryPolicy
from cpniguard.notifications.model import Channel, Notice, NoticeEvent, Stop
from cpniguard.notifications.service import Letterhead, Worker, compose, deliver_due, list_notices, queue_notice
from cpniguard.ports import DeliveryFailed, Envelope
from tests.conftest import T0, a_customer

PHONE = "+12025550123"
ADDRESS_BLOCK = "Ada Lovelace\n12 Analytical Way\nSpringfield, IL 62701"
ROUTE = (Stop(Channel.EMAIL, "ada@example.com"), Stop(Channel.SMS, PHONE), Stop(Channel.LETTER, ADDRESS_BLOCK))
BUSY = DeliveryFailed("SMTP server answered 451: try again later", transient=True)


@dataclass
class ScriptedSender:
    """A fake adapter: it keeps every envelope it is given and fails with `failure` (when set),
    otherwise delivers with a reference of its own."""

    failure: DeliveryFailed | None = None
    given: list[Envelope] = field(default_factory=list)

    def send(self, envelope: Envelope) -> str:
        self.given.append(envelope)
        if self.failure is not None:
            raise self.failure
        return f"ref-{len(self.given)}"


@dataclass
class Adapters:
    email: ScriptedSender = field(default_factory=ScriptedSender)
    sms: ScriptedSender = field(default_factory=ScriptedSender)
    letter: ScriptedSender = field(default_factory=ScriptedSender)

    def worker(self, policy: RetryPolicy | None = None) -> Worker:
        senders = {Channel.EMAIL: self.email, Channel.SMS: self.sms, Channel.LETTER: self.letter}
        return Worker("w1", senders, policy or RetryPolicy())


def queued(app: App, actor: Actor, customer: Customer, route: tuple[Stop, ...] = ROUTE) -> Notice:
    notice = compose(customer, NoticeEvent.PASSWORD_CHANGED, T0, Letterhead(), route=route)
    with app.uow() as uow:
        queue_notice(uow, actor, T0, notice)
        uow.commit()
    return notice


def the_row(app: App) -> Any:
    with app.engine.connect() as conn:
        return conn.execute(select(t.outbox)).one()


def deliveries(app: App) -> list[tuple[str, int, str, str]]:
    """(channel, attempt, outcome, idempotency key) of every attempt, in order."""
    d = t.deliveries.c
    with app.engine.connect() as conn:
        rows = conn.execute(select(t.deliveries).order_by(d.started_at, d.idempotency_key, d.attempt))
        return [(r.channel, r.attempt, r.outcome, r.idempotency_key) for r in rows]


def run(app: App, clock: FixedClock, worker: Worker) -> dict[str, int]:
    return deliver_due(app.uow, clock, worker).outcomes


def delays_until_the_stop_changes(app: App, clock: FixedClock, worker: Worker) -> list[timedelta]:
    """Runs the worker at each retry time while the message stays on its first stop; answers
    the wait the outbox set after each failed attempt."""
    waits: list[timedelta] = []
    while True:
        assert run(app, clock, worker) == {"transient-failure": 1}
        row = the_row(app)
        if row.step != 0:
            return waits
        assert (row.status, row.attempts) == ("pending", len(waits) + 1)
        waits.append(row.next_attempt_at - clock.now())
        clock.move_to(row.next_attempt_at)


@pytest.fixture
def customer(app: App, actor: Actor) -> Customer:
    return a_customer(app, actor, at=T0 - timedelta(days=730))


def test_amb_4_the_default_backoff_doubles_from_30_seconds_to_its_cap_of_an_hour() -> None:
    minutes = [RetryPolicy().delay(n) / timedelta(minutes=1) for n in range(1, 11)]
    assert minutes == [0.5, 1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_amb_4_after_five_transient_failures_the_message_moves_to_the_next_channel_at_once(
    app: App, actor: Actor, clock: FixedClock, customer: Customer
) -> None:
    notice = queued(app, actor, customer)
    adapters = Adapters(email=ScriptedSender(BUSY))
    worker = adapters.worker()
    waits = delays_until_the_stop_changes(app, clock, worker)
    assert waits == [timedelta(seconds=s) for s in (30, 60, 120, 240)]  # the fifth failure hands it on
    row = the_row(app)
    assert (row.status, row.step, row.channel, row.recipient, row.attempts) == ("pending", 1, "sms", PHONE, 0)
    assert row.next_attempt_at == clock.now() and row.last_error == BUSY.reason
    assert run(app, clock, worker) == {"delivered": 1}
    [record] = list_notices(app.uow(), customer.id)
    assert (record.status, record.channel, record.delivered_at) == ("delivered", "sms", clock.now())
    email_key, sms_key = f"{notice.id}.0", f"{notice.id}.1"
    assert deliveries(app) == [
        *[("email", n, "transient-failure", email_key) for n in range(1, 6)],
        ("sms", 1, "delivered", sms_key),
    ]
    assert {e.idempotency_key for e in adapters.email.given} == {email_key}  # every retry is the same message
    assert len(adapters.email.given) == 5 and adapters.letter.given == []


def test_amb_4_a_retry_is_not_claimed_before_its_time(
    app: App, actor: Actor, clock: FixedClock, customer: Customer
) -> None:
    queued(app, actor, customer)
    worker = Adapters(email=ScriptedSender(BUSY)).worker()
    run(app, clock, worker)
    clock.move_to(T0 + timedelta(seconds=29))
    assert deliver_due(app.uow, clock, worker).claimed == 0
    clock.move_to(T0 + timedelta(seconds=30))
    assert deliver_due(app.uow, clock, worker).claimed == 1


def test_amb_4_the_backoff_doubles_until_its_cap_and_then_stays_there(
    app: App, actor: Actor, clock: FixedClock, customer: Customer
) -> None:
    queued(app, actor, customer)
    policy = RetryPolicy(first_delay=timedelta(seconds=30), max_delay=timedelta(minutes=5), attempts_per_stop=8)
    waits = delays_until_the_stop_changes(app, clock, Adapters(email=ScriptedSender(BUSY)).worker(policy))
    assert waits == [timedelta(seconds=s) for s in (30, 60, 120, 240, 300, 300, 300)]
    assert the_row(app).step == 1


def test_notify_3_a_permanent_failure_on_every_channel_leaves_the_message_failed_with_each_attempt_on_record(
    app: App, actor: Actor, clock: FixedClock, customer: Customer
) -> None:
    notice = queued(app, actor, customer)
    adapters = Adapters(
        email=ScriptedSender(DeliveryFailed("SMTP server answered 550: mailbox unavailable", transient=False)),
        sms=ScriptedSender(DeliveryFailed("SMS provider answered 400: not a mobile number", transient=False)),
        letter=ScriptedSender(DeliveryFailed("address too long for the window", transient=False)),
    )
    worker = adapters.worker()
    for _ in ROUTE:  # each fallback is due at once
        assert run(app, clock, worker) == {"permanent-failure": 1}
    row = the_row(app)
    assert (row.status, row.step, row.channel, row.delivered_at) == ("failed", 2, "letter", None)
    assert row.last_error == "address too long for the window"
    assert deliveries(app) == [
        ("email", 1, "permanent-failure", f"{notice.id}.0"),
        ("sms", 1, "permanent-failure", f"{notice.id}.1"),
        ("letter", 1, "permanent-failure", f"{notice.id}.2"),
    ]
    [record] = list_notices(app.uow(), customer.id)
    assert (record.status, record.last_error) == ("failed", "address too long for the window")
    clock.move_to(T0 + timedelta(days=1))
    assert deliver_due(app.uow, clock, worker).claimed == 0  # failed stays failed, for staff to act on


def test_notify_3_transient_failures_exhausted_on_the_last_channel_leave_the_message_failed(
    app: App, actor: Actor, clock: FixedClock, customer: Customer
) -> None:
    notice = queued(app, actor, customer, route=(Stop(Channel.SMS, PHONE),))
    worker = Adapters(sms=ScriptedSender(DeliveryFailed("SMS provider answered 503", transient=True))).worker()
    times: list[datetime] = []
    for _ in range(5):
        times.append(clock.now())
        assert run(app, clock, worker) == {"transient-failure": 1}
        clock.move_to(the_row(app).next_attempt_at)
    row = the_row(app)
    assert (row.status, row.step, row.attempts, row.last_error) == ("failed", 0, 5, "SMS provider answered 503")
    assert deliveries(app) == [("sms", n, "transient-failure", f"{notice.id}.0") for n in range(1, 6)]
    assert [b - a for a, b in pairwise(times)] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    clock.move_to(T0 + timedelta(days=1))
    assert deliver_due(app.uow, clock, worker).claimed == 0
