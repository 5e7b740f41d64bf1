"""Use cases of a breach incident: open it, record what was determined, the agency notice, the
agency's written directions, and tell the customers once no hold stands in the way.

Every step is an event on the incident's timeline and an entry in the audit ledger, in the
same unit of work as the change it records (BREACH-6, BREACH23-10).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.breaches.clocks import Deadlines, RuleVersion, deadlines, records_kept_until
from cpniguard.breaches.model import (
    BreachEvent,
    Document,
    HarmAssessment,
    Incident,
    Intent,
    assess_harm,
    check_new,
    delay_from_directions,
    determine,
    notice_problem,
    overdue,
    set_affected,
)
from cpniguard.breaches.notices import AgencyNotice, agency_notice, customer_notice
from cpniguard.calendar import add_days, eastern_date
from cpniguard.clock import Clock
from cpniguard.errors import Conflict, InvalidInput, NotFound
from cpniguard.ids import CustomerId, new_id
from cpniguard.notifications.service import Letterhead, queue_notice
from cpniguard.ports import UnitOfWork
from cpniguard.text import clean_text

NOTICE_CHUNK = 500


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


def _event(incident: uuid.UUID, kind: str, at: datetime, now: datetime, actor: Actor, **details: object) -> BreachEvent:
    document = details.pop("document_id", None)
    return BreachEvent(new_id(), incident, kind, at, now, actor.label, details, document)  # type: ignore[arg-type]


def _record(uow: UnitOfWork, actor: Actor, now: datetime, event: BreachEvent) -> None:
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
        _required(new.circumstances, "the circumstances (BREACH-6)"),
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
        _record(uow, actor, now, _event(incident.id, "opened", new.discovered_at, now, actor, title=incident.title))
        uow.commit()
    return incident


def _required(text: str, what: str) -> str:
    if not text.strip():
        raise InvalidInput(f"{what} must not be empty")
    return text.strip()


def _load(uow: UnitOfWork, incident_id: uuid.UUID) -> Incident:
    incident = uow.breaches.get(incident_id, for_update=True)
    if incident is None:
        raise NotFound(f"unknown breach incident: {incident_id}")
    return incident


def _save(uow: UnitOfWork, incident: Incident) -> Incident:
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
        incident = determine(_load(uow, incident_id), at, clean_text(by, "who determined it", 1, 200), reason.strip())
        incident = _save(uow, incident)
        _record(
            uow,
            actor,
            now,
            _event(incident.id, "determined", at, now, actor, by=incident.determined_by, reason=reason.strip()),
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
        incident = _load(uow, incident_id)
        _record(
            uow,
            actor,
            now,
            _event(
                incident.id,
                "triage-note",
                at,
                now,
                actor,
                note=_required(note, "the note"),
                likely_breach=likely_breach,
            ),
        )
        uow.commit()


def record_harm(
    uow: UnitOfWork, clock: Clock, actor: Actor, incident_id: uuid.UUID, assessment: HarmAssessment
) -> Incident:
    now = clock.now()
    with uow:
        incident = _save(uow, assess_harm(_load(uow, incident_id), assessment))
        details = {
            "harm_likely": assessment.harm_likely,
            "reasoning": assessment.reasoning,
            "decided_by": assessment.decided_by,
        }
        _record(uow, actor, now, _event(incident.id, "harm-assessed", now, now, actor, **details))
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
        incident = _load(uow, incident_id)
        listed = customers or []
        found = {c.id for c in uow.customers.get_many(listed)} if listed else set()
        missing = [str(c) for c in listed if c not in found]
        if missing:
            raise NotFound(f"unknown customer: {missing[0]}")
        added = uow.breaches.add_affected(incident.id, listed)
        total = uow.breaches.count_affected(incident.id)
        if count is not None and count < total:
            raise InvalidInput(f"{total} customers are listed as affected: the count cannot be lower")
        incident = _save(uow, set_affected(incident, count, basis.strip()))
        _record(
            uow,
            actor,
            now,
            _event(incident.id, "affected-set", now, now, actor, count=count, basis=basis.strip(), listed=added),
        )
        uow.commit()
    return incident


def _closures(uow: UnitOfWork) -> set[date]:
    return set(uow.calendar.closures())


def _clocks(uow: UnitOfWork, incident: Incident, events: list[BreachEvent] | None = None) -> Deadlines | None:
    if incident.determined_at is None:
        return None
    events = uow.breaches.events(incident.id) if events is None else events
    consulted = next((e.at for e in events if e.kind == "agency-consulted"), None)
    directions = [
        (str(e.details["direction"]), _day(e.details.get("until")), e.at)
        for e in events
        if e.kind == "agency-direction"
    ]
    return deadlines(incident.facts(consulted, delay_from_directions(directions)), _closures(uow))


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def status(uow: UnitOfWork, clock: Clock, incident_id: uuid.UUID) -> IncidentStatus:
    with uow:
        incident = uow.breaches.get(incident_id)
        if incident is None:
            raise NotFound(f"unknown breach incident: {incident_id}")
        events = uow.breaches.events(incident.id)
        clocks = _clocks(uow, incident, events)
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
        for incident in uow.breaches.all():
            clocks = _clocks(uow, incident)
            found.append((incident, clocks, overdue(incident, clocks, now) if clocks else []))
        return found


def draft_agency_notice(uow: UnitOfWork, incident_id: uuid.UUID, carrier_contact: str) -> AgencyNotice:
    """BREACH23-4: the notice for staff to submit through the central reporting facility."""
    with uow:
        incident = uow.breaches.get(incident_id)
        if incident is None:
            raise NotFound(f"unknown breach incident: {incident_id}")
        clocks = _clocks(uow, incident)
        if clocks is None:
            raise Conflict("record the reasonable determination first (AMB-13)")
        return agency_notice(incident, clocks, carrier_contact)


def record_agency_notice(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    incident_id: uuid.UUID,
    submitted_at: datetime,
    recipients: tuple[str, ...],
    reference: str,
    carrier_contact: str,
) -> Incident:
    """BREACH-1, BREACH23-3: the submission, listing every recipient the rules name; refused
    while a required field of the notice is empty (BREACH23-4)."""
    now = clock.now()
    if submitted_at > now:
        raise InvalidInput("the submission cannot lie in the future")
    with uow:
        incident = _load(uow, incident_id)
        clocks = _clocks(uow, incident)
        if clocks is None:
            raise Conflict("record the reasonable determination first (AMB-13)")
        if incident.law_enforcement_notified_at is not None:
            raise Conflict("the agency notice was recorded already")
        _check_submission(agency_notice(incident, clocks, carrier_contact), clocks, recipients, submitted_at, incident)
        incident = replace(incident, law_enforcement_notified_at=submitted_at, law_enforcement_pending_reason="")
        incident = _save(
            uow, replace(incident, last_notice_at=max(submitted_at, incident.last_notice_at or submitted_at))
        )
        details = {
            "recipients": sorted(set(recipients)),
            "reference": reference.strip(),
            "urgent_need": incident.urgent_need,
        }
        _record(uow, actor, now, _event(incident.id, "agency-notice", submitted_at, now, actor, **details))
        uow.commit()
    return incident


def _check_submission(
    notice: AgencyNotice, clocks: Deadlines, recipients: tuple[str, ...], at: datetime, incident: Incident
) -> None:
    missing = notice.missing()
    if missing:
        hint = " (set CPNIGUARD_CARRIER_NAME and CPNIGUARD_CARRIER_ADDRESS)" if "carrier_contact" in missing else ""
        raise InvalidInput(f"the agency notice lacks: {', '.join(missing)}{hint} (BREACH23-4)")
    absent = [r for r in clocks.agency_recipients if r not in {x.upper() for x in recipients}]
    if absent:
        raise InvalidInput(f"the notice must go to {', '.join(clocks.agency_recipients)}; missing: {', '.join(absent)}")
    if incident.determined_at and at < incident.determined_at:
        raise InvalidInput("the agency notice cannot precede the determination")


def record_consultation(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    incident_id: uuid.UUID,
    at: datetime,
    agency: str,
    person: str,
    notes: str,
) -> None:
    """BREACH-3: early customer notice needs the urgent need stated in the agency notice and a
    consultation with the investigating agency (who, when)."""
    now = clock.now()
    with uow:
        incident = _load(uow, incident_id)
        if not incident.urgent_need:
            raise Conflict("no urgent need was stated in the agency notice: the hold stands (BREACH-3)")
        if incident.law_enforcement_notified_at is None or at < incident.law_enforcement_notified_at:
            raise Conflict("the consultation follows the agency notice (BREACH-3)")
        details = {
            "agency": _required(agency, "the agency"),
            "person": _required(person, "the person consulted"),
            "notes": notes,
        }
        _record(uow, actor, now, _event(incident.id, "agency-consulted", at, now, actor, **details))
        uow.commit()


DIRECTIONS = ("directed", "extended", "ended")


def record_direction(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    incident_id: uuid.UUID,
    direction: str,
    received_at: datetime,
    agency: str,
    document: tuple[str, str, bytes],
    days: int | None = None,
    until: date | None = None,
) -> Incident:
    """BREACH-4, BREACH23-6: an agency's written direction not to notify, its extension or its
    all-clear; never without the written document (filename, media type, content)."""
    now = clock.now()
    if direction not in DIRECTIONS:
        raise InvalidInput(f"unknown direction {direction!r} (one of: {', '.join(DIRECTIONS)})")
    filename, media_type, content = document
    if not content:
        raise InvalidInput("a direction is entered only with its written document attached (BREACH-4)")
    last = _last_day(direction, received_at, days, until)
    with uow:
        incident = _load(uow, incident_id)
        events = uow.breaches.events(incident.id)
        _check_direction(direction, events, received_at)
        doc = Document(
            new_id(),
            incident.id,
            clean_text(filename, "the file name", 1, 200),
            media_type or "application/octet-stream",
            hashlib.sha256(content).hexdigest(),
            content,
            actor.label,
            now,
        )
        uow.breaches.add_document(doc)
        details = {
            "direction": direction,
            "agency": _required(agency, "the agency"),
            "until": last.isoformat() if last else None,
            "document_id": doc.id,
            "sha256": doc.sha256,
        }
        _record(uow, actor, now, _event(incident.id, "agency-direction", received_at, now, actor, **details))
        uow.commit()
    return incident


def _last_day(direction: str, received_at: datetime, days: int | None, until: date | None) -> date | None:
    if direction == "ended":
        return None
    if until is None and days is None:
        raise InvalidInput("give the length of the delay (--days) or its last day (--until)")
    if days is not None and days <= 0:
        raise InvalidInput("a delay lasts at least one day")
    last = until or add_days(eastern_date(received_at), days or 0)
    if last < eastern_date(received_at):
        raise InvalidInput("a delay cannot end before it was received")
    return last


def _check_direction(direction: str, events: list[BreachEvent], at: datetime) -> None:
    kinds = [str(e.details["direction"]) for e in events if e.kind == "agency-direction"]
    active = bool(kinds) and kinds[-1] != "ended"
    if direction == "directed" and active:
        raise Conflict("a delay is in force already: record an extension or the all-clear")
    if direction != "directed" and not active:
        raise Conflict("no delay is in force to extend or end")


def send_customer_notices(
    uow: UnitOfWork, clock: Clock, actor: Actor, incident_id: uuid.UUID, letterhead: Letterhead, monitoring: str = ""
) -> dict[str, int]:
    """Queues the notice to every listed customer, refused while a hold stands (BREACH-2..4)."""
    now = clock.now()
    with uow:
        incident = _load(uow, incident_id)
        clocks = _clocks(uow, incident)
        if clocks is None:
            raise Conflict("record the reasonable determination first (AMB-13)")
        problem = notice_problem(incident, clocks, now)
        if problem:
            raise Conflict(problem)
        pending = uow.breaches.affected(incident.id, unnoticed_only=True)
        if not pending:
            raise Conflict("no listed customer is waiting for a notice: list the affected customers first")
        queued, unreachable = _queue_all(uow, actor, now, incident, pending, letterhead, monitoring)
        incident = _save(uow, replace(incident, customer_notices_at=now, last_notice_at=now))
        _record(
            uow,
            actor,
            now,
            _event(incident.id, "customer-notices", now, now, actor, queued=queued, unreachable=unreachable),
        )
        uow.commit()
    return {"queued": queued, "unreachable": unreachable}


def _queue_all(
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    incident: Incident,
    pending: list[uuid.UUID],
    letterhead: Letterhead,
    monitoring: str,
) -> tuple[int, int]:
    queued = unreachable = 0
    for start in range(0, len(pending), NOTICE_CHUNK):
        done = []
        for customer in uow.customers.get_many([CustomerId(c) for c in pending[start : start + NOTICE_CHUNK]]):
            notice = customer_notice(incident, customer, now, letterhead, monitoring)
            if notice is None:
                unreachable += 1
                continue
            queue_notice(uow, actor, now, notice)
            done.append((customer.id, notice.id))
        uow.breaches.mark_noticed(incident.id, done, now)
        queued += len(done)
    return queued, unreachable


def close_investigation(uow: UnitOfWork, clock: Clock, actor: Actor, incident_id: uuid.UUID, at: datetime) -> Incident:
    """Closes the incident once its notices are on record: the agency notice to every recipient
    (BREACH23-3), a sent notice per listed customer where one is required (BREACH-5), and for
    the annual-summary path the basis of the count and of the no-harm finding (BREACH23-10)."""
    now = clock.now()
    with uow:
        incident = _load(uow, incident_id)
        clocks = _clocks(uow, incident)
        if clocks is None:
            raise Conflict("record the reasonable determination first (AMB-13)")
        if incident.investigation_closed_at is not None:
            raise Conflict("the investigation is closed already")
        _check_closable(uow, incident, clocks)
        incident = _save(uow, replace(incident, investigation_closed_at=at))
        _record(uow, actor, now, _event(incident.id, "closed", at, now, actor))
        uow.commit()
    return incident


def _check_closable(uow: UnitOfWork, incident: Incident, clocks: Deadlines) -> None:
    if clocks.agency_recipients and incident.law_enforcement_notified_at is None:
        raise Conflict("the agency notice is not on record (BREACH-1, BREACH23-3)")
    if clocks.customer_notice_required and uow.breaches.affected(incident.id, unnoticed_only=True):
        raise Conflict("a listed customer has no notice on record (BREACH-5)")
    if clocks.customer_notice_required and not uow.breaches.count_affected(incident.id):
        raise Conflict("customer notice is required, but no affected customer is listed (BREACH-5)")
    if clocks.annual_summary_due and not (incident.affected_count_basis and incident.harm_reasoning):
        raise Conflict("the annual-summary path keeps the basis of the count and of the harm finding (BREACH23-10)")


def annual_summary(uow: UnitOfWork, year: int) -> list[Incident]:
    """BREACH23-5: the breaches of `year` under 500 customers with no harm reasonably likely,
    for the summary filed with the FCC early the next year."""
    with uow:
        found = []
        for incident in uow.breaches.all():
            clocks = _clocks(uow, incident)
            if clocks and clocks.annual_summary_due and clocks.determined_on.year == year:
                found.append(incident)
        return found
