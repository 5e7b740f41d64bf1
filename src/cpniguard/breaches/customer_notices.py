"""The customer side of a breach: the notices, refused while a hold stands (BREACH-2..4), and
closing the incident once every notice the rules require is on record (BREACH-5)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from cpniguard.actors import Actor
from cpniguard.breaches.clocks import Deadlines
from cpniguard.breaches.model import Incident, notice_problem
from cpniguard.breaches.notices import customer_notice
from cpniguard.breaches.service import (
    clocks_of,
    load_for_update,
    record_step,
    save_incident,
    timeline_event,
)
from cpniguard.clock import Clock
from cpniguard.errors import Conflict
from cpniguard.ids import CustomerId
from cpniguard.notifications.service import Letterhead, queue_notice
from cpniguard.ports import UnitOfWork

NOTICE_CHUNK = 500


def send_customer_notices(
    uow: UnitOfWork, clock: Clock, actor: Actor, incident_id: uuid.UUID, letterhead: Letterhead, monitoring: str = ""
) -> dict[str, int]:
    """Queues the notice to every listed customer, refused while a hold stands (BREACH-2..4)."""
    now = clock.now()
    with uow:
        incident = load_for_update(uow, incident_id)
        clocks = clocks_of(uow, incident)
        if clocks is None:
            raise Conflict("record the reasonable determination first (AMB-13)")
        problem = notice_problem(incident, clocks, now)
        if problem:
            raise Conflict(problem)
        pending = uow.breaches.affected(incident.id, unnoticed_only=True)
        if not pending:
            raise Conflict("no listed customer is waiting for a notice: list the affected customers first")
        queued, unreachable = _queue_all(uow, actor, now, incident, pending, letterhead, monitoring)
        incident = save_incident(uow, replace(incident, customer_notices_at=now, last_notice_at=now))
        record_step(
            uow,
            actor,
            now,
            timeline_event(incident.id, "customer-notices", now, now, actor, queued=queued, unreachable=unreachable),
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
        incident = load_for_update(uow, incident_id)
        clocks = clocks_of(uow, incident)
        if clocks is None:
            raise Conflict("record the reasonable determination first (AMB-13)")
        if incident.investigation_closed_at is not None:
            raise Conflict("the investigation is closed already")
        _check_closable(uow, incident, clocks)
        incident = save_incident(uow, replace(incident, investigation_closed_at=at))
        record_step(uow, actor, now, timeline_event(incident.id, "closed", at, now, actor))
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
