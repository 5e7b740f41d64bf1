"""`cpniguard import cdrs|bills`: a good file goes in whole; a bad one exits 2 with one line
naming the line and the problem, and leaves every table as it was."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.calendar import EASTERN
from cpniguard.cli.main import run
from cpniguard.customers.model import Customer
from cpniguard.customers.records import Direction
from cpniguard.db import bulk
from cpniguard.db import tables as t
from cpniguard.jobs import parse_pool
from tests.conftest import TEST_CPNI_KEY, a_customer

CDR_HEADER = "customer_id,service_number,started_at,direction,other_party_number,duration_seconds,charge_cents,location"
BILL_HEADER = (
    "customer_id,period,account_number,total_cents,local_charges_cents,long_distance_charges_cents,"
    "directory_assistance_charges_cents,feature_charges_cents,minutes_used"
)
UNKNOWN = "0b7c2f7e-58d4-4c1e-9d8a-3f1f2f0f9a11"


@pytest.fixture
def customer(app: App, actor: Actor) -> Customer:
    return a_customer(app, actor)


@pytest.fixture(autouse=True)
def cpni_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands build their app from the environment: the same CPNI key as `app` (BREACH23-8)."""
    monkeypatch.setenv("CPNIGUARD_CPNI_KEY", TEST_CPNI_KEY)


def cli(app: App, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        run(["--database-url", app.settings.database_url, *args])
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def csv_file(tmp_path: Path, *lines: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text("".join(line + "\n" for line in lines))
    return path


def table_counts(app: App) -> dict[str, int]:
    with app.engine.connect() as conn:
        tables = (t.call_detail_records, t.bills, t.audit_entries)
        return {x.name: conn.execute(select(func.count()).select_from(x)).scalar_one() for x in tables}


def cdr(customer: object, started: str = "2026-02-27T09:15:00-05:00", **fields: str) -> str:
    values = {
        "customer_id": str(customer),
        "service_number": "+12025550123",
        "started_at": started,
        "direction": "outbound",
        "other_party_number": "+13125550199",
        "duration_seconds": "184",
        "charge_cents": "21",
        "location": "Washington, DC",
    }
    values.update(fields)
    return csv_line(values.values())


def bill(customer: object, period: str = "2026-02", **fields: str) -> str:
    values = {"customer_id": str(customer), "period": period, "account_number": "R1234567890"}
    values |= {"total": "5120", "local": "2495", "ld": "521", "da": "199", "features": "600", "minutes": "88"}
    values.update(fields)
    return csv_line(values.values())


def csv_line(values: Iterable[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(values)
    return out.getvalue()


def test_importing_call_detail_records_stores_every_row_and_one_audit_entry(
    app: App, customer: Customer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_file(
        tmp_path,
        CDR_HEADER,
        cdr(customer.id),
        cdr(customer.id, "2026-02-28T23:59:59Z", direction="inbound", charge_cents="0", location=""),
        cdr(customer.id, "2026-03-01T08:00:00+01:00", other_party_number="+4930123456"),
    )
    code, out, err = cli(app, capsys, "import", "cdrs", str(path), "--json")
    assert (code, err) == (0, "")
    counted = {"records": 3, "customers": 1, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert json.loads(out) == {"file": str(path), "imported": "call-detail-records", **counted}
    with app.uow() as uow:
        records = uow.cpni.call_detail(customer.id, 10)
        imported = uow.audit.find(None, "customers:cpni:imported", 10)
    assert [r.started_at for r in records] == [
        datetime(2026, 3, 1, 7, 0, tzinfo=UTC),
        datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC),
        datetime(2026, 2, 27, 14, 15, tzinfo=UTC),
    ]
    assert records[1].direction is Direction.INBOUND
    assert records[2].location == "Washington, DC"
    assert len(imported) == 1
    details = json.loads(imported[0].details)
    assert details == {"kind": "call-detail-records", "file": "data.csv", **counted}


def test_importing_bills_stores_every_row(
    app: App, customer: Customer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = csv_file(tmp_path, BILL_HEADER, bill(customer.id, "2026-01"), bill(customer.id, "2026-02"))
    code, out, _ = cli(app, capsys, "import", "bills", str(path))
    assert code == 0
    assert "records: 2" in out
    with app.uow() as uow:
        stored = uow.cpni.bills(customer.id)
    assert [(b.period, b.total_cents, b.minutes_used) for b in stored] == [("2026-02", 5120, 88), ("2026-01", 5120, 88)]


def test_the_location_column_may_be_left_out_and_columns_come_in_any_order(
    app: App, customer: Customer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = "started_at,customer_id,service_number,direction,other_party_number,duration_seconds,charge_cents"
    row = f"2026-02-27T09:15:00-05:00,{customer.id},+12025550123,outbound,+13125550199,60,0"
    code, _, _ = cli(app, capsys, "import", "cdrs", str(csv_file(tmp_path, header, row)))
    assert code == 0
    with app.uow() as uow:
        assert uow.cpni.call_detail(customer.id, 10)[0].location == ""


def test_a_file_of_many_batches_goes_in_whole_with_its_times_in_utc(
    app: App, customer: Customer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches of 100 and 20 rows: the bulk path (COPY on PostgreSQL) and the small one.
    assert parse_pool.CHUNK_ROWS > 100 > bulk.BULK_FROM > 20
    monkeypatch.setattr(parse_pool, "CHUNK_ROWS", 100)
    starts = [datetime(2026, 2, 1, 14, 0, tzinfo=UTC) + timedelta(minutes=m) for m in range(120)]
    rows = [
        cdr(customer.id, at.astimezone(EASTERN).isoformat(), duration_seconds=str(i)) for i, at in enumerate(starts)
    ]
    code, _, _ = cli(app, capsys, "import", "cdrs", str(csv_file(tmp_path, CDR_HEADER, *rows)))
    assert code == 0
    with app.uow() as uow:
        stored = uow.cpni.call_detail(customer.id, 500)
    assert sorted((r.started_at, r.duration_seconds) for r in stored) == [(at, i) for i, at in enumerate(starts)]


CDR_CASES = {
    "unknown customer": (lambda c: [cdr(c), cdr(UNKNOWN)], "line 3: customer_id: unknown customer"),
    "malformed customer id": (lambda c: [cdr("42")], "line 2: customer_id: not a customer id"),
    "malformed number": (lambda c: [cdr(c, service_number="202-555")], "line 2: service_number:"),
    "malformed date": (lambda c: [cdr(c, "2026-02-30T10:00:00Z")], "line 2: started_at: not an ISO 8601"),
    "date without offset": (lambda c: [cdr(c, "2026-02-27T10:00:00")], "line 2: started_at: needs a UTC offset"),
    "malformed int": (lambda c: [cdr(c, duration_seconds="3m")], "line 2: duration_seconds: not a whole number"),
    "negative int": (lambda c: [cdr(c, charge_cents="-5")], "line 2: charge_cents: not a whole number"),
    "unknown direction": (lambda c: [cdr(c, direction="sideways")], "line 2: direction: unknown direction"),
    "missing field": (lambda c: [cdr(c), "x,y"], "line 3: expected 8 fields, found 2"),
    "location too long": (lambda c: [cdr(c, location="x" * 101)], "line 2: location: longer than 100"),
}


@pytest.mark.parametrize("case", CDR_CASES)
def test_a_bad_call_detail_row_exits_2_naming_its_line_and_writes_nothing(
    case: str, app: App, customer: Customer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, expected = CDR_CASES[case]
    before = table_counts(app)
    code, out, err = cli(app, capsys, "import", "cdrs", str(csv_file(tmp_path, CDR_HEADER, *rows(customer.id))))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: data.csv, ")
    assert expected in err
    assert table_counts(app) == before


HEADER_CASES = {
    "missing column": (CDR_HEADER.replace(",charge_cents", ""), "line 1: missing column 'charge_cents'"),
    "unknown column": (CDR_HEADER + ",cell_tower", "line 1: unknown column 'cell_tower'"),
    "no header at all": ("", "line 1: no header line"),
}


@pytest.mark.parametrize("case", HEADER_CASES)
def test_a_bad_header_exits_2_and_writes_nothing(
    case: str, app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header, expected = HEADER_CASES[case]
    before = table_counts(app)
    path = tmp_path / "data.csv"
    path.write_text(header + "\n" if header else "")
    code, _, err = cli(app, capsys, "import", "cdrs", str(path))
    assert (code, err.count("\n")) == (2, 1)
    assert expected in err
    assert table_counts(app) == before


def test_a_bad_row_in_a_later_batch_rolls_back_the_earlier_batches(
    app: App, customer: Customer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse_pool, "CHUNK_ROWS", 2)
    rows = [cdr(customer.id) for _ in range(5)] + [cdr(UNKNOWN)]
    before = table_counts(app)
    code, _, err = cli(app, capsys, "import", "cdrs", str(csv_file(tmp_path, CDR_HEADER, *rows)))
    assert code == 2
    assert "line 7: customer_id: unknown customer" in err
    assert table_counts(app) == before


def test_the_first_bad_line_of_a_batch_is_the_one_named(
    app: App, customer: Customer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [cdr(customer.id), cdr(UNKNOWN), cdr(customer.id, direction="sideways")]
    _, _, err = cli(app, capsys, "import", "cdrs", str(csv_file(tmp_path, CDR_HEADER, *rows)))
    assert "line 3: customer_id: unknown customer" in err


BILL_CASES = {
    "malformed period": (lambda c: [bill(c, "2026-13")], "line 2: period: not a month, YYYY-MM"),
    "empty account number": (lambda c: [bill(c, account_number="")], "line 2: account_number: must not be empty"),
    "malformed int": (lambda c: [bill(c, minutes="1.5")], "line 2: minutes_used: not a whole number"),
    "int too large": (lambda c: [bill(c, total="9999999999")], "line 2: total_cents: not a whole number"),
    "second bill in the file": (lambda c: [bill(c), bill(c)], "line 3: customer"),
    "unknown customer": (lambda c: [bill(UNKNOWN)], "line 2: customer_id: unknown customer"),
}


@pytest.mark.parametrize("case", BILL_CASES)
def test_a_bad_bill_row_exits_2_naming_its_line_and_writes_nothing(
    case: str, app: App, customer: Customer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows, expected = BILL_CASES[case]
    before = table_counts(app)
    code, _, err = cli(app, capsys, "import", "bills", str(csv_file(tmp_path, BILL_HEADER, *rows(customer.id))))
    assert (code, err.count("\n")) == (2, 1)
    assert expected in err
    assert table_counts(app) == before


def test_a_bill_already_stored_is_refused(
    app: App, customer: Customer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = csv_file(tmp_path, BILL_HEADER, bill(customer.id, "2026-02"), name="first.csv")
    assert cli(app, capsys, "import", "bills", str(first))[0] == 0
    before = table_counts(app)
    again = csv_file(tmp_path, BILL_HEADER, bill(customer.id, "2026-01"), bill(customer.id, "2026-02"))
    code, _, err = cli(app, capsys, "import", "bills", str(again))
    assert code == 2
    assert "line 3: customer" in err
    assert "has a bill for 2026-02 already" in err
    assert table_counts(app) == before


def test_a_file_that_is_not_utf8_or_missing_exits_2(
    app: App, customer: Customer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes((CDR_HEADER + "\n" + cdr(customer.id, location="Köln") + "\n").encode("latin-1"))
    code, _, err = cli(app, capsys, "import", "cdrs", str(path))
    assert (code, err.strip()) == (2, "error: latin1.csv, line 2: not UTF-8 text")
    code, _, err = cli(app, capsys, "import", "bills", str(tmp_path / "nowhere.csv"))
    assert code == 2
    assert "cannot read" in err
