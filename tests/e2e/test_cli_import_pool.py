"""`cpniguard import ... --jobs N`: lines checked in worker processes (jobs/parse_pool.py) go in
exactly as when this process checks them, and a bad file is refused the same way: the first bad
line of the file is the one named, whichever worker met it, and nothing is written (issue 7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.customers.model import Customer
from cpniguard.jobs import parse_pool
from tests.conftest import a_customer
from tests.e2e.test_cli_import import CDR_HEADER, UNKNOWN, cdr, cli, cpni_key, csv_file, table_counts
from tests.e2e.test_cli_import_customers import HEADER, account, counts

__all__ = ["cpni_key"]  # the commands' CPNI key, the same as the app's (autouse)


@pytest.fixture
def customer(app: App, actor: Actor) -> Customer:
    return a_customer(app, actor)


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 7 lines: a file is many chunks, checked and written one after the other."""
    monkeypatch.setattr(parse_pool, "CHUNK_ROWS", 7)


def calls(customer: Customer, n: int) -> list[str]:
    start = datetime(2026, 2, 1, 14, 0, tzinfo=UTC)
    return [cdr(customer.id, (start + timedelta(minutes=i)).isoformat(), duration_seconds=str(i)) for i in range(n)]


def test_call_detail_checked_by_two_workers_goes_in_whole_and_in_order(
    app: App, customer: Customer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_file(tmp_path, CDR_HEADER, *calls(customer, 53))
    code, _, err = cli(app, capsys, "import", "cdrs", str(path), "--jobs", "2", "--json")
    assert (code, err) == (0, "")
    with app.uow() as uow:
        stored = uow.cpni.call_detail(customer.id, 100)
    assert sorted(r.duration_seconds for r in stored) == list(range(53))


@pytest.mark.sqlite_only  # the order of refusals is the pool's, whatever the database
@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"direction": "sideways"}, "line 40: direction: unknown direction"),
        ({"customer_id": UNKNOWN}, "line 40: customer_id: unknown customer"),
        ({"service_number": "202-555"}, "line 40: service_number:"),
    ],
)
def test_the_first_bad_line_in_a_later_chunk_is_named_and_nothing_is_written(
    bad: dict[str, str], expected: str, app: App, customer: Customer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = calls(customer, 60)
    rows[38] = cdr(customer.id, **bad)  # line 40 (the header is line 1)
    rows[50] = cdr(customer.id, direction="upwards")  # a later bad line, in another chunk
    before = table_counts(app)
    code, out, err = cli(app, capsys, "import", "cdrs", str(csv_file(tmp_path, CDR_HEADER, *rows)), "--jobs", "2")
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert err.startswith("error: data.csv, ") and expected in err, err
    assert table_counts(app) == before


def test_an_unknown_customer_before_a_bad_line_of_a_later_chunk_in_its_batch_is_named_first(
    app: App, customer: Customer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = calls(customer, 30)
    rows[21] = cdr(UNKNOWN)  # line 23: batch 21-30 of the file's records, chunk 4
    rows[28] = cdr(customer.id, direction="sideways")  # line 30: same batch, chunk 5
    code, _, err = cli(app, capsys, "import", "cdrs", str(csv_file(tmp_path, CDR_HEADER, *rows)), "--jobs", "2")
    assert code == 2 and "line 23: customer_id: unknown customer" in err, err


@pytest.mark.sqlite_only
def test_a_line_that_is_not_utf8_in_a_later_chunk_is_named(
    app: App, customer: Customer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = calls(customer, 30)
    path = tmp_path / "mixed.csv"
    lines = [CDR_HEADER, *rows[:25], cdr(customer.id, location="Köln"), *rows[25:]]
    path.write_bytes(b"".join((line + "\n").encode("latin-1") for line in lines))
    before = table_counts(app)
    code, _, err = cli(app, capsys, "import", "cdrs", str(path), "--jobs", "2")
    assert (code, err.strip()) == (2, "error: mixed.csv, line 27: not UTF-8 text")
    assert table_counts(app) == before


def test_customers_checked_by_two_workers_go_in_whole(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = counts(app)
    path = csv_file(tmp_path, HEADER, *(account(i) for i in range(45)))
    code, _, err = cli(app, capsys, "import", "customers", str(path), "--jobs", "2")
    assert (code, err) == (0, "")
    after = counts(app)
    assert (after["customers"] - before["customers"], after["contacts"] - before["contacts"]) == (45, 135)
    bad = [account(i) for i in range(100, 130)]
    bad[20] = account(120, emails="ada@")  # line 22
    code, _, err = cli(
        app, capsys, "import", "customers", str(csv_file(tmp_path, HEADER, *bad, name="bad.csv")), "--jobs", "2"
    )
    assert code == 2 and err.startswith("error: bad.csv, line 22: not a valid email address"), err
    assert counts(app) == after


def test_jobs_are_all_cpus_for_a_large_file_only() -> None:
    assert parse_pool.jobs_for(100, None) == 1
    assert parse_pool.jobs_for(parse_pool.POOL_FROM_BYTES, None) == parse_pool.default_jobs()
    assert parse_pool.jobs_for(100, 3) == 3
