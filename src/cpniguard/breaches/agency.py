"""The agency side of a breach: the notice to the FCC, USSS and FBI (BREACH-1, BREACH23-3,
BREACH23-4), the consultation that may release the hold (BREACH-3), and the agency's written
directions to delay customer notice (BREACH-4, BREACH23-6)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import date, datetime

from cpniguard.actors import Actor
from cpniguard.breaches.clocks import Deadlines
from cpniguard.breaches.model import BreachEvent, Document, Incident
from cpniguard.breaches.notices import AgencyNotice, agency_notice
from cpniguard.breaches.service import (
    clocks_of,
    load_for_update,
    record_step,
    required_text,
    save_incident,
    timeline_event,
)
from cpniguard.calendar import add_days, eastern_date
from cpniguard.clock import Clock
from cpniguard.errors import Conflict, InvalidInput, NotFound
from cpniguard.ids import new_id
from cpniguard.ports import UnitOfWork
from cpniguard.text import clean_text


def draft_agency_notice(uow: UnitOfWork, incident_id: uuid.UUID, carrier_contact: str) -> AgencyNotice:
    """BREACH23-4: the notice for staff to submit through the central reporting facility."""
    with uow:
        incident = uow.breaches.get(incident_id)
        if incident is None:
            raise NotFound(f"unknown breach incident: {incident_id}")
        clocks = clocks_of(uow, incident)
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
        incident = load_for_update(uow, incident_id)
        clocks = clocks_of(uow, incident)
        if clocks is None:
            raise Conflict("record the reasonable determination first (AMB-13)")
        if incident.law_enforcement_notified_at is not None:
            raise Conflict("the agency notice was recorded already")
        _check_submission(agency_notice(incident, clocks, carrier_contact), clocks, recipients, submitted_at, incident)
        incident = replace(incident, law_enforcement_notified_at=submitted_at, law_enforcement_pending_reason="")
        incident = save_incident(
            uow, replace(incident, last_notice_at=max(submitted_at, incident.last_notice_at or submitted_at))
        )
        details = {
            "recipients": sorted(set(recipients)),
            "reference": reference.strip(),
            "urgent_need": incident.urgent_need,
        }
        record_step(uow, actor, now, timeline_event(incident.id, "agency-notice", submitted_at, now, actor, **details))
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
        incident = load_for_update(uow, incident_id)
        if not incident.urgent_need:
            raise Conflict("no urgent need was stated in the agency notice: the hold stands (BREACH-3)")
        if incident.law_enforcement_notified_at is None or at < incident.law_enforcement_notified_at:
            raise Conflict("the consultation follows the agency notice (BREACH-3)")
        details = {
            "agency": required_text(agency, "the agency"),
            "person": required_text(person, "the person consulted"),
            "notes": notes,
        }
        record_step(uow, actor, now, timeline_event(incident.id, "agency-consulted", at, now, actor, **details))
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
        incident = load_for_update(uow, incident_id)
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
            "agency": required_text(agency, "the agency"),
            "until": last.isoformat() if last else None,
            "document_id": doc.id,
            "sha256": doc.sha256,
        }
        record_step(
            uow, actor, now, timeline_event(incident.id, "agency-direction", received_at, now, actor, **details)
        )
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
