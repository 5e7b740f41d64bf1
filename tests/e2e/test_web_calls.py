"""The call screen and the customer page through FastAPI's TestClient on SQLite and PostgreSQL:
finding the caller, verifying the PIN (AUTH-1, AUTH-2), the routes that release call detail
(AUTH-3, AUTH-4, DEF-5), one-time oral approval (USE-9), the customer page behind the gate, and
the refusals every page shares (CSRF, roles, signed out)."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cpniguard.access.web import set_staff_password
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.auth.model import CredentialKind, VerifiedBy
from cpniguard.auth.service import set_credential
from cpniguard.bootstrap import App
from cpniguard.calendar import eastern_date
from cpniguard.campaigns.service import add_user
from cpniguard.clock import FixedClock
from cpniguard.consent.model import Channel as ConsentChannel
from cpniguard.consent.model import ConsentEventKind
from cpniguard.consent.service import record_event
from cpniguard.customers.model import ContactKind, Customer
from cpniguard.customers.records import CallDetailRecord, Direction
from cpniguard.customers.service import add_contact
from cpniguard.db import tables as t
from cpniguard.ids import new_id
from cpniguard.notifications.service import list_notices
from cpniguard.privacy_office.staff import record_training
from tests.conftest import T0, a_customer
from tests.integration.auth_support import audit_actions, cheap_argon2_app, pins_for

PHONE, EMAIL = "+12025550123", "ada@example.com"
PASSWORD = "correct horse battery staple"
TWO_YEARS_AGO = T0 - timedelta(days=730)
ADMIN = Actor("staff", "e2e-admin", frozenset({"admin"}))
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SESSION = re.compile(r"/console/calls/([0-9a-f-]{36})")


@pytest.fixture
def app(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[App]:
    built = cheap_argon2_app(database_url, clock, tmp_path)
    yield built
    built.close()


@pytest.fixture
def caller(app: App, clock: FixedClock) -> tuple[Customer, str]:
    """A two-year-old account, its PIN chosen when the service started, and three calls."""
    customer = a_customer(app, ADMIN, at=TWO_YEARS_AGO)
    [pin] = pins_for(customer.id)
    clock.move_to(TWO_YEARS_AGO + timedelta(hours=1))
    set_credential(
        app.uow(), app.clock, ADMIN, app.auth, customer.id, CredentialKind.PIN, pin, VerifiedBy.SERVICE_INITIATION
    )
    clock.move_to(T0)
    with app.uow() as uow:
        uow.cpni.add_call_detail([_call(customer, "+13125550199", 27, 21), _call(customer, "+14155550142", 25, 45)])
        uow.commit()
    return customer, pin


def _call(customer: Customer, number: str, day: int, cents: int) -> CallDetailRecord:
    started = datetime(2026, 2, day, 15, 0, tzinfo=UTC)
    return CallDetailRecord(new_id(), customer.id, PHONE, started, Direction.OUTBOUND, number, 120, cents)


def staff(app: App, name: str, *roles: str) -> None:
    today = eastern_date(app.clock.now())
    record_training(app.uow(), app.clock, ADMIN, name, "CPNI basics", today, today + timedelta(days=365))
    add_user(app.uow(), app.clock, ADMIN, name, frozenset(roles))
    set_staff_password(app.uow(), app.clock, ADMIN, app.auth.hasher, name, PASSWORD)


def signed_in(app: App, name: str = "ann", *roles: str) -> TestClient:
    staff(app, name, *(roles or ("agent",)))
    client = TestClient(create_app(app), base_url="https://testserver")
    assert client.post("/sign-in", data={"name": name, "password": PASSWORD}).status_code == 200
    return client


def csrf(client: TestClient) -> str:
    found = CSRF.search(client.get("/console/calls").text)
    assert found is not None
    return found.group(1)


def post(client: TestClient, path: str, **fields: str) -> httpx.Response:
    answer: httpx.Response = client.post(path, data={"csrf": csrf(client), **fields})
    return answer


def take_the_call(client: TestClient, customer: Customer) -> str:
    answer = post(client, "/console/calls/open", customer_id=str(customer.id))
    assert answer.status_code == 200
    found = SESSION.search(str(answer.url))
    assert found is not None
    return found.group(1)


def verify(client: TestClient, session: str, secret: str, kind: str = "pin") -> httpx.Response:
    return post(client, f"/console/calls/{session}/verify", kind=kind, secret=secret)


def test_the_caller_is_found_by_number_and_listed_by_name_with_a_masked_number_only_auth_1(
    app: App, caller: tuple[Customer, str]
) -> None:
    client = signed_in(app)
    answer = post(client, "/console/calls/search", query=PHONE)
    assert answer.status_code == 200
    results = answer.text.split("Customers found")[1]  # the form above keeps what the agent typed
    assert "Ada Lovelace" in results
    assert "0123" in results
    assert PHONE not in results
    assert "customers:account:searched" in audit_actions(app)


def test_a_search_of_one_character_is_refused_rather_than_listing_every_customer_auth_1(app: App) -> None:
    answer = post(signed_in(app), "/console/calls/search", query="A")
    assert answer.status_code == 422
    assert "Enter 2 to 200 characters" in answer.text


def test_a_caller_who_gives_the_pin_may_hear_call_detail_on_the_call_auth_2(
    app: App, caller: tuple[Customer, str]
) -> None:
    customer, pin = caller
    client = signed_in(app)
    first = take_the_call(client, customer)
    answer = verify(client, first, pin)
    assert answer.status_code == 200
    verified = SESSION.search(str(answer.url))
    assert verified is not None
    assert verified.group(1) == first  # the same session now carries the proof
    assert "Verified by PIN" in answer.text
    assert "Call detail may be discussed on this call." in answer.text
    assert pin not in answer.text
    released = post(client, f"/console/calls/{verified.group(1)}/release", route="discuss")
    assert released.status_code == 200
    assert "+13125550199" in released.text
    assert "decisions:cpni-use:allowed" in audit_actions(app, customer)
    assert client.get(f"/console/calls/{first}").status_code == 200  # the session stays open, now verified


def test_without_the_pin_call_detail_goes_only_to_the_email_of_record_through_the_outbox_auth_3(
    app: App, caller: tuple[Customer, str]
) -> None:
    customer, _ = caller
    client = signed_in(app)
    session = take_the_call(client, customer)
    page = client.get(f"/console/calls/{session}")
    assert "Not verified" in page.text
    assert f"Send call detail to {EMAIL}" in page.text
    assert "+13125550199" not in page.text
    refused = post(client, f"/console/calls/{session}/release", route="discuss")
    assert refused.status_code == 403
    assert "not open in this session" in refused.text
    sent = post(client, f"/console/calls/{session}/release", route="send-email", to=EMAIL)
    assert sent.status_code == 200
    assert f"Call detail was sent to {EMAIL}" in sent.text
    with app.engine.connect() as conn:
        [row] = conn.execute(select(t.outbox).where(t.outbox.c.event == "call-detail")).all()
    assert (row.customer_id, row.channel, row.recipient) == (customer.id, "email", EMAIL)
    assert row.attachment_name == "call-detail.csv"
    assert b"+13125550199" in bytes(row.attachment)


def test_an_email_added_twelve_days_ago_is_no_route_and_sending_to_it_is_refused_def_5(
    app: App, caller: tuple[Customer, str]
) -> None:
    customer, _ = caller
    new = "new@example.org"
    add_contact(app.uow(), FixedClock(T0 - timedelta(days=12)), ADMIN, customer.id, ContactKind.EMAIL, new)
    client = signed_in(app)
    session = take_the_call(client, customer)
    assert f"Send call detail to {new}" not in client.get(f"/console/calls/{session}").text
    refused = post(client, f"/console/calls/{session}/release", route="send-email", to=new)
    assert refused.status_code == 403
    assert not [n for n in list_notices(app.uow(), customer.id) if n.notice.event.value == "call-detail"]


def test_a_wrong_pin_is_refused_with_403_and_the_session_stays_unverified_auth_1(
    app: App, caller: tuple[Customer, str]
) -> None:
    customer, _ = caller
    client = signed_in(app)
    session = take_the_call(client, customer)
    answer = verify(client, session, "999999")
    assert answer.status_code == 403
    assert "The PIN is not correct" in answer.text
    assert "999999" not in answer.text
    assert "Not verified" in client.get(f"/console/calls/{session}").text


def test_repeated_wrong_pins_lock_the_channel_and_even_the_right_pin_is_then_refused_auth_1(
    app: App, caller: tuple[Customer, str]
) -> None:
    customer, pin = caller
    client = signed_in(app)
    session = take_the_call(client, customer)
    for _ in range(app.auth.lockout.max_failures):
        answer = verify(client, session, "999999")
    assert "Locked after repeated failed attempts" in answer.text
    locked = verify(client, session, pin)
    assert locked.status_code == 403
    assert "Locked after repeated failed attempts" in locked.text
    assert "Not verified" in locked.text


def test_one_time_oral_approval_opens_offers_on_this_call_only_use_9(app: App, caller: tuple[Customer, str]) -> None:
    customer, _ = caller
    client = signed_in(app)
    session = take_the_call(client, customer)
    before = post(client, f"/console/calls/{session}/use-on-call")
    assert before.status_code == 403
    assert "one-time approval" in before.text
    approved = post(client, f"/console/calls/{session}/one-time-approval")
    assert approved.status_code == 200
    assert "One-time approval recorded" in approved.text
    offer = post(client, f"/console/calls/{session}/use-on-call")
    assert offer.status_code == 200
    assert 'id="on-call"><span class="allowed"' in offer.text
    closed = post(client, f"/console/calls/{session}/close")
    assert "The call session is closed." in closed.text
    assert post(client, f"/console/calls/{session}/use-on-call").status_code == 409
    assert post(client, f"/console/calls/{take_the_call(client, customer)}/use-on-call").status_code == 403


def test_the_customer_page_from_the_call_session_shows_services_contacts_consent_and_notices_safe_1_def_5(
    app: App, caller: tuple[Customer, str]
) -> None:
    customer, _ = caller
    add_contact(
        app.uow(), FixedClock(T0 - timedelta(days=12)), ADMIN, customer.id, ContactKind.EMAIL, "new@example.org"
    )
    record_event(app.uow(), app.clock, ADMIN, customer.id, ConsentEventKind.OPT_IN, ConsentChannel.WEB)
    client = signed_in(app)
    session = take_the_call(client, customer)
    page = client.get(f"/console/customers/{customer.id}", params={"session": session})
    assert page.status_code == 200
    assert "Customer care: allowed" in page.text
    assert "local" in page.text
    assert "new@example.org" in page.text
    assert "not yet: of record from" in page.text
    assert "Opt-in in force since" in page.text
    assert "attempts: 0" in page.text  # the notice of the new email, queued, with its delivery record
    assert "customers:account:viewed" in audit_actions(app, customer)


def test_the_customer_page_without_a_call_session_shows_the_gates_reason_not_the_data_safe_1(
    app: App, caller: tuple[Customer, str]
) -> None:
    customer, _ = caller
    page = signed_in(app).get(f"/console/customers/{customer.id}")
    assert page.status_code == 403
    assert "customer care needs the call session" in page.text
    assert EMAIL not in page.text
    assert "decisions:cpni-use:denied" in audit_actions(app, customer)


def test_the_customer_page_refuses_a_call_session_of_another_customer_auth_1(
    app: App, caller: tuple[Customer, str]
) -> None:
    customer, _ = caller
    other = a_customer(app, ADMIN, name="Grace Hopper", telephone_numbers=("+12025550188",), emails=())
    client = signed_in(app)
    session = take_the_call(client, customer)
    page = client.get(f"/console/customers/{other.id}", params={"session": session})
    assert page.status_code == 403
    assert "another customer" in page.text


@pytest.mark.parametrize("action", ["verify", "release", "one-time-approval", "use-on-call", "close"])
def test_a_form_without_its_csrf_token_is_refused_with_403_auth_1(
    app: App, caller: tuple[Customer, str], action: str
) -> None:
    customer, _ = caller
    client = signed_in(app)
    session = take_the_call(client, customer)
    answer = client.post(f"/console/calls/{session}/{action}", data={"route": "send-email", "secret": "1"})
    assert answer.status_code == 403
    assert "did not come from this site" in answer.text
    assert "Ada Lovelace" not in answer.text


def test_search_and_opening_without_a_csrf_token_are_refused_with_403_auth_1(
    app: App, caller: tuple[Customer, str]
) -> None:
    customer, _ = caller
    client = signed_in(app)
    assert client.post("/console/calls/search", data={"query": PHONE}).status_code == 403
    assert client.post("/console/calls/open", data={"customer_id": str(customer.id)}).status_code == 403
    assert "auth:call-session:opened" not in audit_actions(app, customer)


def test_marketing_staff_may_open_neither_the_call_screen_nor_the_customer_page_auth_1(
    app: App, caller: tuple[Customer, str]
) -> None:
    customer, _ = caller
    client = signed_in(app, "mark", "marketing")
    assert client.get("/console/calls").status_code == 403
    assert client.get(f"/console/customers/{customer.id}").status_code == 403
    assert client.post("/console/calls/open", data={"customer_id": str(customer.id)}).status_code == 403


def test_a_privacy_officer_opens_the_customer_page_not_the_call_screen_and_the_gate_asks_for_a_session_safe_1(
    app: App, caller: tuple[Customer, str]
) -> None:
    customer, _ = caller
    client = signed_in(app, "pia", "privacy-officer")
    assert client.get("/console/calls").status_code == 403
    assert client.get(f"/console/customers/{customer.id}").status_code == 403  # the gate: no call session
    assert "customer care needs the call session" in client.get(f"/console/customers/{customer.id}").text


def _case_token(client: TestClient, customer: Customer) -> str:
    found = CSRF.search(client.get(f"/console/customers/{customer.id}").text)
    assert found is not None, "the privacy office sees the case form"
    return found.group(1)


def test_the_privacy_office_opens_an_account_for_a_named_case_and_the_ledger_holds_it_use_8(
    app: App, caller: tuple[Customer, str]
) -> None:
    customer, _ = caller
    client = signed_in(app, "pia", "privacy-officer")
    token = _case_token(client, customer)
    page = client.post(
        f"/console/customers/{customer.id}/case",
        data={"csrf": token, "purpose": "fraud-protection", "reference": "complaint 2026-114"},
    )
    assert page.status_code == 200, page.text
    assert "Case: allowed" in page.text and PHONE in page.text  # services and contacts shown
    with app.uow() as uow:
        [entry] = uow.audit.find(customer.id, "decisions:cpni-use:allowed", 1)
    assert entry.purpose == "fraud-protection" and "complaint 2026-114" in entry.details
    assert "complaint 2026-114" not in str(page.url)


@pytest.mark.parametrize(
    ("purpose", "reference", "reason"),
    [
        ("marketing-subscribed", "case 1", "Choose why the account is opened"),
        ("fraud-protection", "  ", "Name the case"),
        ("legal-process", "x" * 201, "Name the case"),
    ],
)
def test_a_case_without_a_lawful_purpose_or_a_reference_is_refused_and_shows_nothing_use_8_use_13(
    app: App, caller: tuple[Customer, str], purpose: str, reference: str, reason: str
) -> None:
    customer, _ = caller
    client = signed_in(app, "pia", "privacy-officer")
    before = audit_actions(app, customer)
    page = client.post(
        f"/console/customers/{customer.id}/case",
        data={"csrf": _case_token(client, customer), "purpose": purpose, "reference": reference},
    )
    assert page.status_code == 422 and reason in page.text and PHONE not in page.text
    assert audit_actions(app, customer) == [*before, "decisions:cpni-use:denied"]  # the GET's refusal


def test_an_agent_cannot_open_an_account_for_a_case_and_a_form_without_its_token_is_refused_safe_1(
    app: App, caller: tuple[Customer, str]
) -> None:
    customer, _ = caller
    agent = signed_in(app, "ann", "agent")
    data = {"csrf": csrf(agent), "purpose": "fraud-protection", "reference": "case 7"}
    assert agent.post(f"/console/customers/{customer.id}/case", data=data).status_code == 403
    officer = signed_in(app, "pia", "privacy-officer")
    forged = {**data, "csrf": "not-the-token"}
    assert officer.post(f"/console/customers/{customer.id}/case", data=forged).status_code == 403
    assert "decisions:cpni-use:allowed" not in audit_actions(app, customer)


@pytest.mark.parametrize(
    "path",
    [
        "/console/calls",
        "/console/calls/0b7c2f7e-58d4-4c1e-9d8a-3f1f2f0f9a11",
        "/console/customers/0b7c2f7e-58d4-4c1e-9d8a-3f1f2f0f9a12",
    ],
)
def test_signed_out_visitors_are_sent_to_sign_in_auth_1(app: App, path: str) -> None:
    client = TestClient(create_app(app), base_url="https://testserver", follow_redirects=False)
    answer = client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in"


def test_an_unknown_session_and_a_malformed_customer_id_answer_404_without_a_traceback(app: App) -> None:
    client = signed_in(app)
    assert client.get(f"/console/calls/{uuid.uuid4()}").status_code == 404
    assert client.get("/console/calls/not-an-id").status_code == 404
    answer = client.get("/console/customers/not-an-id")
    assert answer.status_code == 404
    assert "Traceback" not in answer.text


def test_the_call_session_speaks_german(app: App, caller: tuple[Customer, str]) -> None:
    customer, _ = caller
    client = signed_in(app)
    client.cookies.set("lang", "de")
    session = take_the_call(client, customer)
    page = client.get(f"/console/calls/{session}")
    assert "Nicht verifiziert" in page.text
    assert f"Einzelverbindungsnachweis an {EMAIL} senden" in page.text


def test_no_cpni_or_secret_reaches_a_log_line_or_a_url_during_a_call(
    app: App, caller: tuple[Customer, str], caplog: pytest.LogCaptureFixture
) -> None:
    """Rule 9 and the page rules: the number searched for, the PIN, the call detail released
    and the customer's name appear in no log record of any logger and in no URL visited."""
    customer, pin = caller
    caplog.set_level(logging.DEBUG)
    client = signed_in(app)
    visited = [str(post(client, "/console/calls/search", query=PHONE).url)]
    session = take_the_call(client, customer)
    visited.append(str(verify(client, session, "0000").url))
    visited.append(str(verify(client, session, pin).url))
    released = post(client, f"/console/calls/{session}/release", route="discuss")
    assert "+13125550199" in released.text
    visited.append(str(released.url))
    visited.append(str(client.get(f"/console/customers/{customer.id}", params={"session": session}).url))
    secrets = [PHONE, PHONE.lstrip("+"), pin, "+13125550199", "+14155550142", customer.name]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/console/calls/search" in logged  # the requests themselves were logged (httpx), and read here
    for secret in secrets:
        assert secret not in logged
        assert all(secret not in url for url in visited)
