"""The console's permission table, checked route by route and role by role: every page in
ROUTE_ROLES answers a signed-out visitor with the sign-in page, a role outside its set with
403, and a role inside it with the page (or a 404 for an id that does not exist). No console
page is missing from the table."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from cpniguard.access.model import ROLES
from cpniguard.access.web import set_staff_password
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App
from cpniguard.calendar import eastern_date
from cpniguard.campaigns.service import add_user
from cpniguard.privacy_office.staff import record_training
from cpniguard.web.security import ROUTE_ROLES

PASSWORD = "correct horse battery staple"


def _console_routes(client: TestClient) -> dict[str, str]:
    """name -> a GET path of every console page, path parameters filled with a fresh id."""
    found = {}
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, APIRoute) and "GET" in route.methods and route.name in ROUTE_ROLES:
            found[route.name] = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), route.path)
    return found


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(create_app(app), base_url="https://testserver")


def _signed_in(app: App, actor: Actor, role: str) -> TestClient:
    name = f"staff-{role}"
    today = eastern_date(app.clock.now())
    record_training(
        app.uow(), app.clock, actor, name, "CPNI basics", today - timedelta(days=1), today + timedelta(days=365)
    )
    add_user(app.uow(), app.clock, actor, name, frozenset({role}))
    set_staff_password(app.uow(), app.clock, actor, app.auth.hasher, name, PASSWORD)
    browser = TestClient(create_app(app), base_url="https://testserver")
    answer = browser.post("/sign-in", data={"name": name, "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return browser


def test_every_console_page_is_in_the_permission_table(client: TestClient) -> None:
    pages = {
        r.name
        for r in client.app.routes  # type: ignore[attr-defined]
        if isinstance(r, APIRoute) and (r.path == "/" or r.path.startswith("/console"))
    }
    assert pages <= set(ROUTE_ROLES), f"console pages without a row in ROUTE_ROLES: {pages - set(ROUTE_ROLES)}"


def test_a_signed_out_visitor_is_sent_to_sign_in_from_every_console_page(client: TestClient) -> None:
    for name, path in _console_routes(client).items():
        answer = client.get(path, follow_redirects=False)
        assert (answer.status_code, answer.headers.get("location")) == (303, "/sign-in"), name


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_opens_exactly_the_console_pages_the_table_gives_it(app: App, actor: Actor, role: str) -> None:
    browser = _signed_in(app, actor, role)
    for name, path in _console_routes(browser).items():
        answer = browser.get(path, follow_redirects=False)
        if role in ROUTE_ROLES[name]:
            assert answer.status_code in (200, 404), (name, role, answer.status_code)
        else:
            assert answer.status_code == 403, (name, role, answer.status_code)
            assert "Not allowed" in answer.text


def test_a_form_without_its_csrf_token_is_refused_with_a_403_page_in_the_visitors_language(
    app: App, actor: Actor
) -> None:
    browser = _signed_in(app, actor, "auditor")
    answer = browser.post("/sign-out", data={}, headers={"accept-language": "de"})
    assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html")
    assert "Das Formular ist abgelaufen" in answer.text
    assert browser.get("/", follow_redirects=False).status_code == 200  # still signed in
