"""Staff for the demo carrier: one member per kind of work, trained (SAFE-2), each with a
random console password that is shown once and kept in a file beside the demo API key."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from cpniguard.access.web import set_staff_password
from cpniguard.actors import Actor
from cpniguard.auth.model import SecretHasher
from cpniguard.calendar import eastern_date
from cpniguard.campaigns.service import add_user
from cpniguard.clock import Clock
from cpniguard.ports import UnitOfWork
from cpniguard.privacy_office.staff import record_training

DEMO_STAFF = {
    "demo-agent": frozenset({"agent"}),
    "demo-marketing": frozenset({"marketing"}),
    "demo-cro": frozenset({"cro"}),
    "demo-privacy": frozenset({"privacy-officer", "auditor"}),
    "demo-admin": frozenset({"admin"}),
}


def ensure_demo_staff(
    new_uow: Callable[[], UnitOfWork], clock: Clock, actor: Actor, hasher: SecretHasher
) -> dict[str, str]:
    """Adds the demo staff who are missing; returns their names and new passwords."""
    with new_uow() as uow:
        known = {user.name for user in uow.users.all()}
    today = eastern_date(clock.now())
    made = {}
    for name, roles in DEMO_STAFF.items():
        if name in known:
            continue
        record_training(new_uow(), clock, actor, name, "CPNI basics (demo)", today, today + timedelta(days=365))
        add_user(new_uow(), clock, actor, name, roles)
        password = secrets.token_urlsafe(12)
        set_staff_password(new_uow(), clock, actor, hasher, name, password)
        made[name] = password
    return made
