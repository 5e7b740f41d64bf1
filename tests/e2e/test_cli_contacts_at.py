"""`cpniguard contacts change|add --at WHEN`: the effective time of a contact change is bounded,
since DEF-5 counts an address's 30 days of record from it. A time in the future, more than a day
back, or before the latest change of that kind is refused with exit 2 and one line, and nothing
is written; an accepted one is recorded in the ledger entry while the notice is queued now."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cpniguard.clock import SystemClock  # the CLI runs on the wall clock
from tests.e2e.test_cli import Cli

ATTACKER = "attacker@evil.example"


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # the audit key file is made in the working directory
    tool = Cli(database_url, capsys)
    assert tool("init")[0] == 0
    return tool


def now() -> datetime:
    return SystemClock().now()


def an_old_customer(cli: Cli) -> str:
    """An account opened 400 days ago: its email ada@example.com is of record."""
    opened = (now() - timedelta(days=400)).date().isoformat()
    account = ("--name", "Ada Lovelace", "--phone", "+12025550123", "--email", "ada@example.com", "--at", opened)
    made = cli.json("customers", "add", *account)
    return str(made["id"])


def written(cli: Cli, customer: str) -> tuple[int, list[Any]]:
    """Ledger entries and notices so far (read without writing)."""
    return int(cli.json("audit", "verify")["entries"]), cli.json("notifications", "list", "--customer", customer)


def emails_on_account(cli: Cli, customer: str) -> list[tuple[str, bool]]:
    shown = cli.json("customers", "show", customer)
    return [(c["value"], c["of_record"]) for c in shown["contacts"] if c["kind"] == "email" and not c["removed_at"]]


def refused(cli: Cli, *args: str) -> str:
    code, out, err = cli(*args)
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("error: "), (code, out, err)
    return err


def test_def_5_an_attacker_address_backdated_89_days_is_refused_and_the_old_address_stays_of_record(cli: Cli) -> None:
    customer = an_old_customer(cli)
    before = written(cli, customer)
    backdated = (now() - timedelta(days=89)).date().isoformat()  # `--at 2026-09-01` on 29 Nov 2026
    err = refused(cli, "contacts", "change", customer, "--email", ATTACKER, "--at", backdated)
    assert "more than 24 hours ago" in err and "DEF-5" in err
    assert written(cli, customer) == before
    assert emails_on_account(cli, customer) == [("ada@example.com", True)]


@pytest.mark.parametrize("command", ["change", "add"])
def test_def_5_a_change_dated_in_the_future_is_refused_and_writes_nothing(cli: Cli, command: str) -> None:
    customer = an_old_customer(cli)
    before = written(cli, customer)
    tomorrow = (now() + timedelta(days=1)).isoformat()
    err = refused(cli, "contacts", command, customer, "--email", ATTACKER, "--at", tomorrow)
    assert "in the future" in err
    assert written(cli, customer) == before
    assert emails_on_account(cli, customer) == [("ada@example.com", True)]


def test_a_change_dated_before_the_latest_change_of_its_kind_is_refused_and_leaves_one_current_email(
    cli: Cli,
) -> None:
    customer = an_old_customer(cli)
    two_hours_ago, three_hours_ago = (now() - timedelta(hours=h) for h in (2, 3))
    cli.json("contacts", "change", customer, "--email", "ada@new.example", "--at", two_hours_ago.isoformat())
    before = written(cli, customer)
    err = refused(cli, "contacts", "change", customer, "--email", ATTACKER, "--at", three_hours_ago.isoformat())
    assert "before the account's latest email change" in err
    assert written(cli, customer) == before
    assert emails_on_account(cli, customer) == [("ada@new.example", False)]
    # The bound is per kind: the postal address has not changed since the account opened.
    postal = ("--postal-address", "5 Elm St, Springfield, IL 62701")
    cli.json("contacts", "add", customer, *postal, "--at", three_hours_ago.isoformat())


def test_a_contact_cannot_be_added_before_the_account_was_opened(cli: Cli) -> None:
    made = cli.json("customers", "add", "--name", "Bea Brown", "--phone", "+12025550124")
    customer = str(made["id"])
    before = written(cli, customer)
    an_hour_ago = (now() - timedelta(hours=1)).isoformat()
    err = refused(cli, "contacts", "add", customer, "--email", "bea@example.com", "--at", an_hour_ago)
    assert "or its opening" in err
    assert written(cli, customer) == before


def test_an_accepted_time_is_the_ledger_entrys_effective_at_and_the_notice_is_queued_now(cli: Cli) -> None:
    customer = an_old_customer(cli)
    effective = (now() - timedelta(hours=20)).replace(microsecond=0)
    cli.json("contacts", "change", customer, "--email", "ada@new.example", "--at", effective.isoformat())
    [entry] = cli.json("audit", "search", "--customer", customer, "--action", "customers:contact:changed")
    assert datetime.fromisoformat(entry["details"]["effective_at"]) == effective
    [notice] = cli.json("notifications", "list", "--customer", customer)
    assert notice["recipient"] == "ada@example.com"  # NOTIFY-5: the address of record before the change
    assert now() - datetime.fromisoformat(notice["created_at"]) < timedelta(minutes=5)
    assert emails_on_account(cli, customer) == [("ada@new.example", False)]  # its 30 days have begun


def test_a_time_a_little_ahead_of_this_clock_is_taken_as_clock_skew(cli: Cli) -> None:
    customer = an_old_customer(cli)
    ahead = (now() + timedelta(minutes=2)).isoformat()
    changed = cli.json("contacts", "change", customer, "--email", "ada@new.example", "--at", ahead)
    assert [c["value"] for c in changed["contacts"] if c["kind"] == "email" and not c["removed_at"]] == [
        "ada@new.example"
    ]
