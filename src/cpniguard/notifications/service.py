"""Use cases of notices: queue one with the change it announces, list them, deliver due ones."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.clock import Clock
from cpniguard.consent.model import Channel as ConsentChannel
from cpniguard.consent.model import ConsentEvent, ConsentEventKind
from cpniguard.consent.service import append_event
from cpniguard.customers.model import Customer
from cpniguard.ids import CustomerId, new_id
from cpniguard.notifications import delivery
from cpniguard.notifications.model import Channel, Notice, NoticeEvent, Stop, notice_route
from cpniguard.notifications.texts import render
from cpniguard.ports import ClaimedMessage, DeliveryFailed, DeliveryResult, MessageSender, NoticeRecord, UnitOfWork


@dataclass(frozen=True, slots=True)
class Letterhead:
    """How notices name the carrier and where a customer calls if a change was not theirs."""

    carrier: str = ""  # empty: the texts' own words, in the customer's language
    support: str = ""


def compose(
    customer: Customer,
    event: NoticeEvent,
    at: datetime,
    letterhead: Letterhead,
    route: tuple[Stop, ...] | None = None,
    **extra: object,
) -> Notice:
    """A notice to `customer` about `event` at `at`, routed to the contacts of record before it."""
    language = customer.language.value
    subject, body = render(event, language, at, letterhead.carrier, letterhead.support, **extra)
    return Notice(
        new_id(),
        at,
        customer.id,
        event,
        language,
        route or notice_route(customer, at),
        subject,
        body,
        confidential=event is NoticeEvent.ONE_TIME_CODE,
    )


def queue_notice(uow: UnitOfWork, actor: Actor, now: datetime, notice: Notice) -> None:
    """Adds the notice to the outbox inside the caller's unit of work (AMB-4: with the change)."""
    uow.outbox.add(notice)
    uow.audit.add(
        AuditEntry.of(
            f"notifications:{notice.event.value}:queued",
            actor,
            now,
            notice.customer_id,
            details={"notice": str(notice.id), "channel": notice.route[0].channel.value},
        )
    )


def list_notices(uow: UnitOfWork, customer: CustomerId | None = None, limit: int = 100) -> list[NoticeRecord]:
    with uow:
        return uow.outbox.notices(customer, limit)


@dataclass(slots=True)
class DeliveryRun:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Worker:
    """One delivery worker: its name, its adapters per channel, and how it retries.

    `lanes` are further sets of adapters (each with its own SMTP connection) that `pool`
    runs beside the first: one SMTP connection waits four round trips per message, so a
    worker sending on several at once delivers several times as many (measured: 800/s on one
    connection)."""

    name: str
    senders: Mapping[Channel, MessageSender]
    policy: delivery.RetryPolicy = field(default_factory=delivery.RetryPolicy)
    lease: timedelta = timedelta(minutes=5)
    batch: int = 200
    lanes: tuple[Mapping[Channel, MessageSender], ...] = ()
    pool: Executor | None = None

    def all_senders(self) -> list[Mapping[Channel, MessageSender]]:
        return [self.senders, *self.lanes]


def deliver_due(new_uow: Callable[[], UnitOfWork], clock: Clock, worker: Worker) -> DeliveryRun:
    """Claims due messages (one transaction), sends each, records every outcome (another).

    A crash after the claim loses nothing: the rows stay `sending` until their lease ends and
    are claimed again; the resend has the same idempotency key and its record says so."""
    with new_uow() as uow:
        claimed = uow.outbox.claim(worker.name, clock.now(), worker.lease, worker.batch)
        uow.commit()
    run = DeliveryRun(len(claimed))
    results = _send_all(worker, clock, claimed)
    for result in results:
        run.outcomes[result.outcome] = run.outcomes.get(result.outcome, 0) + 1
    if results:
        with new_uow() as uow:
            uow.outbox.record(worker.name, results)
            _consent_effects(uow, worker.name, results)
            uow.commit()
    return run


def _consent_effects(uow: UnitOfWork, worker: str, results: Sequence[DeliveryResult]) -> None:
    """An opt-out notice's waiting period starts when it is delivered (NOTICE-6: the day an email
    is sent, the third day after a letter is mailed, which the consent model counts); an email
    that bounced for good starts nothing and the route goes on to a letter (NOTICE-8)."""
    for result in results:
        notice = result.message.notice
        if notice.event is not NoticeEvent.OPT_OUT_NOTICE or notice.customer_id is None:
            continue
        channel = result.message.stop.channel
        if result.outcome == delivery.DELIVERED:
            kind = ConsentEventKind.OPT_OUT_NOTICE_SENT
        elif result.outcome == delivery.PERMANENT and channel is Channel.EMAIL:
            kind = ConsentEventKind.OPT_OUT_NOTICE_BOUNCED
        else:
            continue
        on = ConsentChannel.EMAIL if channel is Channel.EMAIL else ConsentChannel.MAIL
        evidence = f"notice {result.message.idempotency_key}: {result.reference or result.error or ''}"[:2000]
        at = result.started_at
        event = ConsentEvent(new_id(), CustomerId(notice.customer_id), kind, on, at, at, worker, evidence)
        append_event(uow, Actor.system(worker), event, at, notice=str(notice.id))


def _send_all(worker: Worker, clock: Clock, claimed: Sequence[ClaimedMessage]) -> list[DeliveryResult]:
    lanes = worker.all_senders()
    if worker.pool is None or len(lanes) == 1 or len(claimed) < 2:
        return _send_lane(worker, worker.senders, clock, claimed)
    shares = [claimed[i :: len(lanes)] for i in range(len(lanes))]
    running = [
        worker.pool.submit(_send_lane, worker, lane, clock, share) for lane, share in zip(lanes, shares, strict=True)
    ]
    return [result for future in running for result in future.result()]


def _send_lane(
    worker: Worker, senders: Mapping[Channel, MessageSender], clock: Clock, messages: Sequence[ClaimedMessage]
) -> list[DeliveryResult]:
    return [_attempt(worker, senders, message, clock.now()) for message in messages]


def _attempt(
    worker: Worker, senders: Mapping[Channel, MessageSender], message: ClaimedMessage, started: datetime
) -> DeliveryResult:
    sender = senders.get(message.stop.channel)
    if sender is None:
        reason = f"no adapter for the {message.stop.channel.value} channel"
        return delivery.failed(worker.policy, message, started, reason, transient=False)
    try:
        reference = sender.send(delivery.envelope(message))
    except DeliveryFailed as exc:
        return delivery.failed(worker.policy, message, started, exc.reason, transient=exc.transient)
    return delivery.delivered(message, started, reference)
