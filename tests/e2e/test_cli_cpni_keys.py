"""`cpniguard init` makes the CPNI keyring, `cpniguard cpni keys` shows it and `cpniguard cpni
rotate-key` rotates it (BREACH23-8); without a usable key a command exits 2 with one line."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from cpniguard.api.errors import status_of
from cpniguard.db import tables as t
from cpniguard.db.engine import make_engine
from cpniguard.errors import CpniKeyUnavailable, CpniSealBroken
from tests.e2e.test_cli import Cli, new_customer

KEYRING = "cpniguard-cpni.key"


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # the key files are made in the working directory
    monkeypatch.delenv("CPNIGUARD_CPNI_KEY", raising=False)
    return Cli(database_url, capsys)


def cdr_file(tmp_path: Path, customer: str, rows: int = 3) -> Path:
    path = tmp_path / "cdrs.csv"
    lines = [
        "customer_id,service_number,started_at,direction,other_party_number,duration_seconds,charge_cents,location"
    ]
    lines += [
        f"{customer},+12025550123,2026-02-{i + 1:02d}T09:15:00-05:00,outbound,+13125550177,60,5,Lima"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def one_line_refusal(result: tuple[int, str, str], words: str) -> None:
    code, out, err = result
    assert (code, out) == (2, ""), err
    assert err.count("\n") == 1 and err.startswith("error: ") and words in err and "Traceback" not in err


def call_detail_rows(cli: Cli) -> int:
    engine = make_engine(cli.url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.call_detail_records)).scalar_one())
    finally:
        engine.dispose()


def test_breach23_8_init_makes_a_keyring_readable_by_its_owner_only_and_once(cli: Cli, tmp_path: Path) -> None:
    made = cli.json("init")
    assert made["cpni_keyring_created"] is True and made["revision"] >= "0010"
    keyring = tmp_path / KEYRING
    assert keyring.stat().st_mode & 0o777 == 0o600
    assert json.loads(keyring.read_text())["format"] == "cpniguard-cpni-keyring/1"
    assert cli.json("init")["cpni_keyring_created"] is False


def test_breach23_8_rotate_key_reseals_the_imported_records_and_reports_as_json(cli: Cli, tmp_path: Path) -> None:
    cli.json("init")
    customer = new_customer(cli)
    assert cli("import", "cdrs", str(cdr_file(tmp_path, customer)))[0] == 0
    [old] = cli.json("cpni", "keys")["keys"]
    assert old["current"] is True and old["rows"] == {"call_detail_records": 3, "bills": 0}

    done: dict[str, Any] = cli.json("cpni", "rotate-key", "--batch", "2")

    assert done["keyring"] == KEYRING and done["resumed"] is False
    assert done["resealed"] == {"call_detail_records": 3, "bills": 0}
    assert done["retired"] == [old["key"]] and done["key"] != old["key"]
    assert cli.json("cpni", "keys")["keys"] == [
        {"key": done["key"], "current": True, "rows": {"call_detail_records": 3, "bills": 0}}
    ]
    [entry] = cli.json("audit", "search", "--action", "admin:cpni-key:rotated")
    assert entry["details"]["retired"] == [old["key"]]


def test_breach23_8_without_the_keyring_an_import_exits_2_with_one_line_and_writes_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    cli.json("init")
    customer = new_customer(cli)
    (tmp_path / KEYRING).unlink()
    one_line_refusal(cli("import", "cdrs", str(cdr_file(tmp_path, customer))), "no CPNI key: run `cpniguard init`")
    one_line_refusal(cli("cpni", "rotate-key"), "no CPNI key")
    assert call_detail_rows(cli) == 0


def test_breach23_8_a_keyring_for_other_records_or_a_damaged_one_exits_2_with_one_line(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.json("init")
    customer = new_customer(cli)
    assert cli("import", "cdrs", str(cdr_file(tmp_path, customer)))[0] == 0
    keyring = tmp_path / KEYRING
    saved = keyring.read_text()
    keyring.write_text("{not json")
    one_line_refusal(cli("cpni", "keys"), "not a CPNI keyring")
    data = json.loads(saved)
    [key_id] = data["keys"]
    data["keys"][key_id] = base64.b64encode(bytes(32)).decode()
    keyring.write_text(json.dumps(data))
    one_line_refusal(cli("cpni", "rotate-key"), "does not match its id")
    keyring.write_text(saved)
    monkeypatch.setenv("CPNIGUARD_CPNI_KEY", base64.b64encode(bytes(range(32))).decode())
    one_line_refusal(cli("cpni", "rotate-key"), "inline (CPNIGUARD_CPNI_KEY)")
    monkeypatch.setenv("CPNIGUARD_CPNI_KEY", "short")
    one_line_refusal(cli("cpni", "keys"), "CPNIGUARD_CPNI_KEY")


def test_breach23_8_a_bad_batch_size_exits_2(cli: Cli) -> None:
    cli.json("init")
    one_line_refusal(cli("cpni", "rotate-key", "--batch", "0"), "--batch")


def test_breach23_8_the_api_answers_503_for_cpni_it_cannot_open() -> None:
    assert status_of(CpniKeyUnavailable("no CPNI key")) == (503, "cpni_key_unavailable")
    assert status_of(CpniSealBroken("altered")) == (503, "cpni_seal_broken")
