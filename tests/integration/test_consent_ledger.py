"""The consent ledger on SQLite and PostgreSQL: events are the truth, the state table follows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.calendar import parse_when
from cpniguard.consent.model import Channel, ConsentEventKind, fold
from cpniguard.consent.service import rebuild_state, record_event, show_consent
from cpniguard.customers.service import NewCustomer, add_customer
from cpniguard.db import tables as t
from cpniguard.errors import InvalidInput, NotFound
from cpniguard.ids import CustomerId, new_id
from tests.conftest import a_customer

K = ConsentEventKind


def count(app: App, table: t.Table) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_each_event_updates_the_state_table_in_the_same_transaction(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor)
    for kind, at in [(K.OPT_OUT_NOTICE_SENT, "2026-01-05"), (K.OPT_IN, "2026-02-01"), (K.OPT_OUT, "2026-02-10")]:
        record_event(app.uow(), app.clock, actor, customer.id, kind, Channel.EMAIL, at=parse_when(at))
        with app.uow() as uow:
            assert uow.consent.state(customer.id) == fold(customer.id, uow.consent.events(customer.id))


def test_the_state_at_a_past_moment_is_derived_from_the_events(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor)
    record_event(app.uow(), app.clock, actor, customer.id, K.OPT_IN, Channel.WEB, at=parse_when("2026-01-10"))
    record_event(app.uow(), app.clock, actor, customer.id, K.OPT_IN_REVOKED, Channel.WEB, at=parse_when("2026-02-10"))
    then = show_consent(app.uow(), app.clock, actor, customer.id, parse_when("2026-01-20"))
    now = show_consent(app.uow(), app.clock, actor, customer.id, parse_when("2026-02-20"))
    assert then.state.opt_in_active(then.at) and len(then.events) == 1
    assert not now.state.opt_in_active(now.at) and len(now.events) == 2


def test_rebuilding_the_state_table_agrees_with_the_events_and_repairs_drift(app: App, actor: Actor) -> None:
    customers = [a_customer(app, actor, telephone_numbers=(f"+1202555{1000 + i}",)) for i in range(5)]
    for i, customer in enumerate(customers):
        record_event(
            app.uow(),
            app.clock,
            actor,
            customer.id,
            K.OPT_OUT_NOTICE_SENT,
            Channel.MAIL,
            at=parse_when("2026-01-05") + timedelta(days=i),
        )
        if i % 2:
            record_event(app.uow(), app.clock, actor, customer.id, K.OPT_OUT, Channel.PHONE)
    assert rebuild_state(app.uow(), app.clock, actor) == 0
    with app.engine.begin() as conn:
        conn.execute(
            update(t.consent_state)
            .where(t.consent_state.c.customer_id == customers[0].id)
            .values(opt_in_since=app.clock.now())
        )
    assert rebuild_state(app.uow(), app.clock, actor) == 1
    assert rebuild_state(app.uow(), app.clock, actor) == 0


def test_an_event_for_an_unknown_customer_writes_nothing(app: App, actor: Actor) -> None:
    before = count(app, t.consent_events), count(app, t.audit_entries)
    with pytest.raises(NotFound):
        record_event(app.uow(), app.clock, actor, CustomerId(new_id()), K.OPT_OUT, Channel.WEB)
    assert (count(app, t.consent_events), count(app, t.audit_entries)) == before


def test_a_customer_with_a_bad_email_is_refused_and_nothing_is_written(app: App, actor: Actor) -> None:
    before = count(app, t.customers), count(app, t.contacts), count(app, t.audit_entries)
    with pytest.raises(InvalidInput, match="email"):
        add_customer(app.uow(), app.clock, actor, NewCustomer("Bob", ("+12025550123",), ("bob@",)))
    assert (count(app, t.customers), count(app, t.contacts), count(app, t.audit_entries)) == before


def test_a_failure_inside_the_unit_of_work_rolls_everything_back(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor)
    before = count(app, t.consent_events), count(app, t.consent_state)

    def half_done() -> None:
        with app.uow() as uow:
            uow.consent.save_state(fold(customer.id, []))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        half_done()
    assert (count(app, t.consent_events), count(app, t.consent_state)) == before
