"""A database that can no longer be written (a full disk, a read-only replica, a file made
read-only): every write answers 503 with the reason, and nothing is half-written (issue 7)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Table

from cpniguard.access.service import create_api_key
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.clock import FixedClock
from cpniguard.db import tables as t
from tests.conftest import T0, TEST_SIGNING_KEY, a_customer
from tests.integration.auth_support import row_counts

GRACE = {"name": "Grace Hopper", "telephone_numbers": ["+12025550188"]}
WRITTEN: tuple[Table, ...] = (t.customers, t.contacts, t.consent_events, t.audit_entries, t.outbox)


def read_only_url(database_url: str) -> str:
    """The same database, opened so that it cannot be written: SQLite's read-only mode, or
    PostgreSQL's read-only transactions (what a hot standby or a full disk gives)."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///file:{database_url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    return f"{database_url}%20-cdefault_transaction_read_only%3Don"


@pytest.fixture
def read_only(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[App]:
    settings = load_settings(
        {},
        database_url=read_only_url(database_url),
        audit_signing_key=TEST_SIGNING_KEY,
        audit_key_file=str(tmp_path / "k"),
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    built = build(settings, clock)
    yield built
    built.close()


def test_every_write_to_a_database_that_cannot_be_written_answers_503_and_writes_nothing(
    app: App, actor: Actor, read_only: App
) -> None:
    customer = str(a_customer(app, actor, at=T0 - timedelta(days=60)).id)
    _, secret = create_api_key(app.uow(), app.clock, actor, "crm", frozenset({"read", "write", "decide"}))
    headers = {"X-API-Key": secret}
    before = row_counts(app, *WRITTEN)
    client = TestClient(create_app(read_only))
    writes = [
        client.post(f"/customers/{customer}/checks", json={"purpose": "billing"}, headers=headers),
        client.post(
            "/customers", json={"name": "Grace Hopper", "telephone_numbers": ["+12025550188"]}, headers=headers
        ),
        client.post(
            f"/customers/{customer}/consent-events", json={"event": "opt-out", "channel": "web"}, headers=headers
        ),
        client.post(
            f"/customers/{customer}/contacts", json={"kind": "email", "value": "grace@example.com"}, headers=headers
        ),
    ]
    for answer in writes:
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"] == "storage_unavailable" and answer.json()["detail"]
    assert row_counts(app, *WRITTEN) == before
    assert client.get("/health").status_code in (200, 503)  # a read: answered either way, never a 500
