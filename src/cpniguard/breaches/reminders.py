"""Reminders of breach deadlines to the privacy office, through the outbox: one a few business
days before each internal target, one when a legal date has passed (AMB-2: alert on the target)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from cpniguard.actors import Actor
from cpniguard.breaches.clocks import Deadlines
from cpniguard.breaches.model import BreachEvent, Incident
from cpniguard.breaches.service import CLOCK_EVENTS, clocks_of, closures_of, record_step, timeline_event
from cpniguard.calendar import eastern_date, is_business_day
from cpniguard.clock import Clock
from cpniguard.ids import new_id
from cpniguard.notifications.model import Channel, Notice, NoticeEvent, Stop
from cpniguard.ports import UnitOfWork

LABELS = {
    "law-enforcement-notice": "the agency notice (USSS, FBI, FCC as the rules require)",
    "customer-notice": "the customer notices",
}


def business_days_before(day: date, count: int, closures: set[date]) -> date:
    current = day
    while count:
        current -= timedelta(days=1)
        if is_business_day(current, closures):
            count -= 1
    return current


def open_deadlines(incident: Incident, clocks: Deadlines) -> list[tuple[str, date, date | None]]:
    """(name, internal target, legal date) of what is still to do."""
    found: list[tuple[str, date, date | None]] = []
    if clocks.law_enforcement_notice_target and incident.law_enforcement_notified_at is None:
        found.append(
            ("law-enforcement-notice", clocks.law_enforcement_notice_target, clocks.law_enforcement_notice_due)
        )
    if clocks.customer_notice_required and clocks.customer_notice_target and incident.customer_notices_at is None:
        found.append(("customer-notice", clocks.customer_notice_target, clocks.customer_notice_due))
    return found


def remind_due(uow: UnitOfWork, clock: Clock, actor: Actor, to: str, lead_business_days: int) -> int:
    """Queues the reminders now due, each once; returns how many."""
    now = clock.now()
    today = eastern_date(now)
    sent = 0
    with uow:
        closures = closures_of(uow)
        read = uow.breaches.events_by_incident((*CLOCK_EVENTS, "reminder"))
        for incident in uow.breaches.all():  # three reads every minute, however many incidents
            events = read.get(incident.id, [])
            clocks = clocks_of(uow, incident, events, closures)
            if clocks is None:
                continue
            done = {
                (str(e.details.get("deadline")), str(e.details.get("stage"))) for e in events if e.kind == "reminder"
            }
            for name, target, legal in open_deadlines(incident, clocks):
                stage = _stage(today, target, legal, lead_business_days, closures)
                if stage is None or (name, stage) in done:
                    continue
                uow.outbox.add(_reminder(incident, name, stage, target, legal, to, now))
                record_step(
                    uow,
                    actor,
                    now,
                    timeline_event(incident.id, "reminder", now, now, actor, deadline=name, stage=stage, to=to),
                )
                sent += 1
        uow.commit()
    return sent


def _stage(today: date, target: date, legal: date | None, lead: int, closures: set[date]) -> str | None:
    if legal is not None and today > legal:
        return "overdue"
    if today >= business_days_before(target, lead, closures):
        return "upcoming"
    return None


def _reminder(
    incident: Incident, name: str, stage: str, target: date, legal: date | None, to: str, now: datetime
) -> Notice:
    state = "is OVERDUE" if stage == "overdue" else "is coming up"
    subject = f"Breach {incident.title}: {LABELS[name]} {state}"
    body = (
        f"Incident {incident.id} ({incident.title}): {LABELS[name]} {state}.\n"
        f"Internal target: {target.isoformat()}. "
        f"Legal date: {legal.isoformat() if legal else 'none set by the rules'}.\n"
        "Run `cpniguard breach show` for the deadlines and the timeline."
    )
    return Notice(new_id(), now, None, NoticeEvent.BREACH_REMINDER, "en", (Stop(Channel.EMAIL, to),), subject, body)


__all__ = ["BreachEvent", "remind_due"]
