"""`cpniguard import customers`: a billing export's accounts go in whole, with their services and
contacts of record; a bad line exits 2 with one line naming it, and leaves every table as it was."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.customers.model import ContactKind, CustomerKind, ServiceCategory
from cpniguard.db import bulk
from cpniguard.db import tables as t
from cpniguard.ids import CustomerId
from cpniguard.jobs import customer_import, parse_pool
from tests.conftest import T0, a_customer
from tests.e2e.test_cli_import import cli, csv_file, csv_line

HEADER = "id,name,kind,telephone_numbers,emails,postal_address,services,customer_since"


def account(number: int, **fields: str) -> str:
    values = {
        "id": "",
        "name": f"Customer {number}",
        "kind": "residential",
        "telephone_numbers": f"+1202555{number:04d}",
        "emails": f"c{number}@example.com",
        "postal_address": f"{number} Main Street, Springfield, IL 62701",
        "services": "local",
        "customer_since": "2019-03-01",
    }
    values.update(fields)
    return csv_line(values.values())


def counts(app: App) -> dict[str, int]:
    with app.engine.connect() as conn:
        tables = (t.customers, t.services, t.contacts, t.audit_entries)
        return {x.name: conn.execute(select(func.count()).select_from(x)).scalar_one() for x in tables}


def test_importing_customers_opens_each_account_with_its_contacts_and_one_audit_entry(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    given = uuid.UUID("7d3c8c1e-2b4a-4f7e-9a51-0c1d2e3f4a5b")
    path = csv_file(
        tmp_path,
        HEADER,
        account(1, id=str(given), services="local;wireless", telephone_numbers="+12025550001; +12025550002"),
        account(2, kind="business", emails="", postal_address="", services="ucaas", customer_since=""),
    )
    before = counts(app)
    code, out, err = cli(app, capsys, "import", "customers", str(path), "--json")
    assert (code, err) == (0, "")
    summary = {"customers": 2, "services": 3, "contacts": 5, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert json.loads(out) == {"file": str(path), "imported": "customers", **summary}
    after = counts(app)
    assert after["audit_entries"] == before["audit_entries"] + 1
    with app.uow() as uow:
        ada = uow.customers.get(CustomerId(given))
        imported = uow.audit.find(None, "customers:accounts:imported", 10)
    assert ada is not None
    assert ada.created_at == datetime(2019, 3, 1, 5, 0, tzinfo=UTC)  # the start of the day, Eastern
    assert ada.subscribed_categories(T0) == {ServiceCategory.LOCAL, ServiceCategory.WIRELESS}
    assert ada.telephone_numbers_of_record(T0) == ["+12025550001"]
    assert [c.value for c in ada.contacts_of_record(T0, ContactKind.EMAIL)] == ["c1@example.com"]
    assert [c.value for c in ada.contacts_of_record(T0, ContactKind.TELEPHONE)] == ["+12025550001", "+12025550002"]
    assert json.loads(imported[0].details) == {"file": "data.csv", **summary}


def test_a_file_of_many_batches_goes_in_whole(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches of 100 and 20 lines: the bulk path (COPY on PostgreSQL) and the small one.
    assert parse_pool.CHUNK_ROWS > 100 > bulk.BULK_FROM > 20
    monkeypatch.setattr(parse_pool, "CHUNK_ROWS", 100)
    rows = [account(i, kind="business" if i % 3 else "residential") for i in range(120)]
    before = counts(app)
    code, _, _ = cli(app, capsys, "import", "customers", str(csv_file(tmp_path, HEADER, *rows)))
    assert code == 0
    after = counts(app)
    assert after["customers"] - before["customers"] == 120
    assert after["services"] - before["services"] == 120
    assert after["contacts"] - before["contacts"] == 360
    with app.uow() as uow:
        found = uow.customers.find("Customer 119", 5)
    assert [(c.kind, c.telephone_numbers_of_record(T0)) for c in found] == [(CustomerKind.BUSINESS, ["+12025550119"])]
    whole = [account(i) for i in range(200, 300)]  # exactly one batch: the last one is empty
    code, _, _ = cli(app, capsys, "import", "customers", str(csv_file(tmp_path, HEADER, *whole, name="whole.csv")))
    assert code == 0
    assert counts(app)["customers"] - after["customers"] == 100


CASES = {
    "bad number": ([account(1), account(2, telephone_numbers="12345")], "line 3: not an E.164 telephone number"),
    "no number": ([account(1, telephone_numbers="")], "line 2: a customer needs a telephone number of record"),
    "bad email": ([account(1, emails="ada@")], "line 2: not a valid email address"),
    "unknown service": ([account(1, services="local;cable")], "line 2: services: unknown service 'cable'"),
    "unknown kind": ([account(1, kind="government")], "line 2: kind: unknown kind 'government'"),
    "bad id": ([account(1, id="42")], "line 2: id: not a customer id: '42'"),
    "bad date": ([account(1, customer_since="2019-02-30")], "line 2: customer_since: not a date"),
    "future date": ([account(1, customer_since="2099-01-01")], "line 2: customer_since: in the future"),
    "no offset": ([account(1, customer_since="2019-03-01T09:00:00")], "line 2: customer_since: a date-time needs"),
    "missing field": ([account(1), "x,y"], "line 3: expected 8 fields, found 2"),
    "empty name": ([account(1, name="")], "line 2: a customer name must have 1 to 200 characters"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_line_exits_2_naming_it_and_writes_nothing(
    case: str, app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines, expected = CASES[case]
    before = counts(app)
    code, out, err = cli(app, capsys, "import", "customers", str(csv_file(tmp_path, HEADER, *lines)))
    assert (code, out) == (2, "")
    assert err.startswith(f"error: data.csv, {expected}")
    assert err.count("\n") == 1
    assert counts(app) == before


def test_an_id_repeated_in_a_later_batch_or_stored_already_is_refused_and_nothing_is_written(
    app: App, actor: Actor, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parse_pool, "CHUNK_ROWS", 2)
    stored = a_customer(app, actor)
    again = str(uuid.uuid4())
    before = counts(app)
    rows = [account(1, id=again), account(2), account(3), account(4, id=again)]
    code, _, err = cli(app, capsys, "import", "customers", str(csv_file(tmp_path, HEADER, *rows)))
    assert (code, err.strip()) == (2, f"error: data.csv, line 5: id: customer {again} exists already")
    rows = [account(1), account(2, id=str(stored.id))]
    code, _, err = cli(app, capsys, "import", "customers", str(csv_file(tmp_path, HEADER, *rows)))
    assert (code, err.strip()) == (2, f"error: data.csv, line 3: id: customer {stored.id} exists already")
    assert counts(app) == before


def test_a_header_without_the_required_columns_exits_2(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(app, capsys, "import", "customers", str(csv_file(tmp_path, "name,emails", "Ada,a@example.com")))
    assert (code, err.strip()) == (2, "error: data.csv, line 1: missing column 'telephone_numbers'")
    code, _, err = cli(app, capsys, "import", "customers", str(csv_file(tmp_path, "name,telephone_numbers,fax")))
    assert (code, err.strip()) == (
        2,
        f"error: data.csv, line 1: unknown column 'fax'; expected: {','.join(customer_import.CUSTOMER_COLUMNS)}",
    )


def test_contacts_count_from_the_account_s_opening(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recent = (T0 - timedelta(days=3)).isoformat()
    code, _, _ = cli(
        app, capsys, "import", "customers", str(csv_file(tmp_path, HEADER, account(7, customer_since=recent)))
    )
    assert code == 0
    with app.uow() as uow:
        [found] = uow.customers.find("Customer 7", 5)
    assert found.contacts_of_record(T0, ContactKind.EMAIL) == []  # DEF-5: 30 days of tenure first
    assert found.telephone_numbers_of_record(T0) == ["+12025550007"]
