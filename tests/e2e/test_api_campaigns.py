"""The campaign workflow through the HTTP API (SAFE-3, SAFE-4, CONSENT-4)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from cpniguard.access.service import create_api_key
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App
from cpniguard.consent.model import Channel, ConsentEventKind
from cpniguard.consent.service import record_event
from tests.conftest import T0, a_customer


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(create_app(app))


@pytest.fixture
def admin(app: App, actor: Actor) -> dict[str, str]:
    _, secret = create_api_key(app.uow(), app.clock, actor, "ops", frozenset({"admin"}))
    return {"X-API-Key": secret}


def trained(client: TestClient, admin: dict[str, str], name: str) -> None:
    """SAFE-2: staff are trained before they get a role that opens CPNI."""
    course = {"staff": name, "course": "CPNI basics", "completed_on": "2026-01-15", "expires_on": "2027-01-15"}
    assert client.post("/training", json=course, headers=admin).status_code == 201


def _users(client: TestClient, admin: dict[str, str]) -> None:
    for name, roles in (("Mia", ["marketing"]), ("Carl", ["cro"])):
        trained(client, admin, name)
        assert client.post("/users", json={"name": name, "roles": roles}, headers=admin).status_code == 201


def test_safe_4_a_campaign_goes_from_draft_to_an_exported_audience_with_the_cro_s_approval(
    client: TestClient, admin: dict[str, str], app: App, actor: Actor
) -> None:
    _users(client, admin)
    opted_in = a_customer(app, actor, name="Opted In")
    a_customer(app, actor, name="No Approval", telephone_numbers=("+12025550177",))
    record_event(app.uow(), app.clock, actor, opted_in.id, ConsentEventKind.OPT_IN, Channel.WEB)
    body = {"name": "Partner TV", "purpose": "marketing-third-party", "offer": "Streaming bundle", "by": "Mia"}
    made = client.post("/campaigns", json={**body, "recipients": ["third-party"], "cpni": ["services"]}, headers=admin)
    assert made.status_code == 201 and made.json()["status"] == "draft"
    cid = made.json()["id"]
    early = client.post(f"/campaigns/{cid}/audience", json={}, headers=admin)
    assert early.status_code == 409  # not approved yet
    submitted = client.post(f"/campaigns/{cid}/submit", json={"by": "Mia"}, headers=admin).json()
    assert submitted["customer_approval_needed"] == "opt-in"
    own = client.post(f"/campaigns/{cid}/approve", json={"by": "Mia", "reason": "mine"}, headers=admin)
    assert own.status_code == 403 and "SAFE-4" in own.json()["detail"]
    approved = client.post(f"/campaigns/{cid}/approve", json={"by": "Carl", "reason": "checked"}, headers=admin)
    assert approved.json()["status"] == "approved"
    built = client.post(f"/campaigns/{cid}/audience", json={}, headers=admin).json()
    assert built["included"] == 1 and built["excluded"] == {"opt-in required": 1}
    exported = client.post(f"/campaigns/{cid}/export", headers=admin)
    assert exported.status_code == 200 and exported.headers["x-disclosures"] == "1"
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["customer_id"] for r in rows] == [str(opted_in.id)]
    assert client.get(f"/campaigns/{cid}", headers=admin).json()["status"] == "running"


def test_consent_4_an_opt_out_basis_for_a_joint_venture_is_refused_at_submission(
    client: TestClient, admin: dict[str, str]
) -> None:
    _users(client, admin)
    body = {
        "name": "JV",
        "purpose": "marketing-communications",
        "offer": "Partner TV",
        "recipients": ["joint-venture"],
        "by": "Mia",
    }
    cid = client.post("/campaigns", json=body, headers=admin).json()["id"]
    refused = client.post(f"/campaigns/{cid}/submit", json={"by": "Mia"}, headers=admin)
    assert refused.status_code == 422 and "opt-in" in refused.json()["detail"]
    assert client.get(f"/campaigns/{cid}", headers=admin).json()["status"] == "draft"


def test_notice_runs_and_the_opt_out_failure_task_over_the_api(
    client: TestClient, admin: dict[str, str], app: App, actor: Actor
) -> None:
    customer = a_customer(app, actor, at=T0 - timedelta(days=60))  # its addresses are of record (DEF-5)
    due = client.get("/opt-out-notices/due", params={"include_never": "true"}, headers=admin).json()
    assert due["customers"] == [str(customer.id)]
    run = client.post("/opt-out-notices", json={"customers": [str(customer.id)]}, headers=admin).json()
    assert run == {"queued": 1, "skipped": {}}
    failure = {"mechanisms": "email reply", "problem": "mailbox full", "found_on": "2026-11-25"}
    task = client.post("/opt-out-failures", json=failure, headers=admin)
    assert task.status_code == 201 and task.json()["due_on"] == "2026-12-03"
    report = client.get("/campaigns-report", headers=admin)
    assert report.status_code == 200 and report.text.startswith("campaign,name,description,status")
