"""CAL-3, CAL-6: days the Commission's headquarters is closed beyond the federal holidays (an
executive-order closure, a shutdown), kept by compliance staff; every business-day clock skips them."""

from __future__ import annotations

from datetime import date

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.calendar import federal_holidays
from cpniguard.clock import Clock
from cpniguard.errors import Conflict, NotFound
from cpniguard.ports import UnitOfWork
from cpniguard.text import clean_text


def add_closure(uow: UnitOfWork, clock: Clock, actor: Actor, day: date, reason: str) -> None:
    now = clock.now()
    why = clean_text(reason, "the reason", 1, 400)
    if day.weekday() >= 5 or day in federal_holidays(day.year):
        raise Conflict(f"{day.isoformat()} is a weekend day or federal holiday already")
    with uow:
        if not uow.calendar.add_closure(day, why, actor.label, now):
            raise Conflict(f"{day.isoformat()} is a closure day already")
        uow.audit.add(
            AuditEntry.of("calendar:closure:added", actor, now, details={"day": day.isoformat(), "reason": why})
        )
        uow.commit()


def remove_closure(uow: UnitOfWork, clock: Clock, actor: Actor, day: date) -> None:
    now = clock.now()
    with uow:
        if not uow.calendar.remove_closure(day):
            raise NotFound(f"{day.isoformat()} is no closure day")
        uow.audit.add(AuditEntry.of("calendar:closure:removed", actor, now, details={"day": day.isoformat()}))
        uow.commit()


def closures(uow: UnitOfWork) -> dict[date, str]:
    with uow:
        return uow.calendar.closures()
