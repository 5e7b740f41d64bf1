"""The console's forms without their CSRF token. Which caller may open which page (ROUTE_ROLES)
is checked with every other route and command in the permission table
(test_permission_table.py)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from cpniguard.access.web import set_staff_password
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App
from cpniguard.calendar import eastern_date
from cpniguard.campaigns.service import add_user
from cpniguard.privacy_office.staff import record_training

PASSWORD = "correct horse battery staple"


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


def test_a_form_without_its_csrf_token_is_refused_with_a_403_page_in_the_visitors_language(
    app: App, actor: Actor
) -> None:
    browser = _signed_in(app, actor, "auditor")
    answer = browser.post("/sign-out", data={}, headers={"accept-language": "de"})
    assert answer.status_code == 403 and answer.headers["content-type"].startswith("text/html")
    assert "Das Formular ist abgelaufen" in answer.text
    assert browser.get("/", follow_redirects=False).status_code == 200  # still signed in
