"""The privacy office through the HTTP API: the public policy page and portal notice, policy
versions, complaints (CERT-3), data-broker actions, training and roles (SAFE-2, CERT-1, CERT-5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from cpniguard.access.service import create_api_key
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App
from cpniguard.clock import FixedClock
from tests.conftest import T0, a_customer


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(create_app(app))


def key(app: App, actor: Actor, *scopes: str) -> dict[str, str]:
    _, secret = create_api_key(app.uow(), app.clock, actor, "-".join(scopes), frozenset(scopes))
    return {"X-API-Key": secret}


@pytest.fixture
def admin(app: App, actor: Actor) -> dict[str, str]:
    return key(app, actor, "admin")


def version(label: str, effective: str, **extra: object) -> dict[str, object]:
    text = "# Privacy policy\n\nWe protect your **CPNI**.\n\n<script>alert('x')</script> [us](javascript:alert(1))\n"
    return {"version": label, "language": "en", "effective_on": effective, "text": text, "summary": "New", **extra}


def test_the_public_page_shows_the_policy_in_force_with_raw_html_escaped_and_its_last_revision(
    client: TestClient, admin: dict[str, str]
) -> None:
    assert client.get("/privacy-policy").status_code == 404
    assert client.post("/privacy-policy/versions", json=version("1.0", "2026-01-15"), headers=admin).status_code == 201
    page = client.get("/privacy-policy?language=en")  # no API key
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<strong>CPNI</strong>" in page.text and "<script>" not in page.text
    assert "&lt;script&gt;" in page.text and 'href="javascript' not in page.text
    assert "Last revised January 15, 2026 (version 1.0)" in page.text
    assert client.get("/privacy-policy?language=de").status_code == 404
    assert client.get("/privacy-policy?language=fr").status_code == 422


def test_the_portal_notice_shows_the_latest_material_change_for_90_days(
    client: TestClient, admin: dict[str, str], clock: FixedClock
) -> None:
    assert client.get("/privacy-policy/notice").json() is None
    client.post("/privacy-policy/versions", json=version("2.0", "2026-03-02", material=True), headers=admin)
    notice = client.get("/privacy-policy/notice?language=en")
    assert notice.json() == {"version": "2.0", "effective_on": "2026-03-02", "summary": "New"}
    clock.move_to(T0 + timedelta(days=91))
    assert client.get("/privacy-policy/notice").json() is None


def test_a_material_version_reports_its_notices_and_bad_versions_are_refused(
    client: TestClient, admin: dict[str, str], app: App, actor: Actor
) -> None:
    a_customer(app, actor, at=T0 - timedelta(days=40))
    made = client.post("/privacy-policy/versions", json=version("2.0", "2026-03-02", material=True), headers=admin)
    assert made.status_code == 201
    assert made.json()["notices_queued"] == 1 and made.json()["customers_without_email"] == 0
    again = client.post("/privacy-policy/versions", json=version("2.0", "2026-04-01"), headers=admin)
    assert again.status_code == 409 and "published already" in again.json()["detail"]
    earlier = client.post("/privacy-policy/versions", json=version("2.1", "2026-01-01"), headers=admin)
    assert earlier.status_code == 422 and "before that of version 2.0" in earlier.json()["detail"]
    empty = client.post("/privacy-policy/versions", json={**version("3", "2026-04-01"), "text": " "}, headers=admin)
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    listed = client.get("/privacy-policy/versions", headers=admin).json()
    assert [v["version"] for v in listed] == ["2.0"]


def test_writing_needs_the_write_scope_and_reading_versions_needs_a_key(
    client: TestClient, app: App, actor: Actor
) -> None:
    reader = key(app, actor, "read")
    assert client.post("/privacy-policy/versions", json=version("1", "2026-01-01"), headers=reader).status_code == 403
    assert client.get("/privacy-policy/versions").status_code == 401
    assert client.post("/complaints", json={}, headers=reader).status_code == 403


def test_cert_3_complaints_are_recorded_closed_listed_and_counted(
    client: TestClient, admin: dict[str, str], app: App, actor: Actor
) -> None:
    ada = a_customer(app, actor)
    body = {"category": "unauthorized-disclosure", "channel": "email", "summary": "My bill went to my neighbour"}
    made = client.post(
        "/complaints", json={**body, "customer": str(ada.id), "received_at": "2026-02-27"}, headers=admin
    )
    assert made.status_code == 201 and made.json()["customer"] == str(ada.id)
    cid = made.json()["id"]
    closed = client.post(f"/complaints/{cid}/close", json={"resolution": "Address corrected"}, headers=admin)
    assert closed.json()["status"] == "closed"
    again = client.post(f"/complaints/{cid}/close", json={"resolution": "again"}, headers=admin)
    assert again.status_code == 409
    counts = client.get("/complaints/counts?year=2026", headers=admin).json()
    assert counts["by_category"]["unauthorized-disclosure"] == 1 and counts["by_month"]["2026-02"]["other"] == 0
    assert len(client.get("/complaints?year=2026&category=unauthorized-disclosure", headers=admin).json()) == 1
    bad = client.post("/complaints", json={**body, "category": "spam"}, headers=admin)
    assert bad.status_code == 422 and "unknown complaint category" in bad.json()["detail"]
    assert client.post("/complaints/nope/close", json={"resolution": "x"}, headers=admin).status_code == 404


def test_cert_3_data_broker_actions_are_recorded_and_listed(client: TestClient, admin: dict[str, str]) -> None:
    body = {"taken_on": "2026-02-10", "forum": "court", "broker": "DataCo", "description": "Suit over resale"}
    assert client.post("/data-broker-actions", json=body, headers=admin).status_code == 201
    assert [a["broker"] for a in client.get("/data-broker-actions?year=2026", headers=admin).json()] == ["DataCo"]
    bad = client.post("/data-broker-actions", json={**body, "forum": "press"}, headers=admin)
    assert bad.status_code == 422


def test_safe_2_a_member_of_staff_without_current_training_cannot_be_made_an_agent(
    client: TestClient, admin: dict[str, str]
) -> None:
    refused = client.post("/users", json={"name": "Al", "roles": ["agent"]}, headers=admin)
    assert refused.status_code == 403 and "SAFE-2" in refused.json()["detail"]
    officer = {"name": "Al", "roles": ["auditor"], "corporate_officer": True, "title": "CFO"}
    made = client.post("/users", json=officer, headers=admin).json()
    assert made["corporate_officer"] and made["title"] == "CFO"
    assert client.post("/users/Al/roles", json={"role": "agent"}, headers=admin).status_code == 403
    course = {"staff": "Al", "course": "CPNI basics", "completed_on": "2026-01-15", "expires_on": "2026-03-20"}
    assert client.post("/training", json=course, headers=admin).status_code == 201
    granted = client.post("/users/Al/roles", json={"role": "agent"}, headers=admin)
    assert granted.status_code == 200 and granted.json()["roles"] == ["agent", "auditor"]
    listed = client.get("/training", headers=admin).json()
    assert listed["discipline_policy_id"] is None and listed["records"][0]["staff"] == "Al"
    [due] = client.get("/training/due?within=30", headers=admin).json()
    assert due == {"staff": "Al", "roles": ["agent", "auditor"], "expires_on": "2026-03-20", "status": "expiring"}
    late = client.post(
        "/training", json={**course, "completed_on": "2026-04-01", "expires_on": "2027-04-01"}, headers=admin
    )
    assert late.status_code == 422 and "future" in late.json()["detail"]
