"""CPNI at rest on SQLite and PostgreSQL (BREACH23-8): call detail and bills are sealed with
AES-GCM, a copied database shows none of them, sealed values cannot be altered or moved between
rows, and a key rotation re-seals everything, resumes after an interruption and retires the old key."""

from __future__ import annotations

import base64
import csv
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select, text, update

from cpniguard.actors import Actor
from cpniguard.auth.release import RouteKind
from cpniguard.bootstrap import App, build, ensure_cpni_keyring, load_settings
from cpniguard.clock import FixedClock
from cpniguard.customers.model import Customer
from cpniguard.customers.records import Bill, CallDetailRecord, Direction
from cpniguard.customers.sealing import AesGcmSealer
from cpniguard.db import cpni_sealing
from cpniguard.db import tables as t
from cpniguard.db.cpni_keys import KeyringFile
from cpniguard.db.migrate import alembic_config, current_revision, head_revision, upgrade
from cpniguard.errors import CpniKeyUnavailable, CpniSealBroken, InvalidInput
from cpniguard.ids import new_id
from cpniguard.jobs import cpni_keys
from cpniguard.jobs.cpni_import import BILLS, CALL_DETAIL, import_csv
from cpniguard.jobs.csv_fields import CDR_COLUMNS
from tests.conftest import T0, TEST_SIGNING_KEY, a_customer
from tests.integration.test_call_sessions import a_caller, open_, release

OTHER_PARTY = "+13125550177"  # distinctive values: none may appear in the database's bytes
LOCATION = "Kalamazoo Lighthouse Tower"
ACCOUNT = "ACCT-XYZZY-4242"
CLEAR_TEXT = (OTHER_PARTY, LOCATION, ACCOUNT)
OTHER_KEY = base64.b64encode(bytes(range(32))).decode()  # not the key anything here was sealed with


@pytest.fixture
def app(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[App]:
    """An app whose CPNI keys are in a keyring file, as `cpniguard init` makes it."""
    settings = load_settings(
        {},
        database_url=database_url,
        audit_signing_key=TEST_SIGNING_KEY,
        audit_key_file=str(tmp_path / "k"),
        cpni_key_file=str(tmp_path / "cpni.key"),
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    built = build(settings, clock)
    assert ensure_cpni_keyring(built)
    upgrade(built.engine, built.sealer)
    yield built
    built.close()


def keyring(app: App) -> KeyringFile:
    assert isinstance(app.cpni_keys, KeyringFile)
    return app.cpni_keys


def import_file(app: App, actor: Actor, tmp_path: Path, customer: Customer, rows: int = 60) -> Path:
    path = tmp_path / "cdrs.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(CDR_COLUMNS)
        for i in range(rows):
            started = (T0 - timedelta(hours=i + 1)).isoformat()
            writer.writerow([customer.id, "+12025550123", started, "outbound", OTHER_PARTY, 60 + i, i, LOCATION])
    import_csv(app.uow, app.clock, actor, path, CALL_DETAIL)
    bills = tmp_path / "bills.csv"
    bills.write_text(
        "customer_id,period,account_number,total_cents,local_charges_cents,long_distance_charges_cents,"
        f"directory_assistance_charges_cents,feature_charges_cents,minutes_used\n{customer.id},2026-02,{ACCOUNT},"
        "5120,2495,521,199,600,88\n"
    )
    import_csv(app.uow, app.clock, actor, bills, BILLS)
    return path


def stored(app: App, customer: Customer) -> tuple[list[CallDetailRecord], list[Bill]]:
    with app.uow() as uow:
        return uow.cpni.call_detail(customer.id, 10_000), uow.cpni.bills(customer.id)


def raw_rows(app: App) -> str:
    with app.engine.connect() as conn:
        rows = [*conn.execute(select(t.call_detail_records)), *conn.execute(select(t.bills))]
    return repr(rows)


def copy_of_the_files(app: App) -> bytes:
    """As a thief copies a database in use: the file and the write-ahead log beside it."""
    database = Path(app.engine.url.database or "")
    return b"".join(p.read_bytes() for p in sorted(database.parent.glob(f"{database.name}*")) if p.is_file())


def key_ids(app: App) -> set[str]:
    with app.engine.connect() as conn:
        return {
            *conn.execute(select(t.call_detail_records.c.key_id)).scalars(),
            *conn.execute(select(t.bills.c.key_id)).scalars(),
        }


# --- a copied database reveals no call detail ----------------------------------------------------


def test_breach23_8_imported_call_detail_and_bills_are_stored_sealed_and_read_back_whole(
    app: App, actor: Actor, tmp_path: Path
) -> None:
    customer = a_customer(app, actor)
    import_file(app, actor, tmp_path, customer)
    calls, bills = stored(app, customer)
    assert len(calls) == 60 and {(c.other_party_number, c.location) for c in calls} == {(OTHER_PARTY, LOCATION)}
    assert calls[0].started_at == T0 - timedelta(hours=1) and calls[0].direction is Direction.OUTBOUND
    assert [(b.account_number, b.total_cents, b.minutes_used) for b in bills] == [(ACCOUNT, 5120, 88)]
    text_of_rows = raw_rows(app)
    assert not [s for s in CLEAR_TEXT if s in text_of_rows]
    assert key_ids(app) == {keyring(app).load().current}


@pytest.mark.sqlite_only
def test_breach23_8_a_copied_sqlite_file_holds_none_of_the_call_detail(app: App, actor: Actor, tmp_path: Path) -> None:
    customer = a_customer(app, actor)
    import_file(app, actor, tmp_path, customer)
    copied = copy_of_the_files(app)
    assert b"Ada Lovelace" in copied  # what is kept in clear is there to find
    assert not [s for s in CLEAR_TEXT if s.encode() in copied]


# --- reading back through the release of call detail ---------------------------------------------


def test_breach23_8_call_detail_is_released_whole_before_and_after_a_key_rotation(
    app: App, actor: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    customer, pin = a_caller(app, actor, clock)
    import_file(app, actor, tmp_path, customer, rows=5)
    session, _ = open_(app, actor, customer, pin=pin)
    before = release(app, actor, session, RouteKind.DISCUSS).records
    assert {r.other_party_number for r in before} >= {OTHER_PARTY, "+13125550199"}
    cpni_keys.rotate_cpni_key(app.uow, app.clock, actor, keyring(app))
    session, _ = open_(app, actor, customer, pin=pin)
    assert release(app, actor, session, RouteKind.DISCUSS).records == before


# --- rotation ----------------------------------------------------------------------------------


def test_breach23_8_a_rotation_reseals_every_row_under_a_new_key_and_retires_the_old_one(
    app: App, actor: Actor, tmp_path: Path
) -> None:
    customer = a_customer(app, actor)
    import_file(app, actor, tmp_path, customer, rows=130)
    old = keyring(app).load().current
    before = stored(app, customer)

    done = cpni_keys.rotate_cpni_key(app.uow, app.clock, actor, keyring(app), batch_size=50)

    assert done.key != old and not done.resumed
    assert done.resealed == {"call_detail_records": 130, "bills": 1}
    assert (done.retired, done.kept) == ([old], [])
    assert key_ids(app) == {done.key}
    assert set(keyring(app).load().keys) == {done.key}
    assert stored(app, customer) == before
    assert (Path(keyring(app).path).stat().st_mode & 0o777) == 0o600
    with app.uow() as uow:
        [entry] = uow.audit.find(None, "admin:cpni-key:rotated", 10)
    assert json.loads(entry.details)["retired"] == [old]


def test_breach23_8_an_interrupted_rotation_resumes_to_the_same_key_and_then_retires_the_old_one(
    app: App, actor: Actor, tmp_path: Path
) -> None:
    customer = a_customer(app, actor)
    import_file(app, actor, tmp_path, customer, rows=130)
    old = keyring(app).load().current
    before = stored(app, customer)

    def interrupt(_: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cpni_keys.rotate_cpni_key(app.uow, app.clock, actor, keyring(app), batch_size=50, progress=interrupt)
    halfway = keyring(app).load()
    assert set(halfway.keys) == {old, halfway.current} and key_ids(app) == {old, halfway.current}
    assert stored(app, customer) == before  # both keys open what they sealed meanwhile

    done = cpni_keys.rotate_cpni_key(app.uow, app.clock, actor, keyring(app), batch_size=50)
    assert (done.key, done.resumed, done.retired) == (halfway.current, True, [old])
    assert done.resealed["call_detail_records"] == 80
    assert key_ids(app) == {done.key} and set(keyring(app).load().keys) == {done.key}
    assert stored(app, customer) == before


def test_breach23_8_a_row_written_under_the_old_key_during_a_rotation_is_resealed_before_the_key_goes(
    app: App, actor: Actor, tmp_path: Path
) -> None:
    customer = a_customer(app, actor)
    import_file(app, actor, tmp_path, customer, rows=120)
    old_ring = keyring(app).load()
    late = CallDetailRecord(uuid.UUID(int=1), customer.id, "+12025550123", T0, Direction.INBOUND, OTHER_PARTY, 9, 0)
    writes = []

    def a_writer_that_read_the_keyring_before_the_rotation(_: int) -> None:
        if not writes:  # behind the batches' position: only the last step can find it
            with app.engine.begin() as conn:
                stale = AesGcmSealer(lambda: old_ring)
                writes.append(cpni_sealing.write_call_detail(conn, stale, [late], [T0]))

    done = cpni_keys.rotate_cpni_key(
        app.uow,
        app.clock,
        actor,
        keyring(app),
        batch_size=50,
        progress=a_writer_that_read_the_keyring_before_the_rotation,
    )
    assert done.resealed["call_detail_records"] == 121 and done.retired == [old_ring.current]
    assert key_ids(app) == {done.key}
    assert late in stored(app, customer)[0]


def test_breach23_8_a_key_is_retired_only_after_a_writer_still_sealing_with_it_has_committed(
    app: App, actor: Actor, tmp_path: Path
) -> None:
    customer = a_customer(app, actor)
    old = keyring(app).load().current
    writer = app.uow().__enter__()
    record = CallDetailRecord(new_id(), customer.id, "+12025550123", T0, Direction.OUTBOUND, OTHER_PARTY, 5, 1)
    writer.cpni.add_call_detail([record])  # sealed with the old key; not yet committed
    result: list[object] = []
    rotation = threading.Thread(
        target=lambda: result.append(cpni_keys.rotate_cpni_key(app.uow, app.clock, actor, keyring(app)))
    )
    rotation.start()
    rotation.join(timeout=1.0)
    assert rotation.is_alive(), "the rotation must wait for the writer"
    writer.commit()
    writer.__exit__(None, None, None)
    rotation.join(timeout=30)
    [done] = result
    assert isinstance(done, cpni_keys.Rotation) and done.retired == [old]
    assert stored(app, customer)[0] == [record]
    assert key_ids(app) == {done.key}


def test_breach23_8_an_inline_key_cannot_be_rotated_in_place(database_url: str, clock: FixedClock) -> None:
    inline = build(load_settings({}, database_url=database_url, cpni_key=OTHER_KEY), clock)
    try:
        with pytest.raises(InvalidInput, match="inline"):
            cpni_keys.rotate_cpni_key(inline.uow, inline.clock, Actor.cli("op"), inline.cpni_keys)
    finally:
        inline.close()


# --- altered or moved sealed values are refused --------------------------------------------------


def two_calls(app: App, actor: Actor) -> tuple[Customer, Customer, list[CallDetailRecord]]:
    ada, bob = a_customer(app, actor), a_customer(app, actor, name="Bob Babbage")
    made = [
        CallDetailRecord(new_id(), c.id, "+12025550123", T0 - timedelta(days=d), Direction.OUTBOUND, OTHER_PARTY, 60, d)
        for d, c in ((1, ada), (2, ada), (3, bob))
    ]
    with app.uow() as uow:
        uow.cpni.add_call_detail(made)
        uow.commit()
    return ada, bob, made


def sealed_of(app: App, row: uuid.UUID) -> bytes:
    with app.engine.connect() as conn:
        c = t.call_detail_records.c
        return bytes(conn.execute(select(c.sealed).where(c.id == row)).scalar_one())


def overwrite(app: App, row: uuid.UUID, **values: object) -> None:
    with app.engine.begin() as conn:
        conn.execute(update(t.call_detail_records).where(t.call_detail_records.c.id == row).values(**values))


def test_breach23_8_an_altered_sealed_value_is_refused_naming_its_row(app: App, actor: Actor) -> None:
    ada, _, made = two_calls(app, actor)
    value = bytearray(sealed_of(app, made[0].id))
    value[-20] ^= 0x01
    overwrite(app, made[0].id, sealed=bytes(value))
    with pytest.raises(CpniSealBroken, match=f"call detail record {made[0].id} failed its integrity check"):
        stored(app, ada)


@pytest.mark.parametrize("source", [1, 2], ids=["same-customer", "other-customer"])
def test_breach23_8_a_sealed_value_moved_to_another_row_is_refused(app: App, actor: Actor, source: int) -> None:
    ada, _, made = two_calls(app, actor)
    overwrite(app, made[0].id, sealed=sealed_of(app, made[source].id))
    with pytest.raises(CpniSealBroken):
        stored(app, ada)


def test_breach23_8_a_call_moved_to_another_time_or_customer_is_refused(app: App, actor: Actor) -> None:
    ada, bob, made = two_calls(app, actor)
    overwrite(app, made[0].id, started_at=T0 - timedelta(days=5))
    with pytest.raises(CpniSealBroken):
        stored(app, ada)
    overwrite(app, made[0].id, started_at=made[0].started_at, customer_id=bob.id)
    with pytest.raises(CpniSealBroken):
        stored(app, bob)


def test_breach23_8_without_the_key_the_call_detail_is_refused_not_shown(
    app: App, actor: Actor, database_url: str, clock: FixedClock, tmp_path: Path
) -> None:
    ada, _, _ = two_calls(app, actor)
    missing = build(load_settings({}, database_url=database_url, cpni_key_file=str(tmp_path / "none.key")), clock)
    wrong = build(load_settings({}, database_url=database_url, cpni_key=OTHER_KEY), clock)
    try:
        with pytest.raises(CpniKeyUnavailable, match="no CPNI key: run `cpniguard init`"):
            stored(missing, ada)
        with pytest.raises(CpniKeyUnavailable, match="lacks key"):
            stored(wrong, ada)
        record = CallDetailRecord(new_id(), ada.id, "+12025550123", T0, Direction.OUTBOUND, OTHER_PARTY, 1, 1)
        with pytest.raises(CpniKeyUnavailable), missing.uow() as uow:
            uow.cpni.add_call_detail([record])
    finally:
        missing.close()
        wrong.close()


# --- the migration seals what revision 0009 stored in clear --------------------------------------


def test_breach23_8_the_migration_seals_rows_stored_under_0009_and_downgrade_opens_them_again(
    app: App, actor: Actor
) -> None:
    customer = a_customer(app, actor)
    command.downgrade(alembic_config(app.engine, app.sealer), "0009")
    call_id, bill_id = new_id(), new_id()
    started = datetime(2026, 2, 27, 14, 15, 30, 123456, tzinfo=UTC)
    with app.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO call_detail_records (id, customer_id, service_number, started_at, direction, "
                "other_party_number, duration_seconds, charge_cents, location, imported_at) VALUES "
                "(:id, :c, '+12025550123', :at, 'inbound', :other, 184, 21, :loc, :at)"
            ),
            {
                "id": _uuid(app, call_id),
                "c": _uuid(app, customer.id),
                "at": _stamp(started),
                "other": OTHER_PARTY,
                "loc": LOCATION,
            },
        )
        conn.execute(
            text(
                "INSERT INTO bills (id, customer_id, period, account_number, total_cents, local_charges_cents, "
                "long_distance_charges_cents, directory_assistance_charges_cents, feature_charges_cents, "
                "minutes_used, imported_at) VALUES (:id, :c, '2026-02', :acct, 5120, 2495, 521, 199, 600, 88, :at)"
            ),
            {"id": _uuid(app, bill_id), "c": _uuid(app, customer.id), "acct": ACCOUNT, "at": _stamp(started)},
        )

    with pytest.raises(CpniKeyUnavailable, match="no CPNI key was given"):
        upgrade(app.engine)
    assert current_revision(app.engine) == "0009"  # refused whole: nothing changed

    assert upgrade(app.engine, app.sealer) == head_revision(app.engine)
    calls, bills = stored(app, customer)
    expected = CallDetailRecord(
        call_id, customer.id, "+12025550123", started, Direction.INBOUND, OTHER_PARTY, 184, 21, LOCATION
    )
    assert calls == [expected]
    assert bills == [Bill(bill_id, customer.id, "2026-02", ACCOUNT, 5120, 2495, 521, 199, 600, 88)]
    assert not [s for s in CLEAR_TEXT if s in raw_rows(app)]
    if app.engine.dialect.name == "sqlite":
        copied = copy_of_the_files(app)
        assert b"Ada Lovelace" in copied
        assert not [s for s in CLEAR_TEXT if s.encode() in copied]

    command.downgrade(alembic_config(app.engine, app.sealer), "0009")
    with app.engine.connect() as conn:
        row = conn.execute(text("SELECT other_party_number, location, direction FROM call_detail_records")).one()
        account = conn.execute(text("SELECT account_number FROM bills")).scalar_one()
    assert (tuple(row), account) == ((OTHER_PARTY, LOCATION, "inbound"), ACCOUNT)
    assert upgrade(app.engine, app.sealer) == head_revision(app.engine)
    assert stored(app, customer)[0] == [expected]


def _uuid(app: App, value: uuid.UUID) -> object:
    return value.hex if app.engine.dialect.name == "sqlite" else value


def _stamp(at: datetime) -> object:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
