"""SAFE-5: when opt-out mechanisms fail to a degree that is more than an anomaly, the FCC gets
a letter within five business days. Recording the failure creates the task, due on the fifth
business day after the day it was found (CAL-4, US federal holidays skipped), with the
letter's fields: what is known now is filled in, the rest is named for staff to complete.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.calendar import add_business_days, eastern_date
from cpniguard.clock import Clock
from cpniguard.ids import new_id
from cpniguard.ports import Alert, UnitOfWork
from cpniguard.text import clean_text

TASK = "fcc-opt-out-failure-letter"
BUSINESS_DAYS = 5
TO_COMPLETE = "to be completed before the letter is sent"


@dataclass(frozen=True, slots=True)
class FccLetter:
    """The seven contents of the letter (47 CFR 64.2009(f))."""

    carrier_name: str
    mechanisms: str
    problem: str
    remedy_and_date: str
    state_commissions: str
    customer_notice_copy: str
    contact: str


@dataclass(frozen=True, slots=True)
class FccLetterTask:
    id: str
    found_on: date
    due_on: date
    letter: FccLetter


def record_opt_out_failure(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    mechanisms: str,
    problem: str,
    found_on: date | None = None,
    remedy: str = "",
    carrier_name: str = "",
    contact: str = "",
) -> FccLetterTask:
    """Creates the FCC letter task as an alert (`alerts list`), due on the fifth business day;
    `carrier_name` and `contact` are the carrier's (App.carrier_contact), the rest is named."""
    now = clock.now()
    found = found_on or eastern_date(now)
    letter = FccLetter(
        carrier_name or TO_COMPLETE,
        clean_text(mechanisms, "the opt-out mechanisms", 1, 500),
        clean_text(problem, "the problem", 1, 4000),
        clean_text(remedy, "the remedy", 0, 4000) or TO_COMPLETE,
        TO_COMPLETE,
        TO_COMPLETE,
        contact or TO_COMPLETE,
    )
    with uow:
        closures = set(uow.calendar.closures())  # CAL-3: days the Commission is closed
        task_id = new_id()  # the task is the alert staff see: one id for both
        task = FccLetterTask(str(task_id), found, add_business_days(found, BUSINESS_DAYS, closures), letter)
        details = json.dumps({"found_on": found.isoformat(), "due_on": task.due_on.isoformat(), **asdict(letter)})
        uow.auth.add_alert(Alert(task_id, None, TASK, now, details))
        uow.audit.add(
            AuditEntry.of(
                "consent:opt-out-failure:recorded",
                actor,
                now,
                details={"task": task.id, "due_on": task.due_on.isoformat(), "mechanisms": letter.mechanisms},
            )
        )
        uow.commit()
    return task
