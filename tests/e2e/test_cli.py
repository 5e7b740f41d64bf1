"""The CLI as a script would use it: --json out, exit 2 with one line on stderr for bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cpniguard.cli.main import run


class Cli:
    def __init__(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.url, self.capsys = url, capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            run(["--database-url", self.url, *args])
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # the audit key file is made in the working directory
    tool = Cli(database_url, capsys)
    assert tool("init")[0] == 0
    return tool


def new_customer(cli: Cli, *extra: str) -> str:
    made = cli.json(
        "customers",
        "add",
        "--name",
        "Ada Lovelace",
        "--phone",
        "+12025550123",
        "--email",
        "ada@example.com",
        "--service",
        "local",
        "--service",
        "wireless",
        *extra,
    )
    return str(made["id"])


def test_a_customer_added_can_be_shown_with_contacts_and_services(cli: Cli) -> None:
    cid = new_customer(cli, "--language", "de", "--at", "2026-01-05")
    shown = cli.json("customers", "show", cid)
    assert shown["language"] == "de"
    assert {s["category"] for s in shown["services"]} == {"local", "wireless"}
    assert {c["kind"] for c in shown["contacts"]} == {"telephone", "email"}
    assert cli.json("customers", "find", "+12025550123")[0]["id"] == cid


def test_an_email_becomes_an_address_of_record_30_days_after_it_was_added_def_5(cli: Cli) -> None:
    cid = new_customer(cli, "--at", "2026-03-02T10:00")

    def email_of_record(at: str) -> bool:
        shown = cli.json("customers", "show", cid, "--at", at)
        return bool(next(c for c in shown["contacts"] if c["kind"] == "email")["of_record"])

    assert not email_of_record("2026-03-31T23:00")
    assert email_of_record("2026-04-01")


def test_consent_events_drive_the_check_and_history_answers_for_past_moments(cli: Cli) -> None:
    cid = new_customer(cli)
    cli.json("consent", "record", cid, "opt-out-notice-sent", "--channel", "email", "--at", "2026-03-02")
    before = cli.json("check", cid, "--purpose", "marketing-communications", "--at", "2026-04-01T12:00")
    after = cli.json("check", cid, "--purpose", "marketing-communications", "--at", "2026-04-02")
    assert before["allowed"] is False and after["allowed"] is True
    assert after["basis"] == "consent" and after["citation"] == "47 CFR 64.2008(d)" and after["reason"]
    cli.json("consent", "record", cid, "opt-out", "--channel", "phone", "--at", "2026-05-01")
    shown = cli.json("consent", "show", cid, "--at", "2026-04-15")
    assert shown["approvals"]["opt_out_approval_presumed"] is True and len(shown["history"]) == 1
    assert cli.json("consent", "show", cid)["approvals"]["objection_active"] is True
    assert cli.json("consent", "rebuild")["differed"] == 0


def test_legal_process_needs_a_reference(cli: Cli) -> None:
    cid = new_customer(cli)
    assert cli.json("check", cid, "--purpose", "legal-process")["allowed"] is False
    allowed = cli.json("check", cid, "--purpose", "legal-process", "--reference", "subpoena 17")
    assert allowed["allowed"] is True and allowed["citation"] == "47 U.S.C. 222(c)(1)"


def test_check_batch_counts_denials_by_reason(cli: Cli) -> None:
    first, second = new_customer(cli), new_customer(cli)
    cli.json("consent", "record", first, "opt-in", "--channel", "web")
    result = cli.json("check-batch", "--purpose", "marketing-third-party", "--with-ids")
    assert result["allowed_customers"] == [first] and result["denied_by_reason"] == {"opt-in required": 1}
    assert second not in result["allowed_customers"]


def test_audit_verify_reports_ok_entries_and_no_first_bad(cli: Cli) -> None:
    cid = new_customer(cli)
    cli.json("check", cid, "--purpose", "billing")
    result = cli.json("audit", "verify")
    assert result["ok"] is True and result["entries"] == 2 and result["first_bad"] is None
    found = cli.json("audit", "search", "--customer", cid, "--action", "decisions:")
    assert found[0]["purpose"] == "billing"


def test_api_keys_are_shown_once_and_listed_without_their_secret(cli: Cli) -> None:
    made = cli.json("api-keys", "create", "billing-system", "--scope", "decide")
    assert made["key"].startswith("cpg_")
    listed = cli.json("api-keys", "list")
    assert listed[0]["name"] == "billing-system" and "key" not in listed[0]
    assert cli.json("api-keys", "revoke", "billing-system")["revoked"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("customers", "add", "--name", "X", "--phone", "5550123"), "E.164"),
        (("customers", "add", "--name", "X", "--phone", "+12025550123", "--email", "x@"), "email"),
        (("customers", "add", "--name", "X", "--phone", "+12025550123", "--service", "cable-tv"), "service category"),
        (("customers", "show", "not-a-customer"), "unknown customer"),
        (("customers", "show", "0b5e8a2e-51c4-4b8e-9d0f-0e1f2a3b4c5d"), "unknown customer"),
        (("check", "0b5e8a2e-51c4-4b8e-9d0f-0e1f2a3b4c5d", "--purpose", "profiling"), "unknown purpose"),
        (("consent", "record", "0b5e8a2e-51c4-4b8e-9d0f-0e1f2a3b4c5d", "opt-out", "--channel", "fax"), "channel"),
        (("consent", "show", "0b5e8a2e-51c4-4b8e-9d0f-0e1f2a3b4c5d", "--at", "last tuesday"), "ISO 8601"),
        (("check",), "Missing argument"),
        (("frobnicate",), "No such command"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(cli: Cli, args: tuple[str, ...], message: str) -> None:
    entries = cli.json("audit", "verify")["entries"]
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err and "Traceback" not in err
    assert cli.json("audit", "verify")["entries"] == entries


def test_commands_on_an_uninitialised_database_say_to_run_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = Cli(f"sqlite:///{tmp_path / 'empty.db'}", capsys)("customers", "find", "x")
    assert code == 2 and "cpniguard init" in err


def test_the_classification_lists_call_detail_as_cpni(cli: Cli) -> None:
    rows = cli.json("classification")
    assert {
        "table": "call_detail_records",
        "column": "other_party_number",
        "class": "cpni",
        "call_detail": True,
    } in rows


def test_reading_consent_history_and_searching_customers_are_recorded(cli: Cli) -> None:
    cid = new_customer(cli)
    cli.json("consent", "show", cid)
    cli.json("customers", "find", "Ada")
    assert cli.json("audit", "search", "--customer", cid, "--action", "consent:history:viewed")
    searched = cli.json("audit", "search", "--action", "customers:account:searched")
    assert searched[0]["details"] == {"found": 1}


def test_notify_5_contacts_change_announces_to_the_old_email_and_notifications_list_shows_it(cli: Cli) -> None:
    customer = new_customer(cli, "--at", "2024-01-02", "--language", "de")
    changed = cli.json("contacts", "change", customer, "--email", "ada@new.example")
    assert [c["value"] for c in changed["contacts"] if c["kind"] == "email" and not c["removed_at"]] == [
        "ada@new.example"
    ]
    added = cli.json("contacts", "add", customer, "--postal-address", "5 Elm St, Springfield, IL 62701")
    assert any(c["kind"] == "postal" for c in added["contacts"])
    listed = cli.json("notifications", "list", "--customer", customer)
    assert [n["event"] for n in listed] == ["postal-address-changed", "email-changed"]  # newest first
    email_notice = listed[1]
    assert email_notice["recipient"] == "ada@example.com" and email_notice["channel"] == "email"
    assert email_notice["language"] == "de" and "geändert" in email_notice["subject"]
    assert "ada@new.example" not in email_notice["body"] and email_notice["status"] == "pending"
    code, _, err = cli("contacts", "change", customer, "--email", "x@y.example", "--phone", "+12025550100")
    assert code == 2 and err.count("\n") == 1 and "exactly one" in err


def test_a_fault_of_ours_exits_1_with_a_masked_traceback_and_no_personal_data(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rule 9 for the CLI's own crashes: an unexpected exception's text (here a telephone number
    and an email address, as a driver's message might carry them) is masked like a log line."""
    customer = new_customer(cli)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("lookup failed for +12025550143 <jane.doe@example.com>")

    monkeypatch.setattr("cpniguard.cli.registry.show_customer", broken)
    code, out, err = cli("customers", "show", customer)
    assert code == 1 and out == ""
    assert err.splitlines()[-1] == (
        "error: internal error (RuntimeError): the command stopped; the masked traceback is above"
    )
    assert "Traceback (most recent call last)" in err and "RuntimeError: lookup failed for" in err
    assert "+12025550143" not in err and "jane.doe@example.com" not in err
    assert "+*********43" in err and "j***@example.com" in err
