"""Breach incidents, their timeline and documents; the closure days of the business calendar."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from cpniguard.breaches.clocks import ClockFacts, RuleVersion, records_kept_until
from cpniguard.breaches.model import BreachEvent, Document, Incident, Intent
from cpniguard.db.bulk import insert_columns
from cpniguard.db.office_tables import breach_affected, breach_documents, breach_events, breach_incidents, closure_days

CHUNK = 5_000
DOCUMENT_COLUMNS = tuple(column.name for column in breach_documents.columns)
PLAIN = (
    "id",
    "title",
    "discovered_at",
    "determined_at",
    "determined_by",
    "determination_reason",
    "investigation_closed_at",
    "good_faith_reason",
    "cpni_description",
    "other_data_description",
    "circumstances",
    "method_of_compromise",
    "incident_start",
    "incident_end",
    "affected_count",
    "affected_count_basis",
    "harm_likely",
    "harm_reasoning",
    "harm_decided_by",
    "harm_evidence",
    "encrypted",
    "key_compromised",
    "financial_loss",
    "urgent_need",
    "law_enforcement_notified_at",
    "law_enforcement_pending_reason",
    "customer_notices_at",
    "last_notice_at",
    "created_by",
    "created_at",
)


def _row(incident: Incident) -> dict[str, Any]:
    row = {name: getattr(incident, name) for name in PLAIN}
    kept = incident.records_kept_until
    if kept is None:  # before the determination the clock runs from the discovery
        kept = records_kept_until_of(incident)
    return {
        **row,
        "rules": incident.rules.value,
        "intent": incident.intent.value,
        "data_types": ",".join(incident.data_types),
        "records_kept_until": kept,
    }


def records_kept_until_of(incident: Incident) -> date:
    facts = ClockFacts(
        incident.rules,
        incident.determined_at or incident.discovered_at,
        incident.law_enforcement_notified_at,
        last_notice_at=incident.last_notice_at,
    )
    return records_kept_until(facts)


def _incident(row: Any) -> Incident:
    values = {name: getattr(row, name) for name in PLAIN}
    return Incident(
        **values,
        rules=RuleVersion(row.rules),
        intent=Intent(row.intent),
        data_types=tuple(t for t in row.data_types.split(",") if t),
        records_kept_until=row.records_kept_until,
    )


class SqlBreachRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, incident: Incident) -> None:
        self._conn.execute(insert(breach_incidents).values(**_row(incident)))

    def save(self, incident: Incident) -> None:
        row = _row(incident)
        del row["id"]
        self._conn.execute(update(breach_incidents).where(breach_incidents.c.id == incident.id).values(**row))

    def get(self, incident_id: uuid.UUID, for_update: bool = False) -> Incident | None:
        query = select(breach_incidents).where(breach_incidents.c.id == incident_id)
        if for_update:  # two staff recording notices at once: one waits for the other
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return _incident(row) if row else None

    def all(self) -> list[Incident]:
        rows = self._conn.execute(select(breach_incidents).order_by(breach_incidents.c.discovered_at))
        return [_incident(row) for row in rows]

    def add_event(self, event: BreachEvent) -> None:
        self._conn.execute(
            insert(breach_events).values(
                id=event.id,
                incident_id=event.incident_id,
                kind=event.kind,
                at=event.at,
                recorded_at=event.recorded_at,
                by=event.by,
                details=json.dumps(event.details, sort_keys=True, default=str),
                document_id=event.document_id,
            )
        )

    def events(self, incident_id: uuid.UUID) -> list[BreachEvent]:
        c = breach_events.c
        rows = self._conn.execute(
            select(breach_events).where(c.incident_id == incident_id).order_by(c.at, c.recorded_at)
        )
        return [_event(r) for r in rows]

    def events_by_incident(self, kinds: Sequence[str]) -> dict[uuid.UUID, list[BreachEvent]]:
        c = breach_events.c
        query = select(breach_events).where(c.kind.in_(list(kinds))).order_by(c.incident_id, c.at, c.recorded_at)
        found: dict[uuid.UUID, list[BreachEvent]] = {}
        for r in self._conn.execute(query):
            found.setdefault(r.incident_id, []).append(_event(r))
        return found

    def add_document(self, document: Document) -> None:
        self._conn.execute(insert(breach_documents).values(**{k: getattr(document, k) for k in DOCUMENT_COLUMNS}))

    def document(self, document_id: uuid.UUID) -> Document | None:
        row = self._conn.execute(select(breach_documents).where(breach_documents.c.id == document_id)).first()
        return Document(*(getattr(row, k) for k in DOCUMENT_COLUMNS)) if row else None

    def add_affected(self, incident_id: uuid.UUID, customers: Sequence[uuid.UUID]) -> int:
        """Adds the customers not yet listed; returns how many were new."""
        known = set(self.affected(incident_id))
        new = [c for c in dict.fromkeys(customers) if c not in known]
        for start in range(0, len(new), CHUNK):
            chunk = new[start : start + CHUNK]
            insert_columns(self._conn, breach_affected, incident_id=[incident_id] * len(chunk), customer_id=chunk)
        return len(new)

    def affected(self, incident_id: uuid.UUID, unnoticed_only: bool = False) -> list[uuid.UUID]:
        c = breach_affected.c
        query = select(c.customer_id).where(c.incident_id == incident_id)
        if unnoticed_only:
            query = query.where(c.notice_id.is_(None))
        return list(self._conn.execute(query.order_by(c.customer_id)).scalars())

    def count_affected(self, incident_id: uuid.UUID) -> int:
        c = breach_affected.c
        return int(self._conn.execute(select(func.count()).where(c.incident_id == incident_id)).scalar_one())

    def mark_noticed(
        self, incident_id: uuid.UUID, notices: Sequence[tuple[uuid.UUID, uuid.UUID]], at: datetime
    ) -> None:
        c = breach_affected.c
        for customer, notice in notices:
            self._conn.execute(
                update(breach_affected)
                .where(c.incident_id == incident_id, c.customer_id == customer)
                .values(notice_id=notice, noticed_at=at)
            )


class SqlCalendarRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def closures(self) -> dict[date, str]:
        rows = self._conn.execute(select(closure_days.c.day, closure_days.c.reason).order_by(closure_days.c.day))
        return {row.day: row.reason for row in rows}

    def add_closure(self, day: date, reason: str, by: str, at: datetime) -> bool:
        if self._conn.execute(select(closure_days.c.day).where(closure_days.c.day == day)).first():
            return False
        self._conn.execute(insert(closure_days).values(day=day, reason=reason, added_by=by, added_at=at))
        return True

    def remove_closure(self, day: date) -> bool:
        return bool(self._conn.execute(delete(closure_days).where(closure_days.c.day == day)).rowcount)


def _event(r: Any) -> BreachEvent:
    return BreachEvent(r.id, r.incident_id, r.kind, r.at, r.recorded_at, r.by, json.loads(r.details), r.document_id)
