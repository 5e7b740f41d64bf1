"""`POST /customers/{id}/contacts[/change]` with `at`: the effective time of a contact change is
bounded (DEF-5). A refusal answers 422 `{error, detail}` and writes nothing; an accepted time is
the ledger entry's `effective_at`, and the notice is queued at the moment of the request."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cpniguard.access.service import create_api_key
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App
from cpniguard.clock import FixedClock
from cpniguard.db import tables as t
from tests.conftest import T0, a_customer

TWO_YEARS_AGO = T0 - timedelta(days=730)
ATTACKER = "attacker@evil.example"


@pytest.fixture
def client(app: App) -> TestClient:
    return TestClient(create_app(app))


@pytest.fixture
def staff(app: App, actor: Actor) -> dict[str, str]:
    _, secret = create_api_key(app.uow(), app.clock, actor, "agent-desktop", frozenset({"read", "write"}))
    return {"X-API-Key": secret}


@pytest.fixture
def customer(app: App, actor: Actor) -> str:
    return str(a_customer(app, actor, at=TWO_YEARS_AGO).id)


def stored(app: App) -> tuple[int, int, int]:
    """Ledger entries, outbox messages and contact rows: what a refusal must leave as it was."""
    with app.engine.connect() as conn:
        entries, messages, contacts = (
            int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (t.audit_entries, t.outbox, t.contacts)
        )
    return entries, messages, contacts


def change(client: TestClient, staff: dict[str, str], customer: str, at: datetime | str, path: str = "/change") -> Any:
    moment = at if isinstance(at, str) else at.isoformat()
    body = {"kind": "email", "value": ATTACKER, "at": moment}
    return client.post(f"/customers/{customer}/contacts{path}", json=body, headers=staff)


@pytest.mark.parametrize(
    ("at", "words"),
    [
        (T0 + timedelta(days=183), "in the future"),  # the future, as `--at 2026-09-01` was in March
        (T0 + timedelta(minutes=6), "in the future"),
        ("2026-01-31", "more than 24 hours ago"),  # of record at once, had it been taken (DEF-5)
        (T0 - timedelta(hours=25), "more than 24 hours ago"),
    ],
)
@pytest.mark.parametrize("path", ["/change", ""])
def test_def_5_a_change_dated_in_the_future_or_more_than_a_day_back_is_422_and_writes_nothing(
    app: App, client: TestClient, staff: dict[str, str], customer: str, at: datetime | str, words: str, path: str
) -> None:
    before = stored(app)
    answer = change(client, staff, customer, at, path)
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid_input" and words in answer.json()["detail"]
    assert set(answer.json()) == {"error", "detail"}
    assert stored(app) == before


def test_a_change_dated_before_the_latest_email_change_is_422_and_leaves_one_current_email(
    app: App, client: TestClient, staff: dict[str, str], customer: str
) -> None:
    body = {"kind": "email", "value": "ada@new.example", "at": (T0 - timedelta(hours=2)).isoformat()}
    assert client.post(f"/customers/{customer}/contacts/change", json=body, headers=staff).status_code == 200
    before = stored(app)
    answer = change(client, staff, customer, T0 - timedelta(hours=3))
    assert answer.status_code == 422 and "before the account's latest email change" in answer.json()["detail"]
    assert stored(app) == before
    shown = client.get(f"/customers/{customer}", headers=staff).json()
    assert [c["value"] for c in shown["contacts"] if c["kind"] == "email" and c["removed_at"] is None] == [
        "ada@new.example"
    ]


def test_an_accepted_time_is_recorded_as_effective_at_and_the_notice_is_created_now(
    app: App, client: TestClient, staff: dict[str, str], customer: str, clock: FixedClock
) -> None:
    effective = T0 - timedelta(hours=20)
    answer = change(client, staff, customer, effective)
    assert answer.status_code == 200, answer.text
    [new] = [c for c in answer.json()["contacts"] if c["value"] == ATTACKER]
    assert datetime.fromisoformat(new["added_at"]) == effective and new["of_record"] is False
    with app.engine.connect() as conn:
        entry = conn.execute(select(t.audit_entries).where(t.audit_entries.c.action == "customers:contact:changed"))
        details = entry.one().details
    assert datetime.fromisoformat(json.loads(details)["effective_at"]) == effective
    [notice] = client.get("/notifications", params={"customer": customer}, headers=staff).json()
    assert datetime.fromisoformat(notice["created_at"]) == clock.now() == T0
    assert notice["recipient"] == "ada@example.com"  # NOTIFY-5: the address of record before the change
