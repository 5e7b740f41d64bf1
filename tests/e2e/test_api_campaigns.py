"""The campaign workflow through the HTTP API (SAFE-3, SAFE-4, CONSENT-4)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from cpniguard.access.service import create_api_key
from cpniguard.access.web import set_staff_password
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App
from cpniguard.clock import FixedClock
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


PASSWORD = "correct horse battery staple"


def reviewed_in_console(app: App, actor: Actor, cid: str, name: str, decision: str, reason: str) -> httpx.Response:
    """SAFE-4: the API has no review route; the reviewer signs in to the console and is the one named."""
    set_staff_password(app.uow(), app.clock, actor, app.auth.hasher, name, PASSWORD)
    console = TestClient(create_app(app), base_url="https://testserver")
    signed_in = console.post("/sign-in", data={"name": name, "password": PASSWORD}, follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text
    found = re.search(r'name="csrf" value="([^"]+)"', console.get(f"/console/campaigns/{cid}").text)
    assert found is not None
    form = {"csrf": found.group(1), "decision": decision, "reason": reason}
    answer: httpx.Response = console.post(f"/console/campaigns/{cid}/review", data=form, follow_redirects=False)
    return answer


def test_safe_4_a_campaign_goes_from_draft_to_an_exported_audience_with_the_cro_s_approval(
    client: TestClient, admin: dict[str, str], app: App, actor: Actor
) -> None:
    _users(client, admin)
    opted_in = a_customer(app, actor, name="Opted In")
    a_customer(app, actor, name="No Approval", telephone_numbers=("+12025550177",))
    record_event(app.uow(), app.clock, actor, opted_in.id, ConsentEventKind.OPT_IN, Channel.WEB)
    body = {
        "name": "Partner TV",
        "purpose": "marketing-third-party",
        "offer": "Streaming bundle",
        "description": "A streaming partner's bundle",
        "by": "Mia",
    }
    made = client.post("/campaigns", json={**body, "recipients": ["third-party"], "cpni": ["services"]}, headers=admin)
    assert made.status_code == 201 and made.json()["status"] == "draft"
    cid = made.json()["id"]
    early = client.post(f"/campaigns/{cid}/audience", json={}, headers=admin)
    assert early.status_code == 409  # not approved yet
    submitted = client.post(f"/campaigns/{cid}/submit", json={"by": "Mia"}, headers=admin).json()
    assert submitted["customer_approval_needed"] == "opt-in"
    by_key = client.post(f"/campaigns/{cid}/approve", json={"by": "Carl", "reason": "checked"}, headers=admin)
    assert by_key.status_code == 404  # SAFE-4: a key cannot pass for the CRO; the review is in the console
    assert reviewed_in_console(app, actor, cid, "Carl", "approve", "checked").status_code == 303
    assert client.get(f"/campaigns/{cid}", headers=admin).json()["status"] == "approved"
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
        "description": "A joint venture's TV offer",
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


def _exported(client: TestClient, admin: dict[str, str], app: App, actor: Actor, clock: FixedClock) -> str:
    """A third-party campaign through every step to its first export, a minute apart each."""
    _users(client, admin)
    opted_in = a_customer(app, actor, name="Opted In")
    a_customer(app, actor, name="No Approval", telephone_numbers=("+12025550177",))
    record_event(app.uow(), app.clock, actor, opted_in.id, ConsentEventKind.OPT_IN, Channel.WEB)
    body = {
        "name": "Partner TV",
        "purpose": "marketing-third-party",
        "offer": "Streaming bundle",
        "description": "A streaming partner's bundle",
        "recipients": ["third-party"],
        "cpni": ["services", "usage"],
        "by": "Mia",
    }
    cid = str(client.post("/campaigns", json=body, headers=admin).json()["id"])
    clock.move_to(T0 + timedelta(minutes=1))
    assert client.post(f"/campaigns/{cid}/submit", json={"by": "Mia"}, headers=admin).status_code == 200
    clock.move_to(T0 + timedelta(minutes=2))
    assert reviewed_in_console(app, actor, cid, "Carl", "approve", "opt-in basis").status_code == 303
    clock.move_to(T0 + timedelta(minutes=3))
    assert client.post(f"/campaigns/{cid}/audience", json={}, headers=admin).status_code == 200
    clock.move_to(T0 + timedelta(minutes=5))
    assert client.post(f"/campaigns/{cid}/export", headers=admin).status_code == 200
    return cid


def test_safe_3_a_campaign_s_record_has_its_history_audience_counts_and_disclosures_and_it_is_completed(
    client: TestClient, admin: dict[str, str], app: App, actor: Actor, clock: FixedClock
) -> None:
    cid = _exported(client, admin, app, actor, clock)
    rebuilt = client.post(f"/campaigns/{cid}/audience", json={}, headers=admin)
    assert rebuilt.status_code == 409 and "frozen audience" in rebuilt.json()["detail"]
    shown = client.get(f"/campaigns/{cid}", headers=admin).json()
    assert (shown["status"], shown["audience"], shown["excluded"], shown["disclosures"]) == (
        "running",
        1,
        {"opt-in required": 1},
        1,
    )
    assert [h["status"] for h in shown["history"]] == ["draft", "submitted", "approved", "running"]
    assert shown["customer_approval_needed"] == "opt-in" and shown["completed_at"] is None
    listed = client.get(f"/campaigns/{cid}/disclosures", headers=admin).json()
    assert [(d["recipient"], d["categories"]) for d in listed] == [("third-party", "services,usage")]
    as_csv = client.get(f"/campaigns/{cid}/disclosures", params={"format": "csv"}, headers=admin)
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert [r["customer_id"] for r in csv.DictReader(io.StringIO(as_csv.text))] == [listed[0]["customer_id"]]
    clock.move_to(T0 + timedelta(days=30))
    archive_early = client.post(f"/campaigns/{cid}/archive", json={"by": "Mia"}, headers=admin)
    assert archive_early.status_code == 409 and archive_early.json()["error"] == "conflict"
    done = client.post(f"/campaigns/{cid}/complete", json={"by": "Mia", "reason": "over"}, headers=admin)
    assert done.status_code == 200 and done.json()["completed_at"] == (T0 + timedelta(days=30)).isoformat()
    clock.move_to(T0 + timedelta(days=31))
    assert client.post(f"/campaigns/{cid}/archive", json={"by": "Carl"}, headers=admin).json()["status"] == "archived"
    pdf = client.get("/campaigns-report", params={"format": "pdf"}, headers=admin)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).split())
    assert "CPNI marketing campaigns (SAFE-3)" in text and "Partner TV" in text and "opt-in required: 1" in text
    [row] = list(csv.DictReader(io.StringIO(client.get("/campaigns-report", headers=admin).text)))
    assert (row["status"], row["completed_on"], row["excluded"]) == ("archived", "2026-04-01", "opt-in required: 1")


def test_a_rejection_in_the_console_shows_over_the_api_and_the_refusals_of_bad_input(
    client: TestClient, admin: dict[str, str], app: App, actor: Actor
) -> None:
    _users(client, admin)
    body = {"name": "X", "purpose": "marketing-communications", "offer": "Fiber", "by": "Mia"}
    fax = client.post("/campaigns", json={**body, "channel": "fax"}, headers=admin)
    assert fax.status_code == 422 and fax.json()["error"] == "invalid_input" and "channel" in fax.json()["detail"]
    cid = client.post("/campaigns", json=body, headers=admin).json()["id"]
    bare = client.post(f"/campaigns/{cid}/submit", json={"by": "Mia"}, headers=admin)
    assert bare.status_code == 422 and "SAFE-3" in bare.json()["detail"]
    described = client.post("/campaigns", json={**body, "description": "Fiber for all"}, headers=admin).json()["id"]
    client.post(f"/campaigns/{described}/submit", json={"by": "Mia"}, headers=admin)
    own = reviewed_in_console(app, actor, described, "Mia", "reject", "x")
    assert own.status_code == 403 and "SAFE-4" in own.text  # Mia made it, and marketing does not review
    assert reviewed_in_console(app, actor, described, "Carl", "reject", "no notices on file").status_code == 303
    assert client.get(f"/campaigns/{described}", headers=admin).json()["status"] == "rejected"
    history = client.get(f"/campaigns/{described}", headers=admin).json()["history"]
    assert (history[-1]["status"], history[-1]["by"], history[-1]["reason"]) == (
        "rejected",
        "Carl",
        "no notices on file",
    )
    again = reviewed_in_console(app, actor, described, "Carl", "approve", "ok")
    assert again.status_code == 409 and "a rejected campaign cannot become approved" in again.text
    unknown = client.get(f"/campaigns/{uuid.uuid4()}/disclosures", headers=admin)
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    xml = client.get("/campaigns-report", params={"format": "xml"}, headers=admin)
    assert xml.status_code == 422 and "format" in xml.json()["detail"]
