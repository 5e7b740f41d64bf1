"""Use cases of the consent ledger: record an event, read the state at any moment, rebuild."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.clock import Clock
from cpniguard.consent.model import (
    Channel,
    ConsentEvent,
    ConsentEventKind,
    ConsentState,
    fold,
    validate_event,
)
from cpniguard.errors import NotFound
from cpniguard.ids import CustomerId, new_id
from cpniguard.ports import UnitOfWork
from cpniguard.text import clean_text


@dataclass(frozen=True)
class ConsentView:
    state: ConsentState
    events: list[ConsentEvent]
    at: datetime


def record_event(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    customer: CustomerId,
    kind: ConsentEventKind,
    channel: Channel,
    at: datetime | None = None,
    evidence: str = "",
) -> tuple[ConsentEvent, ConsentState]:
    """Appends one event and refreshes the current-state row in the same transaction."""
    validate_event(kind, channel)
    evidence = clean_text(evidence, "evidence", 0, 2000)
    now = clock.now()
    event = ConsentEvent(new_id(), customer, kind, channel, at or now, now, actor.label, evidence)
    with uow:
        if not uow.customers.exists(customer):
            raise NotFound(f"unknown customer: {customer}")
        stored, state = append_event(uow, actor, event, now)
        uow.commit()
    return stored, state


def append_event(
    uow: UnitOfWork, actor: Actor, event: ConsentEvent, now: datetime, **details: object
) -> tuple[ConsentEvent, ConsentState]:
    """Inside the caller's unit of work: appends one event, re-folds the current-state row from
    the whole history (events may be back-dated) and writes the ledger entry. Every use case
    that records consent goes through here, so the state row never drifts from the events."""
    validate_event(event.kind, event.channel)
    stored = uow.consent.add(event)
    state = fold(event.customer_id, [*uow.consent.events(event.customer_id)])
    uow.consent.save_state(state)
    facts = {"event": str(stored.id), "channel": event.channel.value, "effective": stored.at.isoformat(), **details}
    uow.audit.add(AuditEntry.of(f"consent:{event.kind.value}:recorded", actor, now, event.customer_id, details=facts))
    return stored, state


def show_consent(uow: UnitOfWork, clock: Clock, actor: Actor, customer: CustomerId, at: datetime) -> ConsentView:
    """The derived approvals at `at`, folded from the events effective by then; the reading
    is recorded in the ledger like every view of a customer's records."""
    with uow:
        if not uow.customers.exists(customer):
            raise NotFound(f"unknown customer: {customer}")
        events = uow.consent.events(customer)
        uow.audit.add(
            AuditEntry.of("consent:history:viewed", actor, clock.now(), customer, details={"at": at.isoformat()})
        )
        uow.commit()
    return ConsentView(fold(customer, events, at), [e for e in events if e.at <= at], at)


def rebuild_state(uow: UnitOfWork, clock: Clock, actor: Actor) -> int:
    """Re-folds every customer's events into the current-state table, streaming; returns how
    many rows differed from the fold (a healthy ledger answers 0)."""
    differed = 0
    with uow:
        stored = {state.customer_id: state for state in uow.consent.all_states()}
        for customer, events in groupby(uow.consent.all_events(), key=lambda e: e.customer_id):
            state = fold(customer, events)
            if stored.pop(customer, None) != state:
                differed += 1
                uow.consent.save_state(state)
        for orphan in stored:  # a state row with no events behind it
            differed += 1
            uow.consent.save_state(ConsentState(orphan))
        uow.audit.add(AuditEntry.of("consent:state:rebuilt", actor, clock.now(), details={"differed": differed}))
        uow.commit()
    return differed
