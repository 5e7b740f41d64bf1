"""The audit ledger on SQLite and PostgreSQL: chained, checkpointed, verified entry by entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry, entry_hash
from cpniguard.audit.service import checkpoint, verify
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.breaches.clocks import RuleVersion
from cpniguard.breaches.model import Intent
from cpniguard.breaches.service import NewIncident, open_incident
from cpniguard.consent.model import Channel, ConsentEventKind
from cpniguard.consent.service import record_event
from cpniguard.db import audit_scan
from cpniguard.db import tables as t
from cpniguard.db.audit_repo import SqlAuditRepository
from cpniguard.db.migrate import alembic_config, current_revision, head_revision, upgrade
from cpniguard.decisions.model import Purpose, Request
from cpniguard.decisions.service import check
from cpniguard.views import verification_view
from tests.conftest import TEST_SIGNING_KEY, a_customer


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


AWKWARD = ['Müller\'s "quote" \\ back', "emoji 📞 and 中文", "line\nbreak\ttab", "", "x" * 5000, "'; DROP TABLE x; --"]


def test_entries_with_any_text_hash_the_same_in_the_database_as_in_python(app: App, actor: Actor) -> None:
    """PostgreSQL links entries in `cpniguard_audit_append` (migration 0009), SQLite in Python;
    verifying re-hashes every stored entry in Python, so both must hash the very same text."""
    customer = a_customer(app, actor)
    with app.uow() as uow:
        for i, text_ in enumerate(AWKWARD):
            who = customer.id if i % 2 else None
            uow.audit.add(AuditEntry.of("tests:odd:text", actor, app.clock.now(), who, reason=text_, basis=text_[:200]))
        uow.commit()
    result = verify(app.uow(), app.verifier)
    assert result.ok, result.problem
    with app.uow() as uow:
        stored = uow.audit.find(None, "tests:odd:text", 10)
    assert sorted(e.reason for e in stored) == sorted(AWKWARD)
    assert all(e.hash == entry_hash(e) for e in stored)


@pytest.mark.parametrize("bad", ["a\x00b", "a\x1fb"])
def test_a_field_with_a_nul_or_the_separator_is_refused_and_nothing_is_stored(app: App, actor: Actor, bad: str) -> None:
    before = verify(app.uow(), app.verifier).entries
    with app.uow() as uow:
        uow.audit.add(AuditEntry.of("tests:odd:text", actor, app.clock.now(), reason=bad))
        with pytest.raises(ValueError, match="NUL or U\\+001F"):
            uow.commit()
    assert verify(app.uow(), app.verifier).entries == before


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


def _tamper(app: App, seq: int, statement: str = "UPDATE audit_entries SET outcome = 'denied'") -> None:
    with app.engine.begin() as conn:
        # An attacker with the database's owner rights can switch the triggers off first.
        if app.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
            conn.execute(text("DROP TRIGGER audit_entries_no_delete"))
        conn.execute(text(f"{statement} WHERE seq = :seq"), {"seq": seq})


def test_an_edited_entry_is_named_as_the_first_bad_one(app: App, actor: Actor) -> None:
    some_decisions(app, actor, 8)
    _tamper(app, 4)
    result = verify(app.uow(), app.verifier)
    assert not result.ok and result.first_bad is not None and result.first_bad.seq == 4
    assert result.first_bad.outcome == "denied" and result.problem == "entry content does not match its hash"
    assert result.entries == 9  # every entry was still read


@pytest.mark.parametrize(
    "change",
    [
        "id = '00000000-0000-4000-8000-000000000000'",
        "at = '2026-03-02T15:00:00.000001Z'",
        "customer_id = NULL",
        "details = '{}'",
        "prev_hash = hash",
        "hash = prev_hash",
    ],
)
def test_every_stored_field_is_covered_by_the_hash_chain(app: App, actor: Actor, change: str) -> None:
    some_decisions(app, actor, 4)
    _tamper(app, 3, f"UPDATE audit_entries SET {change}")
    result = verify(app.uow(), app.verifier)
    assert not result.ok and result.first_bad_seq == 3 and result.entries == 5


def test_a_deleted_entry_leaves_a_gap_named_at_the_next_one(app: App, actor: Actor) -> None:
    some_decisions(app, actor, 6)
    _tamper(app, 4, "DELETE FROM audit_entries")
    result = verify(app.uow(), app.verifier)
    assert not result.ok and result.first_bad_seq == 5 and result.problem == "sequence gap: expected 4, found 5"


@pytest.mark.parametrize("batch_size", [1, 3, 4, 100])
def test_a_deleted_run_longer_than_a_batch_is_stepped_over_and_named(app: App, actor: Actor, batch_size: int) -> None:
    """Batches are ranges of seqs (audit_scan.chain_rows): a range with no entry left in it
    jumps to the next stored one; the entries after the run are still read and counted."""
    some_decisions(app, actor, 20)
    _tamper(app, 5, "DELETE FROM audit_entries")  # the append-only triggers go with the first
    with app.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq BETWEEN 6 AND 13"))
    result = verify(app.uow(), app.verifier, batch_size=batch_size)
    assert not result.ok and result.first_bad_seq == 14 and result.problem == "sequence gap: expected 5, found 14"
    assert result.entries == 21 - 9


def test_an_entry_tampered_into_unreadable_text_is_still_named_and_shown(app: App, actor: Actor) -> None:
    some_decisions(app, actor, 3)
    _tamper(app, 2, "UPDATE audit_entries SET at = 'yesterday', details = 'not json'")
    view = verification_view(verify(app.uow(), app.verifier))
    assert view["ok"] is False and view["first_bad"]["seq"] == 2
    assert view["first_bad"]["at"] == "yesterday" and view["first_bad"]["details"] == {"stored_text": "not json"}


@pytest.mark.sqlite_only
def test_a_nul_byte_hidden_in_a_field_is_caught(app: App, actor: Actor) -> None:
    # SQLite's printf, which joins the fields when verifying, stops at a NUL: "opt-in" and
    # "opt-in<NUL>anything" would read alike without the length check.
    some_decisions(app, actor, 3)
    _tamper(app, 2, "UPDATE audit_entries SET reason = reason || char(0) || 'but denied'")
    result = verify(app.uow(), app.verifier)
    assert not result.ok and result.first_bad_seq == 2 and result.problem == "entry content does not match its hash"


def _second_stretch_starts(app: App) -> int:
    with app.uow() as uow:
        last, _ = uow.audit.head()
    plan = audit_scan.stretches(1, last, 2)
    if len(plan) < 2:
        pytest.skip("one usable CPU: the ledger is checked in one stretch")
    return plan[1][0] + 1


def test_a_large_ledger_is_checked_in_stretches_in_parallel_with_the_same_verdict(
    app: App, actor: Actor, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    some_decisions(app, actor, 20)
    _second_stretch_starts(app)
    started: list[audit_scan.Worker | None] = []
    start = audit_scan.Worker.start

    def spied(*args: Any) -> audit_scan.Worker | None:
        started.append(start(*args))
        return started[-1]

    monkeypatch.setattr(audit_scan.Worker, "start", spied)
    whole = verify(app.uow(), app.verifier)
    counted: list[int] = []
    apart = verify(app.uow(), app.verifier, progress=counted.append, batch_size=3, parallel_from=2)
    assert apart.ok and whole.ok and apart.entries == whole.entries == sum(counted) == 21
    assert apart.head_hash == whole.head_hash and apart.checkpoints_checked == 4
    assert started and None not in started and "worker" not in caplog.text  # workers did their stretches


@pytest.mark.parametrize("offset", [0, 3])
def test_an_edit_in_a_stretch_checked_by_a_worker_is_named(app: App, actor: Actor, offset: int) -> None:
    some_decisions(app, actor, 20)
    seq = _second_stretch_starts(app) + offset
    _tamper(app, seq)
    result = verify(app.uow(), app.verifier, batch_size=3, parallel_from=2)
    assert not result.ok and result.first_bad is not None and result.first_bad.seq == seq and result.entries == 21


def test_an_entry_deleted_where_two_stretches_meet_is_named(app: App, actor: Actor) -> None:
    some_decisions(app, actor, 20)
    first_of_second = _second_stretch_starts(app)
    _tamper(app, first_of_second - 1, "DELETE FROM audit_entries")
    result = verify(app.uow(), app.verifier, parallel_from=2)
    assert not result.ok and result.first_bad_seq == first_of_second
    assert result.problem == f"sequence gap: expected {first_of_second - 1}, found {first_of_second}"


def test_a_stretch_whose_worker_fails_is_checked_here(
    app: App, actor: Actor, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    some_decisions(app, actor, 20)
    _second_stretch_starts(app)
    unreachable = {"sqlite": str(tmp_path / "no-such-directory" / "ledger.db")}
    monkeypatch.setattr(SqlAuditRepository, "_worker_target", lambda self: unreachable)
    result = verify(app.uow(), app.verifier, parallel_from=2)
    assert result.ok and result.entries == 21
    assert "audit verification worker failed" in caplog.text


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
    assert current_revision(app.engine) == head_revision(app.engine) == "0012"


def test_the_newest_migration_goes_down_and_up_again(app: App) -> None:
    command.downgrade(alembic_config(app.engine), "0008")
    assert current_revision(app.engine) == "0008"
    assert upgrade(app.engine) == "0012"


def test_breach_6_the_timeline_of_a_breach_is_append_only(app: App, actor: Actor) -> None:
    new = NewIncident("t", app.clock.now(), Intent.INADVERTENT, ("name",), "c", other_data_description="names")
    open_incident(app.uow(), app.clock, actor, new, RuleVersion.STRICTEST)
    with pytest.raises(DBAPIError, match="append-only"), app.engine.begin() as conn:
        conn.execute(text("UPDATE breach_events SET kind = 'x'"))


def test_two_processes_appending_in_turn_keep_one_verifiable_chain(app: App, actor: Actor, database_url: str) -> None:
    other = build(load_settings({}, database_url=database_url, audit_signing_key=TEST_SIGNING_KEY), app.clock)
    customer = a_customer(app, actor)
    for turn in range(8):
        writer = other if turn % 2 else app
        check(writer.uow(), writer.clock, actor, customer.id, Request(Purpose.BILLING))
    other.close()
    result = verify(app.uow(), app.verifier)
    assert result.ok
    assert result.entries == 9
