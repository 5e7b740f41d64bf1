"""API keys over HTTP: who may call which route, and how fast a revocation takes hold."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from cpniguard.access.service import create_api_key, revoke_api_key
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.api.auth import KeyCache
from cpniguard.bootstrap import App
from tests.conftest import a_customer


def key(app: App, actor: Actor, name: str, *scopes: str) -> dict[str, str]:
    _, secret = create_api_key(app.uow(), app.clock, actor, name, frozenset(scopes))
    return {"X-API-Key": secret}


def audit_count(app: App) -> int:
    with app.uow() as uow:
        return uow.audit.count()


@pytest.fixture
def customer(app: App, actor: Actor) -> str:
    return str(a_customer(app, actor).id)


# Each route with the scope it needs: (method, path, JSON body, scope)
ROUTES = [
    ("GET", "/customers?q=Ada", None, "read"),
    ("GET", "/customers/{customer}", None, "read"),
    ("GET", "/customers/{customer}/consent", None, "read"),
    ("GET", "/classification", None, "read"),
    ("POST", "/customers", {"name": "Ada", "telephone_numbers": ["+12025550123"]}, "write"),
    ("POST", "/customers/{customer}/consent-events", {"event": "opt-in", "channel": "web"}, "write"),
    ("POST", "/customers/{customer}/checks", {"purpose": "billing"}, "decide"),
    ("POST", "/checks/batch", {"purpose": "billing"}, "decide"),
    ("GET", "/audit/verify", None, "audit"),
    ("GET", "/audit/entries", None, "audit"),
    ("POST", "/audit/checkpoints", None, "audit"),
]


def call(client: TestClient, route: tuple[str, str, object, str], customer: str, headers: dict[str, str]) -> int:
    method, path, body, _ = route
    return client.request(method, path.format(customer=customer), json=body, headers=headers).status_code


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES])
def test_every_route_but_health_and_docs_needs_a_key_with_its_scope(
    app: App, actor: Actor, customer: str, route: tuple[str, str, object, str]
) -> None:
    client = TestClient(create_app(app))
    scope = route[3]
    others = sorted({"read", "write", "decide", "audit"} - {scope})
    assert call(client, route, customer, {}) == 401
    assert call(client, route, customer, {"X-API-Key": "cpg_not-a-key"}) == 401
    assert call(client, route, customer, key(app, actor, "others", *others)) == 403
    assert call(client, route, customer, key(app, actor, "scoped", scope)) in (200, 201)


def test_an_admin_key_may_call_every_route(app: App, actor: Actor, customer: str) -> None:
    client = TestClient(create_app(app))
    admin = key(app, actor, "admin", "admin")
    assert [call(client, route, customer, admin) for route in ROUTES] == [200] * 4 + [201] * 2 + [200] * 4 + [201]


def test_a_missing_key_is_refused_with_a_reason_and_the_schemes_to_use(app: App, customer: str) -> None:
    client = TestClient(create_app(app))
    before = audit_count(app)
    answer = client.post(f"/customers/{customer}/checks", json={"purpose": "billing"})
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "unauthorized",
        "detail": "an API key is required: send X-API-Key or Authorization: Bearer",
    }
    assert "Bearer" in answer.headers["WWW-Authenticate"]
    assert audit_count(app) == before


def test_a_key_without_the_scope_is_refused_and_nothing_is_decided(app: App, actor: Actor, customer: str) -> None:
    client = TestClient(create_app(app))
    reader = key(app, actor, "reporting", "read")
    before = audit_count(app)
    answer = client.post(f"/customers/{customer}/checks", json={"purpose": "billing"}, headers=reader)
    assert answer.status_code == 403
    assert answer.json() == {"error": "forbidden", "detail": "this API key lacks the 'decide' scope"}
    assert audit_count(app) == before


def test_a_bearer_token_that_is_not_a_key_is_refused(app: App, customer: str) -> None:
    client = TestClient(create_app(app))
    answer = client.get(f"/customers/{customer}", headers={"Authorization": "Bearer cpg_guess"})
    assert answer.status_code == 401
    assert answer.json()["detail"] == "invalid or revoked API key"
    assert client.get(f"/customers/{customer}", headers={"Authorization": "Basic Zm9vOmJhcg=="}).status_code == 401


def test_a_revoked_key_is_refused_once_its_cache_entry_has_expired(app: App, actor: Actor, customer: str) -> None:
    uncached = TestClient(create_app(app, key_cache_seconds=0))
    billing = key(app, actor, "billing-system", "decide")
    path = f"/customers/{customer}/checks"
    assert uncached.post(path, json={"purpose": "billing"}, headers=billing).status_code == 200
    revoke_api_key(app.uow(), app.clock, actor, "billing-system")
    answer = uncached.post(path, json={"purpose": "billing"}, headers=billing)
    assert (answer.status_code, answer.json()["detail"]) == (401, "invalid or revoked API key")


def test_a_cached_key_keeps_working_for_the_ttl_after_revocation(app: App, actor: Actor, customer: str) -> None:
    """The documented price of the cache: at most `key_cache_seconds` of grace per process."""
    cached = TestClient(create_app(app, key_cache_seconds=300))
    billing = key(app, actor, "billing-system", "decide")
    path = f"/customers/{customer}/checks"
    assert cached.post(path, json={"purpose": "billing"}, headers=billing).status_code == 200
    revoke_api_key(app.uow(), app.clock, actor, "billing-system")
    assert cached.post(path, json={"purpose": "billing"}, headers=billing).status_code == 200
    assert TestClient(create_app(app)).post(path, json={"purpose": "billing"}, headers=billing).status_code == 401


class Timer:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_key_cache_forgets_an_actor_when_its_time_is_up() -> None:
    timer = Timer()
    cache = KeyCache(5.0, timer)
    caller = Actor("api-key", "crm", frozenset({"read"}))
    cache.put("digest", caller)
    timer.now += 4.9
    assert cache.get("digest") == caller
    timer.now += 0.1
    assert cache.get("digest") is None


def test_a_key_cache_of_zero_seconds_keeps_nothing() -> None:
    cache = KeyCache(0.0, Timer())
    cache.put("digest", Actor("api-key", "crm"))
    assert cache.get("digest") is None
