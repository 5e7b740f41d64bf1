"""Breach incidents over HTTP: the deadlines, the flow to the agency notice, and 4xx refusals."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from cpniguard.access.service import create_api_key
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App
from cpniguard.calendar import parse_when
from cpniguard.clock import FixedClock
from tests.conftest import a_customer


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(create_app(app))


@pytest.fixture
def writer(app: App, actor: Actor) -> dict[str, str]:
    _, secret = create_api_key(app.uow(), app.clock, actor, "privacy-office", frozenset({"read", "write"}))
    return {"X-API-Key": secret}


def test_cal_7_the_deadlines_endpoint_gives_the_worked_dates(client: TestClient, writer: dict[str, str]) -> None:
    found = client.get("/breach-deadlines", params={"determined": "2026-07-02"}, headers=writer).json()
    assert (found["law_enforcement_notice_due"], found["customer_notice_due"]) == ("2026-07-14", "2026-08-01")
    bad = client.get("/breach-deadlines", params={"determined": "July"}, headers=writer)
    assert bad.status_code == 422 and "ISO 8601" in bad.text
    assert client.get("/breach-deadlines", params={"determined": "2026-07-02"}).status_code == 401


def test_breach_4_an_incident_with_a_delay_order_over_http(
    client: TestClient, writer: dict[str, str], app: App, actor: Actor, clock: FixedClock
) -> None:
    clock.move_to(parse_when("2026-12-16T10:00"))
    customer = a_customer(app, actor, at=parse_when("2025-01-02"))
    body = {
        "title": "Misaddressed bills",
        "discovered_at": "2026-12-15",
        "intent": "inadvertent",
        "data_types": ["bills", "call-detail"],
        "circumstances": "a print run put bills in the wrong envelopes",
        "cpni_description": "December bills with call detail",
        "rules": "2023",
    }
    opened = client.post("/breaches", json=body, headers=writer)
    assert opened.status_code == 201, opened.text
    assert (opened.json()["covered_2007"], opened.json()["covered_2023"]) == (False, True)  # BREACH-7, BREACH23-1
    incident = opened.json()["id"]
    step = client.post(f"/breaches/{incident}/determination", json={"by": "Pat", "reason": "envelopes"}, headers=writer)
    assert step.json()["deadlines"]["customer_notice_due"] == "2027-01-15"
    listed = {"count": 1, "basis": "print log", "customers": [str(customer.id)]}
    assert client.post(f"/breaches/{incident}/affected", json=listed, headers=writer).status_code == 200
    order = {
        "direction": "directed",
        "agency": "FBI",
        "days": 30,
        "document_name": "order.pdf",
        "document_base64": base64.b64encode(b"%PDF- order").decode(),
    }
    assert (
        client.post(
            f"/breaches/{incident}/directions", json={**order, "document_base64": "%%"}, headers=writer
        ).status_code
        == 422
    )
    directed = client.post(f"/breaches/{incident}/directions", json=order, headers=writer)
    assert directed.status_code == 201 and directed.json()["deadlines"]["customer_notice_not_before"] == "2027-01-16"
    refused = client.post(f"/breaches/{incident}/customer-notices", json={}, headers=writer)
    assert refused.status_code == 409 and "agency notice" in refused.text
    assert client.get(f"/breaches/{incident}/agency-notice", headers=writer).json()["missing"]
    assert client.get("/breaches/not-an-id", headers=writer).status_code == 404
    closure = client.post("/calendar/closures", json={"day": "2026-12-24", "reason": "executive order"}, headers=writer)
    assert closure.status_code == 201
    assert client.get("/calendar/closures", headers=writer).json() == [
        {"day": "2026-12-24", "reason": "executive order"}
    ]
    assert client.delete("/calendar/closures/2026-12-24", headers=writer).status_code == 204
