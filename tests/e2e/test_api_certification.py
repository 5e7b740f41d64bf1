"""The annual certification over HTTP: POST /certifications builds and links its PDF, GET lists
by year and prints the PDF again (CERT-1..CERT-5); refusals are 4xx with a reason."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from cpniguard.access.service import create_api_key
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App
from tests.integration.test_certification import BUILT_AT, seed_year


@pytest.fixture
def client(app: App) -> TestClient:
    app.clock.move_to(BUILT_AT)  # type: ignore[attr-defined]
    return TestClient(create_app(app))


def _key(app: App, actor: Actor, name: str, *scopes: str) -> dict[str, str]:
    _, secret = create_api_key(app.uow(), app.clock, actor, name, frozenset(scopes))
    return {"X-API-Key": secret}


@pytest.fixture
def writer(app: App, actor: Actor) -> dict[str, str]:
    return _key(app, actor, "privacy-office", "read", "write")


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_cert_4_post_builds_a_draft_for_2025_with_both_due_dates_and_a_link_to_its_pdf(
    client: TestClient, writer: dict[str, str]
) -> None:
    made = client.post("/certifications", json={"year": 2025}, headers=writer)
    assert made.status_code == 201, made.text
    doc = made.json()
    assert (doc["due"], doc["legal_due"]) == ("2026-02-27", "2026-03-02")
    assert doc["draft"] is True and doc["missing"][0].startswith("CERT-1")
    assert doc["links"]["pdf"] == f"/certifications/{doc['id']}/pdf"
    pdf = client.get(doc["links"]["pdf"], headers=writer)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["x-matches-recorded"] == "true"
    assert all("DRAFT" in page for page in _pages(pdf.content))


def test_cert_1_cert_5_an_officer_signing_a_seeded_year_gets_a_final_certification(
    app: App, actor: Actor, writer: dict[str, str]
) -> None:
    seed_year(app, actor)
    settings = replace(app.settings, carrier_name="Acme Telephone", form_499_id="812345", discipline_policy_id="HR-7")
    client = TestClient(create_app(replace(app, settings=settings)))
    body = {"year": 2026, "signatory": "Olivia", "filing_date": "2027-02-19"}
    doc = client.post("/certifications", json=body, headers=writer).json()
    assert doc["draft"] is False and doc["missing"] == []
    assert doc["complaints"] == {"employee-access": 1, "unauthorized-disclosure": 1, "online-access": 2, "other": 1}
    assert doc["header"]["filing_date"] == "2027-02-19"
    pages = _pages(client.get(doc["links"]["pdf"], headers=writer).content)
    assert not any("DRAFT" in page for page in pages)
    assert "Acme Telephone" in pages[0] and "812345" in pages[0]


def test_builds_are_listed_by_year_and_shown_one_by_one(client: TestClient, writer: dict[str, str]) -> None:
    first = client.post("/certifications", json={"year": 2025}, headers=writer).json()
    client.post("/certifications", json={"year": 2026}, headers=writer)
    listed = client.get("/certifications", params={"year": 2025}, headers=writer).json()
    assert [c["id"] for c in listed] == [first["id"]]
    assert listed[0]["pdf"] == first["links"]["pdf"]
    assert len(client.get("/certifications", headers=writer).json()) == 2
    shown = client.get(f"/certifications/{first['id']}", headers=writer).json()
    assert shown["due"] == "2026-02-27" and "statement" not in shown


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"year": 1999}, "reporting year must be between 2000 and 2028"),  # built in February 2027
        ({"year": 2029}, "reporting year must be between 2000 and 2028"),
        ({"year": 2026, "signatory": "Nobody"}, "unknown signatory: 'Nobody'"),
        ({"year": 2026, "filing_date": "2026-06-01"}, "before the reporting year 2026 has ended"),
        ({"year": 2026, "filing_date": "soon"}, "filing_date"),
        ({"year": "twenty"}, "year"),
        ({"year": 2026, "colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_records_nothing(
    client: TestClient, writer: dict[str, str], body: dict[str, object], reason: str
) -> None:
    refused = client.post("/certifications", json=body, headers=writer)
    assert refused.status_code == 422, refused.text
    assert reason in refused.json()["detail"]
    assert client.get("/certifications", headers=writer).json() == []


def test_a_template_that_does_not_render_is_a_400_with_the_reason(
    app: App, actor: Actor, writer: dict[str, str]
) -> None:
    broken = replace(app.settings, certification_template="/nonexistent/ours.j2")
    client = TestClient(create_app(replace(app, settings=broken)))
    refused = client.post("/certifications", json={"year": 2026}, headers=writer)
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "domain_error",
        "detail": "the certification template /nonexistent/ours.j2 cannot be read: No such file or directory",
    }


def test_building_needs_the_write_scope_and_reading_the_read_scope(
    client: TestClient, app: App, actor: Actor, writer: dict[str, str]
) -> None:
    reader = _key(app, actor, "auditor-tool", "read")
    assert client.post("/certifications", json={"year": 2026}, headers=reader).status_code == 403
    assert client.get("/certifications", headers=reader).status_code == 200
    assert client.get("/certifications").status_code == 401


def test_an_unknown_certification_is_a_404(client: TestClient, writer: dict[str, str]) -> None:
    assert client.get("/certifications/not-an-id/pdf", headers=writer).status_code == 404
    missing = client.get("/certifications/3f1c2d8e-4a5b-4c6d-8e9f-0a1b2c3d4e5f/pdf", headers=writer)
    assert missing.status_code == 404 and "unknown certification" in missing.json()["detail"]
