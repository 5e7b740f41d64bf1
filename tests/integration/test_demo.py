"""The demo carrier: deterministic, realistic, and written with its ledger and consent state."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from cpniguard.access.service import authenticate
from cpniguard.actors import Actor
from cpniguard.audit.service import verify
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.calendar import eastern_date, start_of_day
from cpniguard.cli.main import run
from cpniguard.consent.model import ConsentEventKind, ConsentState, fold
from cpniguard.consent.service import rebuild_state
from cpniguard.customers.model import (
    ContactKind,
    Language,
    ListingStatus,
    normalise_email,
    normalise_postal_address,
    normalise_telephone_number,
)
from cpniguard.customers.records import CallDetailRecord
from cpniguard.db import cpni_sealing
from cpniguard.db import tables as t
from cpniguard.errors import Conflict
from cpniguard.ids import CustomerId
from cpniguard.jobs.demo import AREA_SPACE, STRIDE, DemoCarrier
from cpniguard.jobs.demo_load import load_demo
from cpniguard.jobs.demo_usage import LONG_DISTANCE_PLAN
from cpniguard.jobs.demo_vocabulary import EXCHANGES, REGIONS
from tests.conftest import TEST_CPNI_KEY

AS_OF = start_of_day(date(2026, 3, 2))
CARRIER_TABLES = {
    t.customers: "id",
    t.services: "id",
    t.contacts: "id",
    t.call_detail_records: "id",
    t.bills: "id",
    t.consent_events: "id",
    t.consent_state: "customer_id",
}


def a_demo(app: App, actor: Actor, customers: int = 50, seed: int = 7) -> None:
    load_demo(app.uow, app.clock, actor, DemoCarrier(seed, AS_OF), customers, batch_size=20)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        tables = [*CARRIER_TABLES, t.audit_entries, t.api_keys]
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one() for table in tables}


def carrier_digest(app: App) -> str:
    """A hash of every carrier row, read back through the column types (seq aside, which
    numbers rows and is not content; a sealed record as what it opens to, its nonce being random)."""
    sealed = {spec.table: spec for spec in cpni_sealing.SEALED_TABLES}
    digest = hashlib.sha256()
    with app.engine.connect() as conn:
        for table, key in CARRIER_TABLES.items():
            columns = [c for c in table.c if c.name != "seq"]
            for row in conn.execute(select(*columns).order_by(table.c[key])):
                values = dict(row._mapping)
                if table in sealed:
                    values["sealed"] = cpni_sealing.open_rows(app.sealer, sealed[table], [row])[0]
                digest.update(repr(values).encode())
    return digest.hexdigest()


def test_the_same_seed_and_as_of_make_the_same_carrier() -> None:
    assert DemoCarrier(7, AS_OF).batch(60) == DemoCarrier(7, AS_OF).batch(60)
    assert DemoCarrier(7, AS_OF).batch(60) != DemoCarrier(8, AS_OF).batch(60)
    assert DemoCarrier(7, AS_OF).batch(60) != DemoCarrier(7, AS_OF + timedelta(days=1)).batch(60)


def test_the_batch_size_does_not_change_the_carrier() -> None:
    whole = DemoCarrier(7, AS_OF).batch(50)
    split = DemoCarrier(7, AS_OF)
    first, second = split.batch(20), split.batch(30)
    assert whole.customers == first.customers + second.customers
    assert whole.consent_events == first.consent_events + second.consent_events


def test_telephone_numbers_are_valid_e164_and_never_repeat() -> None:
    batch = DemoCarrier(3, AS_OF).batch(400)
    numbers = [c.value for k in batch.customers for c in k.contacts if c.kind is ContactKind.TELEPHONE]
    assert all(normalise_telephone_number(n) == n for n in numbers)
    assert len(numbers) == len(set(numbers))
    assert all(normalise_telephone_number(r.other_party_number) for r in batch.call_detail)


def test_every_demo_area_code_is_valid_with_every_exchange() -> None:
    assert math.gcd(STRIDE, AREA_SPACE) == 1, "else the allocation would repeat numbers"
    for region in REGIONS:
        for exchange in EXCHANGES:
            number = f"+1{region.area_code}{exchange}4567"
            assert normalise_telephone_number(number) == number


def test_emails_and_postal_addresses_pass_the_registry_checks() -> None:
    contacts = [c for k in DemoCarrier(3, AS_OF).batch(200).customers for c in k.contacts]
    emails = [c.value for c in contacts if c.kind is ContactKind.EMAIL]
    assert emails
    assert all(normalise_email(e) == e for e in emails)
    assert all(normalise_postal_address(c.value) == c.value for c in contacts if c.kind is ContactKind.POSTAL)


def test_the_carrier_has_every_consent_situation_and_kind_of_customer() -> None:
    batch = DemoCarrier(11, AS_OF).batch(2000)
    kinds = Counter(e.kind for e in batch.consent_events)
    assert set(kinds) >= {
        ConsentEventKind.OPT_OUT_NOTICE_SENT,
        ConsentEventKind.OPT_OUT_NOTICE_BOUNCED,
        ConsentEventKind.OPT_OUT,
        ConsentEventKind.OPT_IN,
    }
    states = batch.consent_states
    assert sum(s.opt_out_approval_presumed(AS_OF) for s in states) > 0.6 * len(batch.customers)
    assert any(s.renotice_overdue(AS_OF) for s in states)
    assert {c.language for c in batch.customers} == set(Language)
    assert Counter(c.listing_status for c in batch.customers).most_common(1)[0][0] is ListingStatus.NON_PUBLISHED
    recent = [
        k for c in batch.customers for k in c.contacts if k.kind is not ContactKind.TELEPHONE and k.on_account(AS_OF)
    ]
    assert any(not k.of_record(AS_OF) for k in recent), "some addresses are younger than 30 days (DEF-5)"


def test_nothing_in_the_demo_happens_after_the_as_of_moment() -> None:
    batch = DemoCarrier(5, AS_OF).batch(300)
    assert all(c.created_at < AS_OF for c in batch.customers)
    assert all(e.at <= AS_OF for e in batch.consent_events)
    assert all(r.started_at < AS_OF for r in batch.call_detail)


def test_a_bill_totals_the_long_distance_charges_and_minutes_of_its_calls() -> None:
    batch = DemoCarrier(5, AS_OF).batch(200)
    for bill in batch.bills:
        calls = [r for r in batch.call_detail if r.customer_id == bill.customer_id and _period(r) == bill.period]
        plan = bill.long_distance_charges_cents - sum(r.charge_cents for r in calls)
        assert plan in (0, LONG_DISTANCE_PLAN)
        assert bill.minutes_used == sum(-(-r.duration_seconds // 60) for r in calls)
        assert bill.total_cents >= bill.local_charges_cents + bill.long_distance_charges_cents


def _period(record: CallDetailRecord) -> str:
    day = eastern_date(record.started_at)
    return f"{day.year:04d}-{day.month:02d}"


def test_the_demo_stores_what_it_reports(app: App, actor: Actor) -> None:
    made = load_demo(app.uow, app.clock, actor, DemoCarrier(7, AS_OF), 50, batch_size=20)
    stored = counts(app.engine)
    assert stored["customers"] == made.customers == 50
    assert stored["services"] == made.services
    assert stored["contacts"] == made.contacts
    assert stored["call_detail_records"] == made.call_detail_records > 0
    assert stored["bills"] == made.bills > 0
    assert stored["consent_events"] == made.consent_events > 0
    # One entry per account, one per consent event, one per batch for its call detail and bills.
    assert stored["audit_entries"] == made.audit_entries == 50 + made.consent_events + 3


def test_the_stored_rows_are_the_generated_ones(app: App, actor: Actor) -> None:
    a_demo(app, actor)
    made = DemoCarrier(7, AS_OF).batch(50)
    with app.uow() as uow:
        for customer in made.customers:
            stored = uow.customers.get(customer.id)
            assert stored is not None
            assert stored.with_parts((), ()) == customer.with_parts((), ())
            assert set(stored.services) == set(customer.services)
            assert set(stored.contacts) == set(customer.contacts)
            events = [replace(e, seq=0) for e in uow.consent.events(customer.id)]
            assert events == [e for e in made.consent_events if e.customer_id == customer.id]
            calls = uow.cpni.call_detail(customer.id, 100)
            assert set(calls) == {r for r in made.call_detail if r.customer_id == customer.id}
            assert set(uow.cpni.bills(customer.id)) == {b for b in made.bills if b.customer_id == customer.id}


def test_the_current_consent_state_is_the_fold_of_each_customers_events(app: App, actor: Actor) -> None:
    a_demo(app, actor)
    with app.uow() as uow:
        ids = uow.connection.execute(select(t.customers.c.id)).scalars().all()
        for raw in ids:
            cid = CustomerId(raw)
            assert (uow.consent.state(cid) or ConsentState(cid)) == fold(cid, uow.consent.events(cid))
    assert rebuild_state(app.uow(), app.clock, actor) == 0


def test_the_audit_ledger_verifies_after_the_demo(app: App, actor: Actor) -> None:
    a_demo(app, actor)
    result = verify(app.uow(), app.verifier)
    assert result.ok, result.problem
    assert result.entries == counts(app.engine)["audit_entries"]
    assert result.checkpoints_checked > 0
    with app.uow() as uow:
        opened = uow.audit.find(None, "customers:account:opened", 1000)
    assert len(opened) == 50


def test_the_demo_writes_the_same_rows_on_every_backend(
    app: App, actor: Actor, sqlite_template: Path, tmp_path: Path
) -> None:
    a_demo(app, actor)
    other_path = tmp_path / "other.db"
    shutil.copy(sqlite_template, other_path)
    other = build(load_settings({}, database_url=f"sqlite:///{other_path}", cpni_key=TEST_CPNI_KEY), app.clock)
    try:
        a_demo(other, Actor("staff", "someone-else"))
        assert carrier_digest(other) == carrier_digest(app)
    finally:
        other.close()


def test_a_seed_whose_customers_exist_is_refused_and_adds_nothing(app: App, actor: Actor) -> None:
    a_demo(app, actor, customers=10)
    before = counts(app.engine)
    with pytest.raises(Conflict, match="seed 7"):
        a_demo(app, actor, customers=10)
    assert counts(app.engine) == before
    a_demo(app, actor, customers=10, seed=8)
    assert counts(app.engine)["customers"] == 20


def cli(database_url: str, *args: str) -> int:
    with pytest.raises(SystemExit) as exited:
        run(["--database-url", database_url, *args])
    return int(exited.value.code or 0)


def test_the_demo_command_makes_an_api_key_and_if_empty_then_leaves_the_data_alone(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli(database_url, "init") == 0
    capsys.readouterr()
    assert cli(database_url, "demo", "--customers", "5", "--as-of", "2026-03-02", "--json") == 0
    made = json.loads(capsys.readouterr().out)
    assert made["created"] is True
    assert made["customers"] == 5
    secret = (tmp_path / "cpniguard-demo.key").read_text().strip()
    assert made["api_key"]["key"] == secret

    assert cli(database_url, "demo", "--customers", "5", "--if-empty", "--json") == 0
    skipped = json.loads(capsys.readouterr().out)
    assert skipped["created"] is False
    assert "5 customers" in skipped["reason"]

    app = build(load_settings({}, database_url=database_url))
    try:
        assert counts(app.engine)["customers"] == 5
        assert authenticate(app.uow(), app.clock, secret).roles == {
            "read",
            "write",
            "decide",
            "audit",
            "authenticate",
            "admin",
        }
    finally:
        app.close()


def test_a_second_demo_adds_customers_but_keeps_the_first_api_key(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    cli(database_url, "init")
    cli(database_url, "demo", "--customers", "3", "--json")
    capsys.readouterr()
    assert cli(database_url, "demo", "--customers", "4", "--seed", "2", "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["api_key"]["created"] is False
    assert cli(database_url, "demo", "--customers", "4", "--seed", "2") == 2
    assert "seed 2" in capsys.readouterr().err


def test_a_malformed_as_of_is_refused_with_exit_2(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    cli(database_url, "init")
    capsys.readouterr()
    assert cli(database_url, "demo", "--customers", "3", "--as-of", "March") == 2
    assert capsys.readouterr().err.strip().startswith("error: --as-of must be a date")
