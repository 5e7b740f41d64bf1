"""Opt-out notices, the SAFE-5 task and the purge through the CLI: --json out, refusals exit 2
with one line on stderr, and the alert readable as fields in the plain output."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_cli import Cli


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # the audit key file is made in the working directory
    tool = Cli(database_url, capsys)
    assert tool("init")[0] == 0
    return tool


def a_customer(cli: Cli, n: int, *extra: str) -> str:
    made = cli.json(
        "customers", "add", "--name", f"Customer {n}", "--phone", f"+1202555{4000 + n}",
        "--at", "2024-01-05", *extra,
    )  # fmt: skip
    return str(made["id"])


def refused(cli: Cli, *args: str) -> str:
    code, out, err = cli(*args)
    assert code == 2 and out == "", (code, out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_notice_7_the_due_report_and_a_run_twice_before_delivery_queue_one_notice_each(
    cli: Cli,
) -> None:
    by_email = a_customer(cli, 1, "--email", "one@example.com")
    by_letter = a_customer(cli, 2, "--postal-address", "12 Analytical Way, Springfield, IL 62701")
    nowhere = a_customer(cli, 3)
    assert cli.json("consent", "notices-due") == {"due": 0, "customers": []}
    due = cli.json("consent", "notices-due", "--include-never")
    assert due["due"] == 3 and set(due["customers"]) == {by_email, by_letter, nowhere}
    first = cli.json("consent", "send-notices", "--due", "--include-never")
    assert first == {"queued": 2, "skipped": {nowhere: "no email or postal address of record"}}
    again = cli.json("consent", "send-notices", "--due", "--include-never")
    waiting = "an opt-out notice is already queued and not yet delivered"
    assert again == {
        "queued": 0,
        "skipped": {by_email: waiting, by_letter: waiting, nowhere: first["skipped"][nowhere]},
    }
    assert cli.json("consent", "send-notices", "--customer", by_email)["skipped"] == {by_email: waiting}
    notices = cli.json("notifications", "list")
    assert sorted((n["customer_id"], n["channel"]) for n in notices) == sorted(
        [(by_email, "email"), (by_letter, "letter")]
    )
    assert "give --due or one or more --customer" in refused(cli, "consent", "send-notices")
    assert "give --due or one or more --customer" in refused(
        cli, "consent", "send-notices", "--due", "--customer", by_email
    )


def test_safe_5_the_opt_out_failure_task_is_the_alert_listed_with_the_carrier_s_contact(
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CPNIGUARD_CARRIER_NAME", "Example Telecom")
    monkeypatch.setenv("CPNIGUARD_CARRIER_ADDRESS", "1 Main St\\nSpringfield, IL 62701")
    monkeypatch.setenv("CPNIGUARD_SUPPORT_LINE", "1-800-555-0100")
    task = cli.json(
        "consent", "opt-out-failure", "--mechanisms", "email reply", "--problem", "replies refused for two days",
        "--found", "2026-11-25",
    )  # fmt: skip
    assert (task["found_on"], task["due_on"]) == ("2026-11-25", "2026-12-03")
    assert task["letter"]["carrier_name"] == "Example Telecom"
    assert task["letter"]["contact"] == "Example Telecom; 1 Main St, Springfield, IL 62701; 1-800-555-0100"
    [alert] = cli.json("alerts", "list")
    assert alert["id"] == task["task"] and alert["kind"] == "fcc-opt-out-failure-letter"
    code, text, _ = cli("alerts", "list")
    assert code == 0 and "details:\n    found_on: 2026-11-25\n    due_on: 2026-12-03\n" in text
    assert "    problem: replies refused for two days\n" in text and '{"' not in text
    assert "not an ISO 8601 date" in refused(
        cli, "consent", "opt-out-failure", "--mechanisms", "x", "--problem", "y", "--found", "soon"
    )
    assert "the problem must have 1 to 4000 characters" in refused(
        cli, "consent", "opt-out-failure", "--mechanisms", "x", "--problem", " "
    )


def test_amb_8_a_purge_within_the_last_year_exits_2_and_an_older_one_reports_what_it_deleted(
    cli: Cli,
) -> None:
    err = refused(cli, "purge", "--before", "2026-06-01")
    assert "records younger than one year are kept (AMB-8)" in err
    done = cli.json("purge", "--before", "2025-01-01")
    assert done["purged"] == {
        "one_time_codes": 0,
        "auth_attempts": 0,
        "campaign_audience": 0,
        "call_detail_records": 0,
    }
    assert {"campaigns", "campaign_events", "disclosures", "audit_entries"} <= set(done["kept_forever"])
