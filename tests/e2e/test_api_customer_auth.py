"""The authentication, call-session, contact-change and notice routes through the HTTP API."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cpniguard.access.service import create_api_key
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.clock import FixedClock
from cpniguard.customers.records import Bill, CallDetailRecord, Direction
from cpniguard.db.migrate import upgrade
from cpniguard.ids import CustomerId
from tests.conftest import TEST_CPNI_KEY, TEST_SIGNING_KEY, a_customer

LONG_AGO = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def app(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[App]:
    """The conftest app with cheap argon2 parameters: these tests verify secrets dozens of times."""
    settings = load_settings(
        {},
        database_url=database_url,
        audit_signing_key=TEST_SIGNING_KEY,
        cpni_key=TEST_CPNI_KEY,
        audit_key_file=str(tmp_path / "k"),
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    built = build(settings, clock)
    upgrade(built.engine)
    yield built
    built.close()


def _key(app: App, actor: Actor, name: str, *scopes: str) -> dict[str, str]:
    _, secret = create_api_key(app.uow(), app.clock, actor, name, frozenset(scopes))
    return {"X-API-Key": secret}


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(create_app(app))


@pytest.fixture
def staff(app: App, actor: Actor) -> dict[str, str]:
    return _key(app, actor, "agent-desktop", "read", "write")


@pytest.fixture
def ivr(app: App, actor: Actor) -> dict[str, str]:
    return _key(app, actor, "ivr", "authenticate")


@pytest.fixture
def customer(app: App, actor: Actor) -> str:
    made = a_customer(app, actor, at=LONG_AGO)
    records = [
        CallDetailRecord(
            uuid.uuid4(),
            made.id,
            "+12025550123",
            LONG_AGO + timedelta(days=i),
            Direction.OUTBOUND,
            "+13125550199",
            60 * (i + 1),
            25 * (i + 1),
        )
        for i in range(3)
    ]
    with app.uow() as uow:
        uow.cpni.add_call_detail(records)
        uow.commit()
    return str(made.id)


def _set_pin(client: TestClient, staff: dict[str, str], customer: str, pin: str, app: App) -> None:
    # Service initiation is only open for 24 hours: prove with a photo ID at the counter instead.
    body = {
        "secret": pin,
        "verified_by": "photo-id",
        "photo_id": {"name": "Ada Lovelace", "expires_on": "2030-01-31"},
    }
    answer = client.put(f"/customers/{customer}/credentials/pin", json=body, headers=staff)
    assert answer.status_code == 200, answer.text
    assert pin not in answer.text


def test_auth_1_a_wrong_pin_an_unknown_customer_and_a_lock_answer_the_same(
    client: TestClient, staff: dict[str, str], ivr: dict[str, str], customer: str, app: App
) -> None:
    _set_pin(client, staff, customer, "7391", app)
    wrong = client.post(f"/customers/{customer}/credentials/pin/verify", json={"secret": "0550"}, headers=ivr)
    unknown = client.post(f"/customers/{uuid.uuid4()}/credentials/pin/verify", json={"secret": "7391"}, headers=ivr)
    malformed = client.post("/customers/not-an-id/credentials/pin/verify", json={"secret": "7391"}, headers=ivr)
    for _ in range(4):
        client.post(f"/customers/{customer}/credentials/pin/verify", json={"secret": "0550"}, headers=ivr)
    locked = client.post(f"/customers/{customer}/credentials/pin/verify", json={"secret": "7391"}, headers=ivr)
    answers = [wrong, unknown, malformed, locked]
    assert {a.status_code for a in answers} == {200}
    assert {a.text for a in answers} == {'{"verified":false}'}
    # Only staff see the lock, and the alert it raised.
    assert client.get(f"/customers/{customer}/credentials/pin/lock", headers=ivr).status_code == 403
    status = client.get(f"/customers/{customer}/credentials/pin/lock", headers=staff).json()
    assert status["locked"] is True and status["locked_until"]
    alerts = client.get("/alerts", params={"customer": customer}, headers=staff).json()
    assert [a["kind"] for a in alerts] == ["pretexting-suspected"]


def test_auth_1_the_right_pin_verifies_for_the_ivr(
    client: TestClient, staff: dict[str, str], ivr: dict[str, str], customer: str, app: App
) -> None:
    _set_pin(client, staff, customer, "7391", app)
    answer = client.post(f"/customers/{customer}/credentials/pin/verify", json={"secret": "7391"}, headers=ivr)
    assert answer.json() == {"verified": True}


def test_auth_7_a_biographical_pin_is_refused_with_a_reason_that_does_not_repeat_it(
    client: TestClient, staff: dict[str, str], customer: str
) -> None:
    body = {
        "secret": "5550",
        "verified_by": "photo-id",
        "photo_id": {"name": "Ada Lovelace", "expires_on": "2030-01-31"},
    }
    answer = client.put(f"/customers/{customer}/credentials/pin", json=body, headers=staff)
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_input" and "5550" not in answer.text


def test_auth_7_setting_a_credential_without_proof_is_forbidden(
    client: TestClient, staff: dict[str, str], customer: str
) -> None:
    body = {"secret": "7391", "verified_by": "one-time-code"}
    answer = client.put(f"/customers/{customer}/credentials/pin", json=body, headers=staff)
    assert answer.status_code == 403 and "one-time code" in answer.json()["detail"]


def test_auth_7_a_code_sent_and_confirmed_lets_the_customer_set_a_pin_and_the_change_is_announced(
    client: TestClient, staff: dict[str, str], ivr: dict[str, str], customer: str, app: App
) -> None:
    sent = client.post(f"/customers/{customer}/codes", json={"purpose": "set-credential"}, headers=ivr)
    assert sent.status_code == 201 and sent.json()["channel"] in {"sms", "email"}
    with app.uow() as uow:  # the customer reads the code from the message the outbox holds
        [message] = [n for n in uow.outbox.notices(None, 10) if n.notice.event.value == "one-time-code"]
    code = next(word.rstrip(".") for word in message.notice.body.split() if word.rstrip(".").isdigit())
    listed = client.get("/notifications", params={"customer": customer}, headers=staff).json()
    assert code not in str(listed)  # a code is never shown again
    confirmed = client.post(f"/customers/{customer}/codes/confirm", json={"code": code}, headers=ivr)
    assert confirmed.json() == {"confirmed": True}
    body = {"secret": "7391", "verified_by": "one-time-code"}
    assert client.put(f"/customers/{customer}/credentials/pin", json=body, headers=staff).status_code == 200
    events = [n["event"] for n in client.get("/notifications", params={"customer": customer}, headers=staff).json()]
    assert "pin-changed" in events


def test_notify_5_a_contact_change_over_the_api_is_announced_to_the_old_address(
    client: TestClient, staff: dict[str, str], customer: str
) -> None:
    body = {"kind": "email", "value": "ada@new.example"}
    changed = client.post(f"/customers/{customer}/contacts/change", json=body, headers=staff)
    assert changed.status_code == 200, changed.text
    [notice] = client.get("/notifications", params={"customer": customer}, headers=staff).json()
    assert notice["event"] == "email-changed" and notice["recipient"] == "ada@example.com"
    assert "ada@new.example" not in notice["body"] and "ada@example.com" not in notice["body"]
    assert {"id", "customer_id", "channel", "subject", "language", "status"} <= set(notice)


def test_auth_2_with_the_pin_the_agent_may_discuss_call_detail(
    client: TestClient, staff: dict[str, str], customer: str, app: App
) -> None:
    _set_pin(client, staff, customer, "7391", app)
    body = {"customer_id": customer, "verify": {"kind": "pin", "secret": "7391"}}
    session = client.post("/sessions", json=body, headers=staff).json()
    assert session["proof"] == "pin" and [r["route"] for r in session["routes"]] == ["discuss"]
    released = client.post(f"/sessions/{session['id']}/releases", json={"route": "discuss"}, headers=staff)
    assert released.status_code == 200 and len(released.json()["records"]) == 3


def test_auth_3_without_the_pin_call_detail_is_only_sent_or_called_back(
    client: TestClient, staff: dict[str, str], customer: str
) -> None:
    session = client.post("/sessions", json={"customer_id": customer}, headers=staff).json()
    assert [r["route"] for r in session["routes"]] == ["callback", "send-email", "send-letter"]
    refused = client.post(f"/sessions/{session['id']}/releases", json={"route": "discuss"}, headers=staff)
    assert refused.status_code == 403 and "send-email to ada@example.com" in refused.json()["detail"]
    sent = client.post(f"/sessions/{session['id']}/releases", json={"route": "send-email"}, headers=staff).json()
    assert sent["records"] == [] and sent["notice_id"]
    [notice] = [n for n in client.get("/notifications", headers=staff).json() if n["event"] == "call-detail"]
    assert notice["recipient"] == "ada@example.com" and notice["attachment"] == "call-detail.csv"
    closed = client.post(f"/sessions/{session['id']}/close", headers=staff)
    assert closed.status_code == 200 and closed.json()["closed_at"]
    again = client.post(f"/sessions/{session['id']}/releases", json={"route": "send-email"}, headers=staff)
    assert again.status_code == 409


def test_bad_input_on_the_new_routes_gets_a_reason(client: TestClient, staff: dict[str, str], customer: str) -> None:
    assert client.put(f"/customers/{customer}/credentials/token", json={}, headers=staff).status_code == 422
    unknown = client.get(f"/sessions/{uuid.uuid4()}/routes", headers=staff)
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    bad_email = client.post(
        f"/customers/{customer}/contacts/change", json={"kind": "email", "value": "x"}, headers=staff
    )
    assert bad_email.status_code == 422 and "email" in bad_email.json()["detail"]


def test_use_9_one_time_oral_approval_lasts_only_as_long_as_its_call_session(
    client: TestClient, staff: dict[str, str], customer: str, app: App, actor: Actor
) -> None:
    session = client.post("/sessions", json={"customer_id": customer}, headers=staff).json()
    before = client.post(f"/sessions/{session['id']}/use-on-call", headers=staff)
    assert before.status_code == 403  # no approval yet
    assert client.post(f"/sessions/{session['id']}/one-time-approval", headers=staff).status_code == 201
    during = client.post(f"/sessions/{session['id']}/use-on-call", headers=staff).json()
    assert during["allowed"] is True and "64.2008(f)" in during["citation"]
    client.post(f"/sessions/{session['id']}/close", headers=staff)
    after = client.post(f"/sessions/{session['id']}/use-on-call", headers=staff)
    assert after.status_code == 409
    # No standing approval was left behind: outside the call, marketing needs consent on record.
    decider = _key(app, actor, "crm", "decide")
    check = client.post(f"/customers/{customer}/checks", json={"purpose": "marketing-communications"}, headers=decider)
    assert check.status_code == 200 and check.json()["allowed"] is False


def test_secrets_and_codes_never_reach_the_log(
    client: TestClient,
    staff: dict[str, str],
    ivr: dict[str, str],
    customer: str,
    app: App,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _set_pin(client, staff, customer, "7391", app)
    client.post(f"/customers/{customer}/credentials/pin/verify", json={"secret": "7391"}, headers=ivr)
    client.post(f"/customers/{customer}/credentials/pin/verify", json={"secret": "8462"}, headers=ivr)
    client.post(f"/customers/{customer}/codes", json={"purpose": "reset-credential"}, headers=ivr)
    with app.uow() as uow:
        [message] = [n for n in uow.outbox.notices(None, 10) if n.notice.event.value == "one-time-code"]
    code = next(word.rstrip(".") for word in message.notice.body.split() if word.rstrip(".").isdigit())
    client.post(f"/customers/{customer}/codes/confirm", json={"code": code}, headers=ivr)
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert caplog.records  # something was logged, so the scan means something
    for secret in ("7391", "8462", code):
        assert secret not in logged


def test_auth_2_other_cpni_follows_the_same_session_rules_bills_are_released_only_through_an_open_route(
    client: TestClient, staff: dict[str, str], customer: str, app: App
) -> None:
    with app.uow() as uow:
        uow.cpni.add_bills([Bill(uuid.uuid4(), CustomerId(uuid.UUID(customer)), "2026-01", "ACC-1", 4599)])
        uow.commit()
    session = client.post("/sessions", json={"customer_id": customer}, headers=staff).json()
    refused = client.post(
        f"/sessions/{session['id']}/releases", json={"route": "discuss", "bills": True}, headers=staff
    )
    assert refused.status_code == 403
    sent = client.post(
        f"/sessions/{session['id']}/releases", json={"route": "send-letter", "bills": True}, headers=staff
    )
    assert sent.status_code == 200 and sent.json()["bills"] == [] and sent.json()["notice_id"]
    [notice] = [n for n in client.get("/notifications", headers=staff).json() if n["event"] == "bills"]
    assert notice["attachment"] == "bills.csv" and notice["channel"] == "letter"
    _set_pin(client, staff, customer, "7391", app)
    body = {"customer_id": customer, "verify": {"kind": "pin", "secret": "7391"}}
    with_pin = client.post("/sessions", json=body, headers=staff).json()
    shown = client.post(f"/sessions/{with_pin['id']}/releases", json={"route": "discuss", "bills": True}, headers=staff)
    assert [b["total_cents"] for b in shown.json()["bills"]] == [4599] and shown.json()["records"] == []
