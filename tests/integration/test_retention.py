"""AMB-8 and the record periods: the purge refuses anything younger than a year and never
touches the records the rules require (they are append-only)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Table, func, select

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.clock import FixedClock
from cpniguard.consent.retention import purge
from cpniguard.db import tables as t
from cpniguard.errors import Forbidden
from tests.conftest import T0, a_customer


def _count(app: App, table: Table) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_amb_8_a_purge_of_anything_younger_than_a_year_is_refused_and_writes_nothing(app: App, actor: Actor) -> None:
    before = _count(app, t.audit_entries)
    with pytest.raises(Forbidden, match="one year"):
        purge(app.uow(), app.clock, actor, T0 - timedelta(days=200))
    assert _count(app, t.audit_entries) == before


def test_the_purge_removes_old_working_data_and_keeps_every_record(app: App, actor: Actor, clock: FixedClock) -> None:
    customer = a_customer(app, actor, at=T0 - timedelta(days=800))
    with app.uow() as uow:
        uow.auth.add_attempt(customer.id, "pin", T0 - timedelta(days=500), False)
        uow.auth.add_attempt(customer.id, "pin", T0 - timedelta(days=10), False)
        uow.commit()
    ledger = _count(app, t.audit_entries)
    counts = purge(app.uow(), app.clock, actor, T0 - timedelta(days=400))
    assert counts["auth_attempts"] == 1 and _count(app, t.auth_attempts) == 1
    assert _count(app, t.audit_entries) == ledger + 1  # the purge itself is on record
