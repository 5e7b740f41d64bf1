"""Call detail by month (db/cdr_partitions.py): on PostgreSQL an import across months makes a
partition for each, their rows are released as before, and the retention purge drops whole
old months; on SQLite one table does the same job. Migration 0011 moves stored rows both ways."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, func, select, text

from cpniguard.actors import Actor
from cpniguard.auth.release import RouteKind
from cpniguard.bootstrap import App
from cpniguard.clock import FixedClock
from cpniguard.consent.retention import call_detail_cutoff, purge
from cpniguard.customers.model import Customer
from cpniguard.customers.records import CallDetailRecord, Direction
from cpniguard.customers.service import NewCustomer, build_customer
from cpniguard.db import cdr_partitions, cpni_sealing
from cpniguard.db import tables as t
from cpniguard.db.migrate import alembic_config, upgrade
from cpniguard.errors import Conflict
from cpniguard.ids import new_id
from cpniguard.jobs.cpni_import import CALL_DETAIL, import_csv
from cpniguard.jobs.csv_fields import CDR_COLUMNS
from tests.conftest import T0, a_customer
from tests.integration.test_call_sessions import a_caller, open_, release


def a_call(customer: Customer, at: datetime, seconds: int = 60) -> CallDetailRecord:
    return CallDetailRecord(new_id(), customer.id, "+12025550123", at, Direction.OUTBOUND, "+13125550199", seconds, 0)


def calls_file(tmp_path: Path, customer: Customer, starts: list[datetime]) -> Path:
    path = tmp_path / "cdrs.csv"
    lines = [",".join(CDR_COLUMNS)]
    lines += [
        f"{customer.id},+12025550123,{at.isoformat()},inbound,+13125550199,{i},0,DC" for i, at in enumerate(starts)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def partitions(conn: Connection) -> dict[str, int]:
    """Each partition of call detail and how many rows it holds."""
    named = [*cdr_partitions.months(conn).values(), cdr_partitions.DEFAULT]
    return {name: int(conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar_one()) for name in sorted(named)}


def count(app: App) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.call_detail_records)).scalar_one())


@pytest.fixture
def postgresql_only(app: App) -> None:
    if app.engine.dialect.name != "postgresql":
        pytest.skip("partitions are PostgreSQL's; SQLite keeps one table")


STARTS = [
    datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2026, 1, 1, 0, 0, tzinfo=UTC),  # the first instant of January is January's
    datetime(2026, 1, 31, 20, 0, tzinfo=UTC),  # 31 January 15:00 in New York
    datetime(2026, 2, 27, 14, 15, tzinfo=UTC),
]


@pytest.mark.usefixtures("postgresql_only")
def test_an_import_across_months_makes_a_partition_for_each_month_and_the_calls_are_released(
    app: App, actor: Actor, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer, pin = a_caller(app, actor, clock)
    monkeypatch.setattr("cpniguard.jobs.parse_pool.CHUNK_ROWS", 2)  # months appear chunk after chunk
    import_csv(app.uow, app.clock, actor, calls_file(tmp_path, customer, STARTS), CALL_DETAIL)
    with app.engine.connect() as conn:
        assert partitions(conn) == {
            "call_detail_records_2025_12": 1,
            "call_detail_records_2026_01": 2,
            "call_detail_records_2026_02": 4,  # and a_caller's three calls
            "call_detail_records_default": 0,
        }
    session, _ = open_(app, actor, customer, pin=pin)
    released = release(app, actor, session, RouteKind.DISCUSS).records
    assert {r.started_at for r in released} >= set(STARTS)


@pytest.mark.usefixtures("postgresql_only")
def test_rows_put_in_the_default_partition_move_to_their_month_when_it_is_made(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor, at=T0 - timedelta(days=800))
    stray = a_call(customer, datetime(2024, 5, 9, 12, 0, tzinfo=UTC))
    with app.uow() as uow:  # written past the repository: no partition is made for May 2024
        cpni_sealing.write_call_detail(uow.connection, app.sealer, [stray], [T0])
        uow.commit()
    with app.uow() as uow:
        uow.cpni.add_call_detail([a_call(customer, datetime(2024, 5, 20, tzinfo=UTC))])
        uow.commit()
    with app.engine.connect() as conn:
        assert partitions(conn) == {"call_detail_records_2024_05": 2, "call_detail_records_default": 0}
    with app.uow() as uow:
        assert {r.id for r in uow.cpni.call_detail(customer.id, 10)} >= {stray.id}


def test_the_purge_drops_whole_old_months_and_keeps_eighteen_months_of_calls(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor, at=T0 - timedelta(days=1400))
    starts = [datetime(2023, m, 15, tzinfo=UTC) for m in (1, 2, 3)] + [datetime(2024, 10, 2, tzinfo=UTC), T0]
    with app.uow() as uow:
        uow.cpni.add_call_detail([a_call(customer, at) for at in starts])
        uow.commit()
    before = datetime(2023, 2, 20, tzinfo=UTC)  # in February 2023: January goes whole, 15 February too
    assert purge(app.uow(), app.clock, actor, before)["call_detail_records"] == 2
    assert count(app) == 3
    if app.engine.dialect.name == "postgresql":
        with app.engine.connect() as conn:
            assert set(partitions(conn)) == {
                "call_detail_records_2023_02",  # its month is not over before `before`: emptied, not dropped
                "call_detail_records_2023_03",
                "call_detail_records_2024_10",
                "call_detail_records_2026_03",
                "call_detail_records_default",
            }
    # A year ago is as far as the purge goes, but 42.6 keeps the calls of 18 months: from 1 Sep 2024.
    assert call_detail_cutoff(T0 - timedelta(days=366), T0) == datetime(2024, 9, 1, 4, 0, tzinfo=UTC)
    assert purge(app.uow(), app.clock, actor, T0 - timedelta(days=366))["call_detail_records"] == 1
    with app.uow() as uow:
        assert [r.started_at for r in uow.cpni.call_detail(customer.id, 10)] == [T0, datetime(2024, 10, 2, tzinfo=UTC)]


@pytest.mark.usefixtures("postgresql_only")
def test_migration_0011_moves_stored_calls_into_months_and_back(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor, at=T0 - timedelta(days=800))
    made = [a_call(customer, at, i) for i, at in enumerate(STARTS)]
    with app.uow() as uow:
        uow.cpni.add_call_detail(made)
        uow.commit()
    command.downgrade(alembic_config(app.engine, app.sealer), "0010")
    with app.engine.connect() as conn:
        kind = "SELECT relkind FROM pg_class WHERE oid = to_regclass('call_detail_records')"
        assert conn.execute(text(kind)).scalar_one() == "r"
    assert count(app) == 4
    assert upgrade(app.engine, app.sealer) == "0012"
    with app.engine.connect() as conn:
        assert conn.execute(text(kind)).scalar_one() == "p"
        assert sorted(cdr_partitions.months(conn)) == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
    with app.uow() as uow:
        back = uow.cpni.call_detail(customer.id, 10)
    assert sorted(back, key=lambda r: r.started_at) == made


@pytest.mark.usefixtures("postgresql_only")
def test_a_unit_of_work_that_opens_an_account_and_stores_its_calls_makes_the_month_itself(app: App) -> None:
    # It holds a lock on customers that attaching from another connection would wait for.
    spec = NewCustomer("Grace Hopper", ("+12025550150",))
    customer = build_customer(spec, T0 - timedelta(days=800))
    with app.uow() as uow:
        uow.customers.add(customer)
        uow.cpni.add_call_detail([a_call(customer, datetime(2023, 7, 4, tzinfo=UTC))])
        uow.commit()
    with app.engine.connect() as conn:
        assert partitions(conn)["call_detail_records_2023_07"] == 1


@pytest.mark.usefixtures("postgresql_only")
def test_a_month_that_cannot_be_made_while_customers_are_written_elsewhere_is_a_conflict_and_writes_nothing(
    app: App, actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cdr_partitions, "LOCK_TIMEOUT", "1s")
    customer = a_customer(app, actor, at=T0 - timedelta(days=800))
    other = build_customer(NewCustomer("Grace Hopper", ("+12025550150",)), T0 - timedelta(days=800))
    with app.uow() as importing:  # a customer import, not yet committed
        importing.customers.add(other)
        with app.uow() as uow, pytest.raises(Conflict, match="2022-08 needs its partition"):
            uow.cpni.add_call_detail([a_call(customer, datetime(2022, 8, 1, 12, tzinfo=UTC))])
    assert count(app) == 0
    with app.engine.connect() as conn:
        assert "call_detail_records_2022_08" not in partitions(conn)
