"""Use cases of a breach incident: open it, record what was determined, the agency notice, the
agency's written directions, and tell the customers once no hold stands in the way.

Every step is an event on the incident's timeline and an entry in the audit ledger, in the
same unit of work as the change it records (BREACH-6, BREACH23-10).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.breaches.clocks import Deadlines, RuleVersion, deadlines, records_kept_until
from cpniguard.breaches.model import (
    BreachEvent,
    HarmAssessment,
    Incident,
    Intent,
    assess_harm,
    check_new,
    delay_from_directions,
    determine,
    overdue,
    set_affected,
)
from cpniguard.clock import Clock
from cpniguard.errors import InvalidInput, NotFound
from cpniguard.ids import CustomerId, new_id
from cpniguard.ports import UnitOfWork
from cpniguard.text import clean_text


@dataclass(frozen=True, slots=True)
class NewIncident:
    title: str
    discovered_at: datetime
    intent: Intent
    data_types: tuple[str, ...]
    circumstances: str
    cpni_description: str = ""
    other_data_description: str = ""
    method_of_compromise: str = ""
    incident_start: date | None = None
    incident_end: date | None = None
    good_faith_reason: str | None = None
    financial_loss: str = ""
    urgent_need: bool = False
    rules: RuleVersion | None = None  # None: the carrier's setting


@dataclass(frozen=True, slots=True)
class IncidentStatus:
    incident: Incident
    deadlines: Deadlines | None  # None until the reasonable determination
    overdue: list[str]
    events: list[BreachEvent]
    affected_listed: int
    review_flags: list[str]


def timeline_event(
    incident: uuid.UUID, kind: str, at: datetime, now: datetime, actor: Actor, **details: object
) -> BreachEvent:
    document = details.pop("document_id", None)
    return BreachEvent(new_id(), incident, kind, at, now, actor.label, details, document)  # type: ignore[arg-type]


def record_step(uow: UnitOfWork, actor: Actor, now: datetime, event: BreachEvent) -> None:
    uow.breaches.add_event(event)
    uow.audit.add(
        AuditEntry.of(
            f"breaches:{event.kind}:recorded", actor, now, details={"incident": str(event.incident_id), **event.details}
        )
    )


def open_incident(uow: UnitOfWork, clock: Clock, actor: Actor, new: NewIncident, rules: RuleVersion) -> Incident:
    now = clock.now()
    if new.discovered_at > now:
        raise InvalidInput("the discovery cannot lie in the future")
    incident = Incident(
        new_id(),
        clean_text(new.title, "the title", 1, 200),
        new.rules or rules,
        new.discovered_at,
        new.intent,
        new.data_types,
        new.cpni_description.strip(),
        new.other_data_description.strip(),
        required_text(new.circumstances, "the circumstances (BREACH-6)"),
        actor.label,
        now,
        method_of_compromise=new.method_of_compromise.strip(),
        incident_start=new.incident_start,
        incident_end=new.incident_end,
        good_faith_reason=(new.good_faith_reason or "").strip() or None,
        financial_loss=new.financial_loss.strip(),
        urgent_need=new.urgent_need,
    )
    check_new(incident)
    with uow:
        uow.breaches.add(incident)
        record_step(
            uow, actor, now, timeline_event(incident.id, "opened", new.discovered_at, now, actor, title=incident.title)
        )
        uow.commit()
    return incident


def required_text(text: str, what: str) -> str:
    if not text.strip():
        raise InvalidInput(f"{what} must not be empty")
    return text.strip()


def load_for_update(uow: UnitOfWork, incident_id: uuid.UUID) -> Incident:
    incident = uow.breaches.get(incident_id, for_update=True)
    if incident is None:
        raise NotFound(f"unknown breach incident: {incident_id}")
    return incident


def save_incident(uow: UnitOfWork, incident: Incident) -> Incident:
    facts = replace(incident, records_kept_until=None)
    kept = records_kept_until(incident.facts()) if incident.determined_at else None
    saved = replace(facts, records_kept_until=kept)
    uow.breaches.save(saved)
    return saved


def record_determination(
    uow: UnitOfWork, clock: Clock, actor: Actor, incident_id: uuid.UUID, at: datetime, by: str, reason: str
) -> Incident:
    """AMB-13: the reasonable determination starts every clock."""
    now = clock.now()
    if at > now:
        raise InvalidInput("the determination cannot lie in the future")
    with uow:
        incident = determine(
            load_for_update(uow, incident_id), at, clean_text(by, "who determined it", 1, 200), reason.strip()
        )
        incident = save_incident(uow, incident)
        record_step(
            uow,
            actor,
            now,
            timeline_event(incident.id, "determined", at, now, actor, by=incident.determined_by, reason=reason.strip()),
        )
        uow.commit()
    return incident


def record_triage_note(
    uow: UnitOfWork, clock: Clock, actor: Actor, incident_id: uuid.UUID, at: datetime, note: str, likely_breach: bool
) -> None:
    """BREACH23-11: a note made while the facts come in; one that calls a breach likely before
    the recorded determination flags the incident for review."""
    now = clock.now()
    with uow:
        incident = load_for_update(uow, incident_id)
        record_step(
            uow,
            actor,
            now,
            timeline_event(
                incident.id,
                "triage-note",
                at,
                now,
                actor,
                note=required_text(note, "the note"),
                likely_breach=likely_breach,
            ),
        )
        uow.commit()


def record_harm(
    uow: UnitOfWork, clock: Clock, actor: Actor, incident_id: uuid.UUID, assessment: HarmAssessment
) -> Incident:
    now = clock.now()
    with uow:
        incident = save_incident(uow, assess_harm(load_for_update(uow, incident_id), assessment))
        details = {
            "harm_likely": assessment.harm_likely,
            "reasoning": assessment.reasoning,
            "decided_by": assessment.decided_by,
        }
        record_step(uow, actor, now, timeline_event(incident.id, "harm-assessed", now, now, actor, **details))
        uow.commit()
    return incident


def record_affected(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    incident_id: uuid.UUID,
    count: int | None,
    basis: str,
    customers: list[CustomerId] | None = None,
) -> Incident:
    """The number affected (None: unknown) with its basis, and the customers known to be among them."""
    now = clock.now()
    with uow:
        incident = load_for_update(uow, incident_id)
        listed = customers or []
        found = {c.id for c in uow.customers.get_many(listed)} if listed else set()
        missing = [str(c) for c in listed if c not in found]
        if missing:
            raise NotFound(f"unknown customer: {missing[0]}")
        added = uow.breaches.add_affected(incident.id, listed)
        total = uow.breaches.count_affected(incident.id)
        if count is not None and count < total:
            raise InvalidInput(f"{total} customers are listed as affected: the count cannot be lower")
        incident = save_incident(uow, set_affected(incident, count, basis.strip()))
        record_step(
            uow,
            actor,
            now,
            timeline_event(
                incident.id, "affected-set", now, now, actor, count=count, basis=basis.strip(), listed=added
            ),
        )
        uow.commit()
    return incident


def closures_of(uow: UnitOfWork) -> set[date]:
    return set(uow.calendar.closures())


# The events an incident's clocks read (a consultation lifts the hold, directions delay it).
CLOCK_EVENTS = ("agency-consulted", "agency-direction")


def clocks_of(
    uow: UnitOfWork, incident: Incident, events: list[BreachEvent] | None = None, closures: set[date] | None = None
) -> Deadlines | None:
    if incident.determined_at is None:
        return None
    events = uow.breaches.events(incident.id) if events is None else events
    consulted = next((e.at for e in events if e.kind == "agency-consulted"), None)
    directions = [
        (str(e.details["direction"]), _day(e.details.get("until")), e.at)
        for e in events
        if e.kind == "agency-direction"
    ]
    return deadlines(
        incident.facts(consulted, delay_from_directions(directions)), closures_of(uow) if closures is None else closures
    )


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def status(uow: UnitOfWork, clock: Clock, incident_id: uuid.UUID) -> IncidentStatus:
    with uow:
        incident = uow.breaches.get(incident_id)
        if incident is None:
            raise NotFound(f"unknown breach incident: {incident_id}")
        events = uow.breaches.events(incident.id)
        clocks = clocks_of(uow, incident, events)
        late = overdue(incident, clocks, clock.now()) if clocks else []
        return IncidentStatus(
            incident, clocks, late, events, uow.breaches.count_affected(incident.id), _flags(incident, events)
        )


def _flags(incident: Incident, events: list[BreachEvent]) -> list[str]:
    """BREACH23-11: a determination later than a note that already called the breach likely."""
    notes = [e.at for e in events if e.kind == "triage-note" and e.details.get("likely_breach")]
    if incident.determined_at and notes and min(notes) < incident.determined_at:
        return [f"review: a triage note called the breach likely on {min(notes).isoformat()}, before the determination"]
    return []


def list_incidents(uow: UnitOfWork, clock: Clock) -> list[tuple[Incident, Deadlines | None, list[str]]]:
    now = clock.now()
    with uow:
        found = []
        closures, events = closures_of(uow), uow.breaches.events_by_incident(CLOCK_EVENTS)
        for incident in uow.breaches.all():  # three reads in all, however many incidents there are
            clocks = clocks_of(uow, incident, events.get(incident.id, []), closures)
            found.append((incident, clocks, overdue(incident, clocks, now) if clocks else []))
        return found


def annual_summary(uow: UnitOfWork, year: int) -> list[Incident]:
    """BREACH23-5: the breaches of `year` under 500 customers with no harm reasonably likely,
    for the summary filed with the FCC early the next year."""
    with uow:
        found = []
        closures, events = closures_of(uow), uow.breaches.events_by_incident(CLOCK_EVENTS)
        for incident in uow.breaches.all():
            clocks = clocks_of(uow, incident, events.get(incident.id, []), closures)
            if clocks and clocks.annual_summary_due and clocks.determined_on.year == year:
                found.append(incident)
        return found
