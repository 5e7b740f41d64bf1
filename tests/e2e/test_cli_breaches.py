"""Breach incidents and the business calendar through the CLI: --json out, refusals exit 2 with
one line on stderr and write nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_cli import Cli, new_customer


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # the audit key file is made in the working directory
    tool = Cli(database_url, capsys)
    assert tool("init")[0] == 0
    return tool


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--determined", "2026-12-18"), ("2026-12-30", "2027-01-12", "2027-01-17", "2028-12-18")),
        (
            ("--determined", "2026-12-18", "--law-enforcement-notified", "2026-12-21T11:00", "--rules", "2007"),
            ("2026-12-30", "2027-01-01", None, "2028-12-21"),
        ),
        (("--determined", "2026-12-18", "--rules", "2023"), ("2026-12-30", None, "2027-01-17", "2028-12-18")),
        (("--determined", "2027-12-23"), ("2028-01-05", "2028-01-15", "2028-01-22", "2029-12-23")),
    ],
)
def test_cal_7_breach_deadlines_prints_the_legal_dates_under_each_rule_version(
    cli: Cli, args: tuple[str, ...], expected: tuple[str | None, ...]
) -> None:
    found = cli.json("breach", "deadlines", *args)
    keys = ("law_enforcement_notice_due", "customer_notice_not_before", "customer_notice_due", "records_kept_until")
    assert tuple(found[k] for k in keys) == expected


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("breach", "deadlines", "--determined", "2026-13-01"), "not an ISO 8601 date"),
        (("breach", "deadlines", "--determined", "2026-12-18", "--rules", "2011"), "unknown breach rule version"),
        (
            ("breach", "deadlines", "--determined", "2026-12-18", "--law-enforcement-notified", "2026-12-01"),
            "before the determination",
        ),
        (("breach", "show", "not-an-id"), "unknown breach incident"),
        (("calendar", "close", "--day", "2026-12-25", "--reason", "x"), "federal holiday"),
        (("calendar", "holidays", "--year", "99999"), "between 1900 and 2999"),
    ],
)
def test_bad_input_exits_2_with_one_line(cli: Cli, args: tuple[str, ...], reason: str) -> None:
    code, _, err = cli(*args)
    assert code == 2 and reason in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cal_3_a_closure_day_moves_the_deadline_printed(cli: Cli) -> None:
    assert cli("calendar", "close", "--day", "2026-12-24", "--reason", "executive order")[0] == 0
    assert cli.json("calendar", "closures") == [{"day": "2026-12-24", "reason": "executive order"}]
    assert cli.json("breach", "deadlines", "--determined", "2026-12-18")["law_enforcement_notice_due"] == "2026-12-31"
    assert cli("calendar", "reopen", "--day", "2026-12-24")[0] == 0
    assert "2026-11-26" in cli.json("calendar", "holidays", "--year", "2026")


def test_an_incident_goes_from_discovery_to_the_agency_notice_with_its_document(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CPNIGUARD_CARRIER_NAME", "Example Telephone Co.")
    monkeypatch.setenv("CPNIGUARD_CARRIER_ADDRESS", "1 Main St, Springfield, IL 62701")
    customer = new_customer(cli)
    opened = cli.json(
        "breach", "open", "--title", "Pretexter", "--discovered", "2026-11-02", "--intent", "intentional",
        "--data-type", "call-detail", "--circumstances", "caller posed as the customer",
        "--cpni", "call detail of October", "--method", "pretexting", "--start", "2026-11-01",
        "--financial-loss", "unknown",
    )  # fmt: skip
    incident = opened["id"]
    code, _, err = cli("breach", "open", "--title", "x", "--discovered", "2026-11-02", "--intent", "intentional",
                       "--data-type", "call-detail", "--circumstances", "y")  # fmt: skip
    assert code == 2 and "describe the data" in err
    cli.json("breach", "determine", incident, "--at", "2026-11-03T10:00", "--by", "Pat", "--reason", "logs")
    cli.json("breach", "affected", incident, "--count", "1", "--basis", "one account", "--customer", customer)
    draft = cli.json("breach", "agency-notice", incident)
    assert draft["missing"] == [] and draft["recipients"] == ["FCC", "USSS", "FBI"]
    code, _, err = cli("breach", "notify-customers", incident)
    assert code == 2 and "agency notice" in err
    cli.json("breach", "agency-notice", incident, "--submitted", "2026-11-04T09:00",
             "--recipient", "FCC", "--recipient", "USSS", "--recipient", "FBI", "--reference", "CRF-9")  # fmt: skip
    order = tmp_path / "order.pdf"
    order.write_bytes(b"%PDF- direction")
    shown = cli.json("breach", "direction", incident, "--kind", "directed", "--agency", "FBI",
                     "--document", str(order), "--received", "2026-11-05", "--days", "30")  # fmt: skip
    assert shown["deadlines"]["customer_notice_not_before"] == "2026-12-06"
    assert "agency-direction" in [e["kind"] for e in shown["timeline"]]
    code, _, err = cli("breach", "direction", incident, "--kind", "extended", "--agency", "FBI",
                       "--document", str(tmp_path / "missing.pdf"), "--days", "10")  # fmt: skip
    assert code == 2 and "cannot read" in err
    listed = cli.json("breach", "list")
    assert listed[0]["id"] == incident and listed[0]["law_enforcement_notified_at"].startswith("2026-11-04")
