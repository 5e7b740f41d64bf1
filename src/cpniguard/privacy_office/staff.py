"""Use cases of staff training (SAFE-2): record it, list it, see whose is due, grant roles.

A role that opens CPNI (access.model.CPNI_ROLES) is given only to a member of staff with a
current training record, whether the user is added with it or granted it later.
"""

from __future__ import annotations

from datetime import date, timedelta

from cpniguard.access.model import ROLES, User
from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.calendar import eastern_date
from cpniguard.clock import Clock
from cpniguard.errors import Conflict, InvalidInput, NotFound
from cpniguard.ids import new_id
from cpniguard.ports import UnitOfWork
from cpniguard.privacy_office.model import TrainingDue, TrainingRecord, check_cpni_training, new_training, training_due
from cpniguard.text import clean_text

LONGEST_LOOKAHEAD_DAYS = 3660


def require_cpni_training(uow: UnitOfWork, name: str, roles: frozenset[str], today: date) -> None:
    """SAFE-2, inside the caller's unit of work: refuses CPNI roles to untrained staff."""
    check_cpni_training(name, roles, uow.privacy.training(name), today)


def record_training(
    uow: UnitOfWork, clock: Clock, actor: Actor, staff: str, course: str, completed_on: date, expires_on: date
) -> TrainingRecord:
    """SAFE-2: a member of staff (by user name, a user or not yet) completed CPNI training."""
    now = clock.now()
    if completed_on > eastern_date(now):
        raise InvalidInput("training cannot be completed in the future")
    name = clean_text(staff, "a staff name", 1, 200)
    record = new_training(
        new_id(), name, clean_text(course, "a course", 1, 200), completed_on, expires_on, actor.label, now
    )
    with uow:
        uow.privacy.add_training(record)
        details = {"staff": name, "course": record.course, "completed_on": completed_on, "expires_on": expires_on}
        uow.audit.add(AuditEntry.of("privacy:training:recorded", actor, now, details=details))
        uow.commit()
    return record


def list_training(uow: UnitOfWork, staff: str | None = None) -> list[TrainingRecord]:
    with uow:
        return uow.privacy.training(staff)


def due_training(uow: UnitOfWork, clock: Clock, within_days: int = 30) -> list[TrainingDue]:
    """Staff holding a CPNI role, or trained once, whose training is missing or gone, or ends
    within `within_days` days."""
    if not 0 <= within_days <= LONGEST_LOOKAHEAD_DAYS:
        raise InvalidInput(f"--within must be 0 to {LONGEST_LOOKAHEAD_DAYS} days")
    today = eastern_date(clock.now())
    with uow:
        staff = {u.name: u.roles for u in uow.users.all()}
        records = uow.privacy.training()
    return training_due(staff, records, today, today + timedelta(days=within_days))


def grant_role(uow: UnitOfWork, clock: Clock, actor: Actor, name: str, role: str) -> User:
    """Gives a member of staff one more role; one that opens CPNI needs current training (SAFE-2)."""
    if role not in ROLES:
        raise InvalidInput(f"unknown role: {role} (one of: {', '.join(sorted(ROLES))})")
    now = clock.now()
    with uow:
        user = uow.users.by_name(name)
        if user is None:
            raise NotFound(f"unknown user: {name!r} (add one with `cpniguard users add`)")
        if role in user.roles:
            raise Conflict(f"{user.name} holds the {role} role already")
        require_cpni_training(uow, user.name, frozenset({role}), eastern_date(now))
        roles = user.roles | {role}
        uow.users.set_roles(user.id, roles)
        details = {"user": user.name, "role": role, "roles": sorted(roles)}
        uow.audit.add(AuditEntry.of("access:role:granted", actor, now, details=details))
        uow.commit()
    return User(user.id, user.name, roles, user.created_at, user.corporate_officer, user.title)
