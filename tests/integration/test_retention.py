"""AMB-8 and the record periods: the purge refuses anything younger than a year and never
touches the records the rules require (they are append-only); a campaign's audience snapshot
is kept until a year after the campaign was completed (SAFE-3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Table, func, select

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.campaigns.closing import complete_campaign
from cpniguard.campaigns.service import build_audience, export_audience
from cpniguard.clock import FixedClock
from cpniguard.consent.retention import purge
from cpniguard.db import tables as t
from cpniguard.errors import Forbidden
from tests.conftest import T0, a_customer
from tests.integration.test_campaigns import approved, customers, staff  # noqa: F401 - staff is a fixture


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


@pytest.mark.usefixtures("staff")
def test_safe_3_a_campaign_s_audience_is_kept_a_year_after_its_completion_and_its_records_for_good(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customers(app, actor)
    two_years_ago = T0 - timedelta(days=730)
    clock.move_to(two_years_ago)
    long_done, lately_done, still_running = (approved(app) for _ in range(3))
    for campaign in (long_done, lately_done, still_running):
        build_audience(app.uow(), app.clock, actor, campaign.id, at=T0)  # the customers' consent of today
        export_audience(app.uow(), app.clock, actor, campaign.id)
    clock.move_to(T0 - timedelta(days=400))
    complete_campaign(app.uow(), app.clock, long_done.id, "mia")
    clock.move_to(T0 - timedelta(days=200))  # created two years ago, completed less than a year ago
    complete_campaign(app.uow(), app.clock, lately_done.id, "mia")
    clock.move_to(T0)
    kept = {table: _count(app, table) for table in (t.campaigns, t.campaign_events, t.disclosures)}
    with pytest.raises(Forbidden, match="one year"):
        purge(app.uow(), app.clock, actor, T0 - timedelta(days=100))
    counts = purge(app.uow(), app.clock, actor, T0 - timedelta(days=366))
    with app.uow() as uow:
        sizes = [len(uow.campaigns.audience(c.id)) for c in (long_done, lately_done, still_running)]
    assert sizes == [0, 3, 3] and counts["campaign_audience"] == 3
    assert {table: _count(app, table) for table in kept} == kept
