"""The consent ledger and its current-state table, in SQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select
from sqlalchemy.exc import DBAPIError

from cpniguard.consent.model import Channel, ConsentEvent, ConsentEventKind, ConsentState
from cpniguard.db import tables as t
from cpniguard.errors import StorageUnavailable
from cpniguard.ids import CustomerId

STATE_FIELDS = (
    "objection_event",
    "objection_since",
    "opt_in_event",
    "opt_in_since",
    "notice_event",
    "presumed_from",
    "renotice_due",
    "last_event_at",
    "events_applied",
)


def event_row(event: ConsentEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "customer_id": event.customer_id,
        "kind": event.kind.value,
        "channel": event.channel.value,
        "at": event.at,
        "recorded_at": event.recorded_at,
        "recorded_by": event.recorded_by,
        "evidence": event.evidence,
    }


def state_row(state: ConsentState) -> dict[str, Any]:
    return {"customer_id": state.customer_id, **{f: getattr(state, f) for f in STATE_FIELDS}}


def event_from_row(r: Any) -> ConsentEvent:
    return ConsentEvent(
        r.id,
        CustomerId(r.customer_id),
        ConsentEventKind(r.kind),
        Channel(r.channel),
        r.at,
        r.recorded_at,
        r.recorded_by,
        r.evidence,
        r.seq,
    )


def state_from_row(r: Any) -> ConsentState:
    return ConsentState(CustomerId(r.customer_id), **{f: getattr(r, f) for f in STATE_FIELDS})


@contextmanager
def _readable() -> Iterator[None]:
    """A consent read that fails is reported as such, so the gate can fail closed."""
    try:
        yield
    except DBAPIError as exc:
        raise StorageUnavailable(f"consent state unavailable: {exc.orig}") from None


class SqlConsentRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, event: ConsentEvent) -> ConsentEvent:
        result = self._conn.execute(insert(t.consent_events).returning(t.consent_events.c.seq), [event_row(event)])
        return replace(event, seq=int(result.scalar_one()))

    def events(self, customer: CustomerId) -> list[ConsentEvent]:
        c = t.consent_events.c
        with _readable():
            rows = self._conn.execute(
                select(t.consent_events).where(c.customer_id == customer).order_by(c.at, c.seq)
            ).all()
        return [event_from_row(r) for r in rows]

    def state(self, customer: CustomerId) -> ConsentState | None:
        with _readable():
            row = self._conn.execute(select(t.consent_state).where(t.consent_state.c.customer_id == customer)).first()
        return state_from_row(row) if row else None

    def states(self, customers: Sequence[CustomerId]) -> dict[CustomerId, ConsentState]:
        """Current-state rows of several customers in one query; customers without events are absent."""
        with _readable():
            rows = self._conn.execute(
                select(t.consent_state).where(t.one_of(self._conn, t.consent_state.c.customer_id, customers))
            ).all()
        return {CustomerId(r.customer_id): state_from_row(r) for r in rows}

    def notices_due(self, at: datetime, include_never: bool) -> list[CustomerId]:
        """Customers whose biennial re-notice is due at `at` (AMB-9), and with `include_never`
        those who never had a delivered notice; customers opened after `at` are left out."""
        s, c = t.consent_state.c, t.customers.c
        due = s.renotice_due <= at
        if include_never:
            due = or_(due, s.notice_event.is_(None))
        query = select(c.id).select_from(t.customers.outerjoin(t.consent_state)).where(c.created_at <= at, due)
        return [CustomerId(i) for i in self._conn.execute(query.order_by(c.id)).scalars()]

    def save_state(self, state: ConsentState) -> None:
        # Delete-then-insert is portable upsert; both run inside the use case's transaction.
        self._conn.execute(delete(t.consent_state).where(t.consent_state.c.customer_id == state.customer_id))
        self._conn.execute(insert(t.consent_state), [state_row(state)])

    def all_events(self) -> Iterator[ConsentEvent]:
        """Every event, grouped by customer and in order, streamed from the server."""
        c = t.consent_events.c
        result = self._conn.execute(
            select(t.consent_events).order_by(c.customer_id, c.at, c.seq).execution_options(yield_per=10_000)
        )
        for row in result:
            yield event_from_row(row)

    def all_states(self) -> Iterator[ConsentState]:
        result = self._conn.execute(select(t.consent_state).execution_options(yield_per=10_000))
        for row in result:
            yield state_from_row(row)
