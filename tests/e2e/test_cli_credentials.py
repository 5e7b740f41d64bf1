"""`cpniguard credentials|sessions|alerts|notifications` as staff scripts use them: secrets on
standard input and never in the output, --json out, exit 2 with one line for bad input."""

from __future__ import annotations

import io
import json
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cpniguard.auth.hashing import OWASP_MEMORY_KIB, OWASP_TIME_COST
from cpniguard.cli.main import run
from cpniguard.clock import SystemClock  # the CLI runs on the wall clock too
from tests.integration.auth_support import pins_for

UNKNOWN = "0b7c2f7e-58d4-4c1e-9d8a-3f1f2f0f9a11"
NOTICE_FIELDS = {"id", "customer_id", "event", "channel", "recipient", "subject", "body", "language", "status"}
CDR_HEADER = "customer_id,service_number,started_at,direction,other_party_number,duration_seconds,charge_cents"


class Cli:
    def __init__(self, url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.url, self.capsys, self.monkeypatch = url, capsys, monkeypatch

    def __call__(self, *args: str, input: str = "") -> tuple[int, str, str]:
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(input))
        self.capsys.readouterr()
        try:
            run(["--database-url", self.url, *args])
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str, input: str = "") -> Any:
        code, out, err = self(*args, "--json", input=input)
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # the audit key file is made in the working directory
    # The environment may not go below OWASP's minimum for argon2id: take that, not the default.
    monkeypatch.setenv("CPNIGUARD_ARGON2_TIME_COST", str(OWASP_TIME_COST))
    monkeypatch.setenv("CPNIGUARD_ARGON2_MEMORY_KIB", str(OWASP_MEMORY_KIB))
    tool = Cli(database_url, capsys, monkeypatch)
    assert tool("init")[0] == 0
    return tool


def new_customer(cli: Cli, *extra: str) -> tuple[str, list[str]]:
    """A customer opened just now (service initiation applies) and two PINs that fit its id."""
    made = cli.json(
        "customers",
        "add",
        "--name",
        "Ada Lovelace",
        "--phone",
        "+12025550123",
        "--email",
        "ada@example.com",
        "--postal-address",
        "12 Analytical Way, Springfield, IL 62701",
        *extra,
    )
    return str(made["id"]), pins_for(uuid.UUID(made["id"]), 2)


def audit_entries(cli: Cli) -> int:
    return int(cli.json("audit", "verify")["entries"])


def test_credentials_set_reads_the_pin_from_stdin_never_prints_it_and_verify_answers_verified_and_locked(
    cli: Cli,
) -> None:
    cid, (pin, wrong) = new_customer(cli)
    code, out, err = cli("credentials", "set", cid, "--kind", "pin", "--verified-by", "service-initiation", input=pin)
    assert code == 0, err
    assert pin not in out + err and cid in out
    assert cli.json("credentials", "verify", cid, "--kind", "pin", input=pin + "\n") == {
        "verified": True,
        "locked": False,
        "locked_until": None,
    }
    wrong_answer = cli.json("credentials", "verify", cid, "--kind", "pin", input=wrong)
    assert (wrong_answer["verified"], wrong_answer["locked"]) == (False, False)
    unknown = cli.json("credentials", "verify", UNKNOWN, "--kind", "pin", input=pin)
    assert (unknown["verified"], unknown["locked"]) == (False, False)
    assert cli.json("notifications", "list", "--customer", cid) == []  # chosen at service initiation (NOTIFY-2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("credentials", "set", UNKNOWN, "--kind", "pine", "--verified-by", "service-initiation"), "credential kind"),
        (("credentials", "set", UNKNOWN, "--kind", "pin", "--verified-by", "dob"), "unknown verification"),
        (("credentials", "verify", UNKNOWN, "--kind", "ssn"), "credential kind"),
        (("credentials", "send-code", UNKNOWN, "--purpose", "recover-pin"), "code purpose"),
        (("sessions", "open", UNKNOWN, "--channel", "fax"), "unknown channel"),
        (("sessions", "release", "not-a-session", "--route", "discuss"), "call session id"),
        (("sessions", "release", UNKNOWN, "--route", "shout"), "release route"),
    ],
)
def test_a_bad_kind_verification_or_route_exits_2_with_one_line_and_writes_nothing(
    cli: Cli, args: tuple[str, ...], message: str
) -> None:
    before = audit_entries(cli)
    code, out, err = cli(*args, input="482913")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err and "Traceback" not in err
    assert audit_entries(cli) == before


def test_a_biographical_pin_or_none_on_stdin_exits_2_without_echoing_the_secret(cli: Cli) -> None:
    cid, _ = new_customer(cli)
    before = audit_entries(cli)
    set_pin = ("credentials", "set", cid, "--kind", "pin", "--verified-by", "service-initiation")
    code, out, err = cli(*set_pin, input="20255501")
    assert (code, out) == (2, "") and "telephone number" in err and "20255501" not in err
    code, out, err = cli(*set_pin, input="")
    assert (code, out, err) == (2, "", "error: no pin on standard input\n")
    assert audit_entries(cli) == before


def test_five_wrong_pins_lock_raise_a_pretexting_alert_and_queue_a_notice(cli: Cli) -> None:
    cid, (pin, wrong) = new_customer(cli)
    cli.json("credentials", "set", cid, "--kind", "pin", "--verified-by", "service-initiation", input=pin)
    answers = [cli.json("credentials", "verify", cid, "--kind", "pin", input=wrong) for _ in range(5)]
    assert [a["locked"] for a in answers] == [False] * 4 + [True]
    while_locked = cli.json("credentials", "verify", cid, "--kind", "pin", input=pin)
    assert (while_locked["verified"], while_locked["locked"]) == (False, True)
    [alert] = cli.json("alerts", "list", "--customer", cid)
    assert (alert["kind"], alert["customer_id"]) == ("pretexting-suspected", cid)
    [notice] = cli.json("notifications", "list", "--customer", cid)
    assert notice["event"] == "account-locked" and notice.keys() >= NOTICE_FIELDS
    assert (notice["channel"], notice["recipient"], notice["status"]) == ("sms", "+12025550123", "pending")


def test_a_one_time_code_is_listed_withheld_and_a_pin_set_with_it_is_announced(cli: Cli) -> None:
    cid, (pin, _) = new_customer(cli)
    sent = cli.json("credentials", "send-code", cid)
    assert sent["channel"] == "sms"
    [coded] = cli.json("notifications", "list", "--customer", cid)
    assert coded["event"] == "one-time-code" and coded["body"] == "(one-time code withheld)"
    assert cli.json("credentials", "confirm-code", cid, input="not-the-code") == {"confirmed": False}
    code, _, err = cli("credentials", "set", cid, "--kind", "pin", "--verified-by", "one-time-code", input=pin)
    assert code == 2 and "one-time code" in err


def cdr_file(tmp_path: Path, cid: str) -> Path:
    started = (SystemClock().now() - timedelta(days=3)).replace(microsecond=0).isoformat()
    lines = [
        CDR_HEADER,
        f"{cid},+12025550123,{started},outbound,+13125550199,184,21",
        f"{cid},+12025550123,{started},inbound,+14155550142,60,8",
    ]
    path = tmp_path / "cdrs.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_sessions_open_release_and_close_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    cid, (pin, _) = new_customer(cli, "--at", (SystemClock().now() - timedelta(days=400)).date().isoformat())
    photo_id = ("--id-name", "Ada Lovelace", "--id-expires", "2099-01-01")
    cli.json("credentials", "set", cid, "--kind", "pin", "--verified-by", "photo-id", *photo_id, input=pin)
    assert cli.json("import", "cdrs", str(cdr_file(tmp_path, cid)))

    opened = cli.json("sessions", "open", cid, "--verify", "pin", input=pin)
    assert (opened["proof"], [r["route"] for r in opened["routes"]]) == ("pin", ["discuss"])
    released = cli.json("sessions", "release", opened["id"], "--route", "discuss")
    assert sorted(r["other_party_number"] for r in released["records"]) == ["+13125550199", "+14155550142"]
    assert cli.json("sessions", "close", opened["id"])["closed_at"] is not None
    code, out, err = cli("sessions", "release", opened["id"], "--route", "discuss")
    assert (code, out) == (2, "") and "closed" in err

    caller = cli.json("sessions", "open", cid)
    assert [r["route"] for r in caller["routes"]] == ["callback", "send-email", "send-letter"]
    code, _, err = cli("sessions", "release", caller["id"], "--route", "discuss")
    assert code == 2 and "callback to +12025550123" in err
    sent = cli.json("sessions", "release", caller["id"], "--route", "send-email")
    assert sent["records"] == [] and sent["notice_id"]
    listed = cli.json("notifications", "list", "--customer", cid)
    assert all(n.keys() >= NOTICE_FIELDS for n in listed)
    [mailed] = [n for n in listed if n["id"] == sent["notice_id"]]
    assert (mailed["event"], mailed["recipient"], mailed["attachment"]) == (
        "call-detail",
        "ada@example.com",
        "call-detail.csv",
    )
    assert any(n["event"] == "pin-changed" for n in listed)  # set on a photo ID: announced (NOTIFY-1)
    assert pin not in json.dumps(listed)
