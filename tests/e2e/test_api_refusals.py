"""Bad input over the API: a 4xx with a readable reason, the house body, and nothing written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cpniguard.access.service import create_api_key
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App, build, load_settings
from tests.conftest import a_customer

UNKNOWN = str(uuid.UUID(int=7))
CHECKS = "/customers/{customer}/checks"
EVENTS = "/customers/{customer}/consent-events"


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(create_app(app))


@pytest.fixture
def headers(app: App, actor: Actor) -> dict[str, str]:
    _, secret = create_api_key(app.uow(), app.clock, actor, "crm", frozenset({"admin"}))
    return {"X-API-Key": secret}


@pytest.fixture
def customer(app: App, actor: Actor) -> str:
    return str(a_customer(app, actor).id)


def stored(app: App) -> tuple[int, int, int]:
    """Audit entries, customers and consent events: what a refused request must not change."""
    with app.uow() as uow:
        return uow.audit.count(), uow.customers.count(), sum(1 for _ in uow.consent.all_events())


def account(**fields: object) -> dict[str, object]:
    return {"name": "Ada Lovelace", "telephone_numbers": ["+12025550123"], **fields}


# (method, path with {customer} for a known customer, JSON body or query, status, words in the reason)
REFUSALS = [
    ("POST", CHECKS, {"purpose": "gossip"}, 422, "purpose: Input should be"),
    ("POST", CHECKS, {}, 422, "purpose: Field required"),
    ("POST", CHECKS, {"purpose": "billing", "at": "yesterday"}, 422, "not an ISO 8601"),
    ("POST", CHECKS, {"purpose": "billing", "at": "2026-13-01"}, 422, "not an ISO 8601"),
    ("POST", CHECKS, {"purpose": "billing", "at": "9999-12-31T23:00-05:00"}, 422, "range"),
    ("POST", CHECKS, {"purpose": "billing", "at": "1066-10-14"}, 422, "out of range"),
    ("POST", CHECKS, {"purpose": "billing", "when": "2026-01-01"}, 422, "when: Extra inputs"),
    ("POST", CHECKS, {"purpose": "marketing-subscribed", "offer": "tv"}, 422, "offer: Input"),
    ("POST", f"/customers/{UNKNOWN}/checks", {"purpose": "billing"}, 404, "unknown customer"),
    ("POST", "/customers/not-a-uuid/checks", {"purpose": "billing"}, 404, "unknown customer: 'not-a-uuid'"),
    ("POST", "/customers", account(telephone_numbers=["2025550123"]), 422, "E.164"),
    ("POST", "/customers", account(telephone_numbers=["+1202555"]), 422, "E.164"),
    ("POST", "/customers", account(telephone_numbers=["+12025550123", "call me"]), 422, "'call me'"),
    ("POST", "/customers", account(telephone_numbers=[]), 422, "telephone_numbers: List should have at least 1"),
    ("POST", "/customers", account(emails=["ada@"]), 422, "not a valid email address: 'ada@'"),
    ("POST", "/customers", account(postal_addresses=["x"]), 422, "postal address must have 5 to 400 characters"),
    ("POST", "/customers", account(postal_addresses=["9" * 401]), 422, "postal_addresses.0: String should"),
    ("POST", "/customers", account(name="   "), 422, "name must have 1 to 200"),
    ("POST", "/customers", account(name="A" * 201), 422, "name must have 1 to 200"),
    ("POST", "/customers", account(services=["cable-tv"]), 422, "services.0: Input should be"),
    ("POST", "/customers", account(language="fr"), 422, "language: Input should be 'en' or 'de'"),
    ("POST", "/customers", account(at="last tuesday"), 422, "not an ISO 8601"),
    ("POST", "/customers", {"telephone_numbers": ["+12025550123"]}, 422, "name: Field required"),
    ("POST", EVENTS, {"event": "opt-maybe", "channel": "web"}, 422, "event: Input"),
    ("POST", EVENTS, {"event": "opt-in", "channel": "fax"}, 422, "channel: Input"),
    ("POST", EVENTS, {"event": "opt-out-notice-sent", "channel": "phone"}, 422, "NOTICE-5"),
    ("POST", EVENTS, {"event": "opt-in", "channel": "web", "at": "2026-02-30"}, 422, "ISO"),
    ("POST", f"/customers/{UNKNOWN}/consent-events", {"event": "opt-in", "channel": "web"}, 404, "unknown customer"),
    ("POST", "/customers/42/consent-events", {"event": "opt-in", "channel": "web"}, 404, "unknown customer: '42'"),
    ("GET", f"/customers/{UNKNOWN}", None, 404, "unknown customer"),
    ("GET", "/customers/not-a-uuid", None, 404, "unknown customer: 'not-a-uuid'"),
    ("GET", "/customers/{customer}", {"at": "soon"}, 422, "not an ISO 8601"),
    ("GET", f"/customers/{UNKNOWN}/consent", None, 404, "unknown customer"),
    ("GET", "/customers/{customer}/consent", {"at": "2026-02-31"}, 422, "not an ISO 8601"),
    ("GET", "/customers", {"q": ""}, 422, "query parameter q: String should have at least 1 character"),
    ("GET", "/customers", None, 422, "query parameter q: Field required"),
    ("GET", "/customers", {"q": "Ada", "limit": "0"}, 422, "query parameter limit: Input should be greater"),
    ("GET", "/customers", {"q": "Ada", "limit": "many"}, 422, "query parameter limit: Input should be a valid integer"),
    ("POST", "/checks/batch", {"purpose": "billing", "customers": ["x"]}, 422, "customers.0: Input should be a valid"),
    ("POST", "/checks/batch", {"purpose": "spam"}, 422, "purpose: Input should be"),
    ("POST", "/checks/batch", {"purpose": "billing", "at": "13/01/2026"}, 422, "not an ISO 8601"),
    ("GET", "/audit/entries", {"customer": "nope"}, 422, "query parameter customer: Input should be a valid UUID"),
    ("GET", "/audit/entries", {"limit": "10001"}, 422, "query parameter limit: Input should be less than or equal"),
    ("GET", "/nowhere", None, 404, "Not Found"),
    ("DELETE", "/customers/{customer}", None, 405, "Method Not Allowed"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "payload", "status", "reason"), REFUSALS)
def test_bad_input_is_refused_with_a_reason_and_writes_nothing(
    app: App,
    client: TestClient,
    headers: dict[str, str],
    customer: str,
    method: str,
    path: str,
    payload: dict[str, object] | None,
    status: int,
    reason: str,
) -> None:
    before = stored(app)
    url = path.format(customer=customer)
    if method == "POST":
        answer = client.post(url, json=payload, headers=headers)
    else:
        answer = client.request(method, url, params=payload, headers=headers)
    assert answer.status_code == status, answer.text
    assert set(answer.json()) == {"error", "detail"}
    assert reason in answer.json()["detail"]
    assert "\n" not in answer.json()["detail"]
    assert stored(app) == before


def test_unknown_purpose_is_refused_with_the_purposes_there_are(
    client: TestClient, headers: dict[str, str], customer: str
) -> None:
    answer = client.post(f"/customers/{customer}/checks", json={"purpose": "gossip"}, headers=headers)
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_input"
    assert "'marketing-communications'" in answer.json()["detail"]


def test_a_body_that_is_not_json_is_refused_with_where_it_broke(
    client: TestClient, headers: dict[str, str], customer: str, app: App
) -> None:
    before = stored(app)
    answer = client.post(
        f"/customers/{customer}/checks",
        content=b'{"purpose": ',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("request body: JSON decode error")
    assert stored(app) == before


def test_a_body_of_the_wrong_shape_is_refused(client: TestClient, headers: dict[str, str], customer: str) -> None:
    answer = client.post(f"/customers/{customer}/checks", json=["billing"], headers=headers)
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("request body: Input should be a valid dictionary")


def test_a_nul_character_never_reaches_the_database_as_a_server_error(
    app: App, client: TestClient, headers: dict[str, str]
) -> None:
    """PostgreSQL refuses NUL in text, SQLite keeps it: either way the caller gets an answer, not a 500."""
    before = stored(app)
    answer = client.post("/customers", json=account(name="Ada\x00Lovelace"), headers=headers)
    assert answer.status_code in (201, 422), answer.text
    if answer.status_code == 422:
        assert answer.json() == {"error": "invalid_input", "detail": answer.json()["detail"]}
        assert stored(app) == before


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[App]:
    """An App whose SQLite file lies in a directory that does not exist."""
    built = build(load_settings({}, database_url=f"sqlite:///{tmp_path / 'gone' / 'cpniguard.db'}"))
    yield built
    built.close()


def test_an_unreachable_database_answers_503_with_a_reason(unreachable: App) -> None:
    client = TestClient(create_app(unreachable))
    health = client.get("/health")
    check = client.post(f"/customers/{UNKNOWN}/checks", json={"purpose": "billing"}, headers={"X-API-Key": "cpg_x"})
    for answer in (health, check):
        assert answer.status_code == 503
        assert answer.json()["error"] == "storage_unavailable"
        assert answer.json()["detail"].startswith("database unavailable: unable to open database file")


class BrokenClock:
    def now(self) -> datetime:
        raise RuntimeError("secret detail: +12025550123")


def test_a_bug_answers_500_in_the_house_shape_without_the_exception_text(
    app: App, headers: dict[str, str], customer: str
) -> None:
    client = TestClient(create_app(app), raise_server_exceptions=False)
    app.clock = BrokenClock()
    answer = client.post(f"/customers/{customer}/checks", json={"purpose": "billing"}, headers=headers)
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal_error", "detail": "unexpected error; the server log has the details"}
