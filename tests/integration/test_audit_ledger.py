"""The audit ledger on SQLite and PostgreSQL: chained, checkpointed, verified entry by entry."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from cpniguard.actors import Actor
from cpniguard.audit.service import checkpoint, verify
from cpniguard.bootstrap import App
from cpniguard.consent.model import Channel, ConsentEventKind
from cpniguard.consent.service import record_event
from cpniguard.db import tables as t
from cpniguard.db.migrate import current_revision, head_revision, upgrade
from cpniguard.decisions.model import Purpose, Request
from cpniguard.decisions.service import check
from tests.conftest import a_customer


def some_decisions(app: App, actor: Actor, n: int) -> None:
    customer = a_customer(app, actor)
    for _ in range(n):
        check(app.uow(), app.clock, actor, customer.id, Request(Purpose.BILLING))


def test_every_decision_is_in_the_ledger_and_the_ledger_verifies(app: App, actor: Actor) -> None:
    some_decisions(app, actor, 12)
    result = verify(app.uow(), app.verifier)
    assert result.ok and result.entries == 13 and result.first_bad is None
    with app.engine.connect() as conn:
        decided = conn.execute(
            select(func.count()).where(t.audit_entries.c.action == "decisions:cpni-use:allowed")
        ).scalar_one()
    assert decided == 12


def test_checkpoints_are_signed_at_intervals_and_on_demand(app: App, actor: Actor) -> None:
    some_decisions(app, actor, 11)  # the test settings sign every 5 entries
    made = checkpoint(app.uow(), app.clock, actor, app.sign_checkpoint)
    with app.uow() as uow:
        seqs = [c.seq for c in uow.audit.checkpoints()]
    assert seqs == [5, 10, made.seq] and made.seq == 12
    assert verify(app.uow(), app.verifier).checkpoints_checked == 3


def test_a_forged_checkpoint_signature_fails_verification(app: App, actor: Actor) -> None:
    some_decisions(app, actor, 6)
    with app.engine.begin() as conn:
        conn.execute(update(t.audit_checkpoints).values(signature="AAAA" + "A" * 84))
    result = verify(app.uow(), app.verifier)
    assert not result.ok and result.bad_checkpoints == [5]


def _tamper(app: App, seq: int) -> None:
    with app.engine.begin() as conn:
        # An attacker with the database's owner rights can switch the triggers off first.
        if app.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
        conn.execute(update(t.audit_entries).where(t.audit_entries.c.seq == seq).values(outcome="denied"))


def test_an_edited_entry_is_named_as_the_first_bad_one(app: App, actor: Actor) -> None:
    some_decisions(app, actor, 8)
    _tamper(app, 4)
    result = verify(app.uow(), app.verifier)
    assert not result.ok and result.first_bad is not None and result.first_bad.seq == 4
    assert result.entries == 9  # every entry was still read


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET reason = 'x'",
        "DELETE FROM audit_entries",
        "TRUNCATE audit_entries",
        "DELETE FROM consent_events",
        "UPDATE consent_events SET channel = 'web'",
    ],
)
def test_the_database_refuses_to_change_the_append_only_ledgers(app: App, actor: Actor, statement: str) -> None:
    if statement.startswith("TRUNCATE") and app.engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no TRUNCATE")
    customer = a_customer(app, actor)
    record_event(app.uow(), app.clock, actor, customer.id, ConsentEventKind.OPT_IN, Channel.WEB)
    with pytest.raises(DBAPIError, match="append-only"), app.engine.begin() as conn:
        conn.execute(text(statement))


def test_upgrading_twice_is_harmless_and_ends_at_head(app: App) -> None:
    upgrade(app.engine)
    assert current_revision(app.engine) == head_revision(app.engine) == "0001"
