"""`cpniguard credentials reset` (AMB-5, AUTH-8): a forgotten PIN is never sent; a single-use
code goes to a contact of record, and the PIN set with it says how the customer was verified."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cpniguard.auth.hashing import OWASP_MEMORY_KIB, OWASP_TIME_COST
from cpniguard.bootstrap import build, load_settings
from cpniguard.clock import SystemClock  # the CLI runs on the wall clock
from cpniguard.ids import CustomerId
from tests.e2e.test_cli_credentials import UNKNOWN, Cli, new_customer

PHONE = "+12025550123"
PHOTO_ID = ("--id-name", "Ada Lovelace", "--id-expires", "2099-01-01")


@pytest.fixture
def cli(database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # the audit key file is made in the working directory
    monkeypatch.setenv("CPNIGUARD_ARGON2_TIME_COST", str(OWASP_TIME_COST))  # the cheapest the settings allow
    monkeypatch.setenv("CPNIGUARD_ARGON2_MEMORY_KIB", str(OWASP_MEMORY_KIB))
    tool = Cli(database_url, capsys, monkeypatch)
    assert tool("init")[0] == 0
    return tool


def an_old_customer(cli: Cli) -> tuple[str, list[str]]:
    """Opened 400 days ago (its email is of record), and two PINs that fit its id."""
    opened = (SystemClock().now() - timedelta(days=400)).date().isoformat()
    return new_customer(cli, "--at", opened)


def the_code(cli: Cli, customer: str) -> str:
    """What the customer reads in the message: only the outbox holds it (the listing withholds it)."""
    app = build(load_settings({}, database_url=cli.url))
    try:
        with app.uow() as uow:
            [message] = [n for n in uow.outbox.notices(CustomerId(uuid.UUID(customer)), 10) if n.notice.confidential]
    finally:
        app.close()
    return next(w for w in (word.rstrip(".") for word in message.notice.body.split()) if w.isdigit() and len(w) == 6)


def test_credentials_set_json_says_how_the_customer_was_verified_as_the_api_does(cli: Cli) -> None:
    customer, (pin, _) = new_customer(cli)
    made = cli.json("credentials", "set", customer, "--kind", "pin", "--verified-by", "service-initiation", input=pin)
    assert set(made) == {"customer_id", "kind", "verified_by", "set_at"}  # the API's CredentialOut
    assert (made["customer_id"], made["kind"], made["verified_by"]) == (customer, "pin", "service-initiation")


def test_amb_5_reset_sends_a_code_to_a_contact_of_record_never_the_pin_and_a_new_pin_is_set_with_it(cli: Cli) -> None:
    customer, (old_pin, new_pin) = an_old_customer(cli)
    cli.json("credentials", "set", customer, "--kind", "pin", "--verified-by", "photo-id", *PHOTO_ID, input=old_pin)
    code, out, err = cli("credentials", "reset", customer, "--json")
    assert code == 0, err
    sent = json.loads(out)
    assert set(sent) == {"code_id", "channel", "expires_at"}
    assert sent["channel"] in {"sms", "email"}
    expires = datetime.fromisoformat(sent["expires_at"]) - SystemClock().now()
    assert timedelta(minutes=9) < expires <= timedelta(minutes=10)
    listed = cli.json("notifications", "list", "--customer", customer)[0]  # newest first
    assert listed["event"] == "one-time-code" and listed["body"] == "(one-time code withheld)"
    assert listed["recipient"] in {PHONE, "ada@example.com"}  # a contact of record, AUTH-8
    [entry] = cli.json("audit", "search", "--customer", customer, "--action", "auth:one-time-code:sent")
    assert entry["details"]["purpose"] == "reset-credential"
    secret = the_code(cli, customer)
    assert secret not in out + err and old_pin not in out + err
    assert cli.json("credentials", "confirm-code", customer, input=secret) == {"confirmed": True}
    made = cli.json("credentials", "set", customer, "--kind", "pin", "--verified-by", "one-time-code", input=new_pin)
    assert made["verified_by"] == "one-time-code"
    assert cli.json("credentials", "verify", customer, "--kind", "pin", input=new_pin)["verified"] is True
    events = [n["event"] for n in cli.json("notifications", "list", "--customer", customer)]
    assert events[0] == "pin-changed"


def test_reset_for_an_unknown_customer_exits_2_with_one_line_and_writes_nothing(cli: Cli) -> None:
    before = cli.json("audit", "verify")["entries"]
    code, out, err = cli("credentials", "reset", UNKNOWN)
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("error: ")
    assert cli.json("audit", "verify")["entries"] == before


def test_a_fourth_reset_within_the_hour_is_refused_and_no_code_is_sent(cli: Cli) -> None:
    customer, _ = an_old_customer(cli)
    for _ in range(3):
        assert cli("credentials", "reset", customer)[0] == 0
    code, _, err = cli("credentials", "reset", customer)
    assert code == 2 and "too many codes" in err and err.count("\n") == 1
    assert len(cli.json("notifications", "list", "--customer", customer)) == 3
