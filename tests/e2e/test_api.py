"""The REST API end to end, through FastAPI's TestClient, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from cpniguard.access.service import create_api_key
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App
from cpniguard.clock import FixedClock
from cpniguard.customers.model import ListingStatus, ServiceCategory
from tests.conftest import T0, a_customer

DAY = timedelta(days=1)


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(create_app(app))


@pytest.fixture
def headers(app: App, actor: Actor) -> dict[str, str]:
    """A key with every scope but admin, as a calling system would be given."""
    _, secret = create_api_key(app.uow(), app.clock, actor, "crm", frozenset({"read", "write", "decide", "audit"}))
    return {"X-API-Key": secret}


def open_account(client: TestClient, headers: dict[str, str], **fields: object) -> str:
    body: dict[str, object] = {"name": "Ada Lovelace", "telephone_numbers": ["+12025550123"], **fields}
    answer = client.post("/customers", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def record(client: TestClient, headers: dict[str, str], customer: str, event: str, channel: str, **extra: str) -> dict:
    answer = client.post(
        f"/customers/{customer}/consent-events", json={"event": event, "channel": channel, **extra}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def decide(client: TestClient, headers: dict[str, str], customer: str, purpose: str, **extra: str) -> dict:
    answer = client.post(f"/customers/{customer}/checks", json={"purpose": purpose, **extra}, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_health_answers_ok_with_the_schema_revision_and_needs_no_key(client: TestClient) -> None:
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "schema_revision": "0012"}


def test_openapi_document_describes_every_route_and_the_docs_page_is_served(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["info"]["title"] == "cpniguard"
    assert set(document["paths"]) == {
        "/health",
        "/customers",
        "/customers/{customer_id}",
        "/customers/{customer_id}/consent-events",
        "/customers/{customer_id}/consent",
        "/customers/{customer_id}/checks",
        "/checks/batch",
        "/audit/verify",
        "/audit/entries",
        "/audit/checkpoints",
        "/classification",
        "/customers/{customer_id}/contacts",
        "/customers/{customer_id}/contacts/change",
        "/customers/{customer_id}/codes",
        "/customers/{customer_id}/codes/confirm",
        "/customers/{customer_id}/credentials/{kind}",
        "/customers/{customer_id}/credentials/{kind}/verify",
        "/customers/{customer_id}/credentials/{kind}/lock",
        "/alerts",
        "/notifications",
        "/sessions",
        "/sessions/{session_id}/routes",
        "/sessions/{session_id}/releases",
        "/sessions/{session_id}/close",
        "/sessions/{session_id}/one-time-approval",
        "/sessions/{session_id}/use-on-call",
        "/users",
        "/campaigns",
        "/campaigns/{campaign_id}",
        "/campaigns/{campaign_id}/submit",
        "/campaigns/{campaign_id}/complete",
        "/campaigns/{campaign_id}/archive",
        "/campaigns/{campaign_id}/disclosures",
        "/campaigns/{campaign_id}/audience",
        "/campaigns/{campaign_id}/export",
        "/campaigns-report",
        "/opt-out-notices",
        "/opt-out-notices/due",
        "/opt-out-failures",
        "/breach-deadlines",
        "/breaches",
        "/breaches/{incident}",
        "/breaches/{incident}/affected",
        "/breaches/{incident}/agency-notice",
        "/breaches/{incident}/consultations",
        "/breaches/{incident}/customer-notices",
        "/breaches/{incident}/determination",
        "/breaches/{incident}/directions",
        "/breaches/{incident}/harm",
        "/breaches/{incident}/notes",
        "/calendar/closures",
        "/calendar/closures/{day}",
        "/certifications",
        "/certifications/{certification_id}",
        "/certifications/{certification_id}/pdf",
        "/complaints",
        "/complaints/counts",
        "/complaints/{complaint_id}/close",
        "/data-broker-actions",
        "/privacy-policy",
        "/privacy-policy/notice",
        "/privacy-policy/versions",
        "/training",
        "/training/due",
        "/users/{name}/roles",
    }
    check = document["paths"]["/customers/{customer_id}/checks"]["post"]
    assert check["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DecisionOut"
    }
    assert check["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
    assert "marketing-communications" in document["components"]["schemas"]["Purpose"]["enum"]
    assert {"APIKeyHeader", "HTTPBearer"} <= set(document["components"]["securitySchemes"])
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    # Served from the package, not a CDN: the page works on a closed network.
    assert "cdn." not in docs.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/docs-assets/{asset}" in docs.text
        assert client.get(f"/docs-assets/{asset}").status_code == 200


def test_an_account_opened_over_the_api_is_shown_and_found(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.post(
        "/customers",
        json={
            "name": "  Grace   Hopper ",
            "telephone_numbers": ["+1 202 555 0199"],
            "emails": ["Grace@Example.com"],
            "postal_addresses": ["1 Navy Yard, Washington, DC 20374"],
            "services": ["wireless", "voicemail"],
            "business": True,
            "language": "de",
            "listing_status": "published",
        },
        headers=headers,
    )
    assert answer.status_code == 201
    opened = answer.json()
    assert opened["name"] == "Grace Hopper"
    assert (opened["kind"], opened["language"], opened["listing_status"]) == ("business", "de", "published")
    assert [s["category"] for s in opened["services"]] == ["wireless", "voicemail"]
    assert [(c["kind"], c["value"], c["of_record"]) for c in opened["contacts"]] == [
        ("telephone", "+12025550199", True),
        ("email", "Grace@example.com", False),  # DEF-5: not of record before 30 days on the account
        ("postal", "1 Navy Yard, Washington, DC 20374", False),
    ]
    shown = client.get(f"/customers/{opened['id']}", headers=headers)
    assert shown.json() == opened
    found = client.get("/customers", params={"q": "+12025550199"}, headers=headers).json()
    assert [c["id"] for c in found] == [opened["id"]]
    assert client.get("/customers", params={"q": "hopper", "limit": 1}, headers=headers).json() == found


def test_showing_an_account_is_recorded_in_the_ledger_with_the_calling_system(
    client: TestClient, headers: dict[str, str]
) -> None:
    customer = open_account(client, headers)
    client.get(f"/customers/{customer}", headers=headers)
    entries = client.get("/audit/entries", params={"customer": customer}, headers=headers).json()
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("customers:account:viewed", "api-key:crm"),
        ("customers:account:opened", "api-key:crm"),
    ]


def test_an_account_can_be_opened_as_of_an_earlier_day(client: TestClient, headers: dict[str, str]) -> None:
    answer = client.post(
        "/customers",
        json={"name": "Ada", "telephone_numbers": ["+12025550123"], "emails": ["ada@example.com"], "at": "2026-01-02"},
        headers=headers,
    )
    assert answer.json()["created_at"] == "2026-01-02T05:00:00+00:00"  # midnight in New York
    assert answer.json()["contacts"][1]["of_record"] is True  # on the account for 59 days by now


def test_a_consent_event_is_recorded_and_answers_the_approvals_now(client: TestClient, headers: dict[str, str]) -> None:
    customer = open_account(client, headers)
    recorded = record(client, headers, customer, "opt-in", "web", evidence="form 17")
    assert recorded["customer"] == customer
    assert recorded["event"]["event"] == "opt-in"
    assert recorded["event"]["recorded_by"] == "api-key:crm"
    assert recorded["event"]["evidence"] == "form 17"
    assert recorded["approvals"]["opt_in_active"] is True
    assert recorded["approvals"]["objection_active"] is False


def test_consent_at_a_past_moment_shows_the_approvals_and_history_of_that_moment(
    app: App, actor: Actor, client: TestClient, headers: dict[str, str]
) -> None:
    customer = str(a_customer(app, actor, at=T0 - 60 * DAY).id)
    record(client, headers, customer, "opt-in", "web", at="2026-02-01")
    record(client, headers, customer, "opt-out", "phone", at="2026-02-20")

    then = client.get(f"/customers/{customer}/consent", params={"at": "2026-02-10"}, headers=headers).json()
    now = client.get(f"/customers/{customer}/consent", headers=headers).json()

    assert then["at"] == "2026-02-10T05:00:00+00:00"
    assert (then["approvals"]["opt_in_active"], then["approvals"]["objection_active"]) == (True, False)
    assert [e["event"] for e in then["history"]] == ["opt-in"]
    assert (now["approvals"]["opt_in_active"], now["approvals"]["objection_active"]) == (False, True)
    assert [e["event"] for e in now["history"]] == ["opt-in", "opt-out"]


@pytest.mark.parametrize(
    ("purpose", "citation"),
    [
        ("provide-service", "47 U.S.C. 222(c)(1)"),
        ("billing", "47 U.S.C. 222(d)(1)"),
        ("fraud-protection", "47 U.S.C. 222(d)(2)"),
        ("emergency", "47 U.S.C. 222(d)(4)"),
    ],
)
def test_statutory_purposes_are_allowed_with_their_citation(
    client: TestClient, headers: dict[str, str], purpose: str, citation: str
) -> None:
    customer = open_account(client, headers)
    decision = decide(client, headers, customer, purpose)
    assert decision == {
        "customer": customer,
        "purpose": purpose,
        "allowed": True,
        "basis": "statute",
        "basis_ref": citation,
        "citation": citation,
        "reason": decision["reason"],
        "at": T0.isoformat(),
    }


def test_legal_process_is_allowed_only_with_the_order_named(client: TestClient, headers: dict[str, str]) -> None:
    customer = open_account(client, headers)
    assert decide(client, headers, customer, "legal-process")["allowed"] is False
    named = decide(client, headers, customer, "legal-process", reference="subpoena 2026-17")
    assert (named["allowed"], named["reason"]) == (True, "required by law: subpoena 2026-17")


def test_marketing_is_denied_without_an_approval_on_record(client: TestClient, headers: dict[str, str]) -> None:
    customer = open_account(client, headers)
    decision = decide(client, headers, customer, "marketing-communications")
    assert (decision["allowed"], decision["basis"], decision["reason"]) == (False, "none", "no approval on record")
    assert decide(client, headers, customer, "marketing-third-party")["reason"] == "opt-in required"


def test_marketing_is_allowed_from_the_31st_day_after_an_emailed_opt_out_notice(
    app: App, clock: FixedClock, client: TestClient, headers: dict[str, str]
) -> None:
    customer = open_account(client, headers)
    notice = record(client, headers, customer, "opt-out-notice-sent", "email")["event"]["id"]

    assert decide(client, headers, customer, "marketing-communications", at="2026-04-01")["allowed"] is False
    by_day = decide(client, headers, customer, "marketing-communications", at="2026-04-02")
    clock.move_to(T0 + 31 * DAY)
    by_clock = decide(client, headers, customer, "marketing-communications")

    for decision in (by_day, by_clock):
        assert (decision["allowed"], decision["basis"], decision["basis_ref"]) == (True, "consent", notice)
        assert (decision["reason"], decision["citation"]) == ("opt-out approval", "47 CFR 64.2008(d)")
    assert by_clock["at"] == (T0 + 31 * DAY).isoformat()


def test_an_objection_denies_marketing_even_after_the_waiting_period(
    client: TestClient, headers: dict[str, str]
) -> None:
    customer = open_account(client, headers)
    record(client, headers, customer, "opt-out-notice-sent", "email", at="2026-01-02")
    objection = record(client, headers, customer, "opt-out", "phone")["event"]["id"]
    for purpose in ("marketing-communications", "marketing-third-party", "marketing-subscribed"):
        decision = decide(client, headers, customer, purpose)
        assert (decision["allowed"], decision["reason"], decision["basis_ref"]) == (
            False,
            "customer objected",
            objection,
        )


def test_an_opt_in_allows_third_party_marketing(client: TestClient, headers: dict[str, str]) -> None:
    customer = open_account(client, headers)
    opt_in = record(client, headers, customer, "opt-in", "web")["event"]["id"]
    decision = decide(client, headers, customer, "marketing-third-party")
    assert (decision["allowed"], decision["basis"], decision["basis_ref"]) == (True, "consent", opt_in)


def test_offers_within_the_subscribed_categories_need_no_approval(client: TestClient, headers: dict[str, str]) -> None:
    customer = open_account(client, headers, services=["wireless"])
    assert decide(client, headers, customer, "marketing-subscribed", offer="wireless")["allowed"] is True
    outside = decide(client, headers, customer, "marketing-subscribed", offer="long-distance")
    assert (outside["allowed"], outside["reason"]) == (False, "offer outside subscribed categories")


def test_directory_publishing_needs_a_published_listing(
    app: App, actor: Actor, client: TestClient, headers: dict[str, str]
) -> None:
    published = str(a_customer(app, actor, listing_status=ListingStatus.PUBLISHED).id)
    unlisted = str(a_customer(app, actor, listing_status=ListingStatus.UNLISTED).id)
    assert decide(client, headers, published, "directory-publishing")["allowed"] is True
    assert decide(client, headers, unlisted, "directory-publishing")["reason"] == "listing not published"


def test_a_batch_counts_allowed_and_denied_customers_by_reason(
    app: App, actor: Actor, client: TestClient, headers: dict[str, str]
) -> None:
    approving, objecting, silent = (str(a_customer(app, actor).id) for _ in range(3))
    record(client, headers, approving, "opt-in", "web")
    record(client, headers, objecting, "opt-out", "phone")

    answer = client.post("/checks/batch", json={"purpose": "marketing-communications"}, headers=headers)
    with_ids = client.post(
        "/checks/batch",
        json={"purpose": "marketing-communications", "customers": [approving, silent], "include_ids": True},
        headers=headers,
    )

    assert answer.json() == {
        "purpose": "marketing-communications",
        "at": T0.isoformat(),
        "total": 3,
        "allowed": 1,
        "denied": 2,
        "denied_by_reason": {"customer objected": 1, "no approval on record": 1},
    }
    assert with_ids.json()["total"] == 2
    assert with_ids.json()["allowed_customers"] == [approving]
    assert client.post("/checks/batch", json={"purpose": "billing"}, headers=headers).json()["allowed"] == 3


def test_every_decision_is_in_the_ledger_and_the_chain_verifies(
    client: TestClient, headers: dict[str, str], app: App
) -> None:
    customer = open_account(client, headers)
    purposes = ["billing", "marketing-communications", "emergency", "marketing-third-party"]
    decisions = [decide(client, headers, customer, p) for p in purposes]
    client.post("/checks/batch", json={"purpose": "billing"}, headers=headers)

    entries = client.get(
        "/audit/entries", params={"customer": customer, "action": "decisions:cpni-use"}, headers=headers
    ).json()
    batch = client.get("/audit/entries", params={"action": "decisions:cpni-use:batch"}, headers=headers).json()
    verification = client.get("/audit/verify", headers=headers).json()

    newest_first = list(reversed(decisions))
    assert [(e["purpose"], e["outcome"]) for e in entries] == [
        (d["purpose"], "allowed" if d["allowed"] else "denied") for d in newest_first
    ]
    assert {e["actor"] for e in entries} == {"api-key:crm"}
    assert [e["reason"] for e in entries] == [d["reason"] for d in newest_first]
    assert batch[0]["details"]["allowed"] == 1
    with app.uow() as uow:
        stored = uow.audit.count()
    assert verification["ok"] is True
    assert verification["entries"] == stored
    assert verification["checkpoints_checked"] >= 1  # the test app signs every 5 entries


def test_a_signed_checkpoint_covers_the_head_of_the_chain(client: TestClient, headers: dict[str, str]) -> None:
    open_account(client, headers)
    answer = client.post("/audit/checkpoints", headers=headers)
    assert answer.status_code == 201
    head = client.get("/audit/entries", params={"limit": 2}, headers=headers).json()
    assert head[0]["action"] == "audit:checkpoint:signed"
    assert (answer.json()["seq"], answer.json()["head_hash"]) == (head[1]["seq"], head[1]["hash"])
    assert client.get("/audit/verify", headers=headers).json()["ok"] is True


def test_the_classification_lists_every_stored_customer_field(client: TestClient, headers: dict[str, str]) -> None:
    fields = client.get("/classification", headers=headers).json()
    assert {"table": "services", "column": "category", "class": "cpni", "call_detail": False} in fields
    assert {"table": "call_detail_records", "column": "other_party_number", "class": "cpni", "call_detail": True} in (
        fields
    )
    assert {f["class"] for f in fields} >= {"cpni", "protected", "account-information", "not-cpni"}


def test_a_bearer_token_works_like_the_api_key_header(client: TestClient, headers: dict[str, str]) -> None:
    customer = open_account(client, headers)
    answer = client.get(f"/customers/{customer}", headers={"Authorization": f"Bearer {headers['X-API-Key']}"})
    assert answer.status_code == 200


def test_services_subscribed_are_listed_once_in_the_order_given(client: TestClient, headers: dict[str, str]) -> None:
    customer = client.post(
        "/customers",
        json={"name": "Ada", "telephone_numbers": ["+12025550123"], "services": ["ucaas", "sip-trunk", "ucaas"]},
        headers=headers,
    ).json()
    assert [s["category"] for s in customer["services"]] == [ServiceCategory.UCAAS, ServiceCategory.SIP_TRUNK]


def test_a_checkpoint_can_be_signed_where_one_was_made_automatically(
    app: App, actor: Actor, client: TestClient, headers: dict[str, str]
) -> None:
    while True:  # the test app signs every 5 entries; stop when the head has just been signed
        with app.uow() as uow:
            seq, _ = uow.audit.head()
        if seq % 5 == 0:
            break
        a_customer(app, actor)
    answer = client.post("/audit/checkpoints", headers=headers)
    assert answer.status_code == 201, answer.text
