"""A full disk (issue 7): every write that needs room answers 503 with the reason, the CLI exits
2 with one line, nothing is half-written, and the ledger still verifies once there is room again.

The full disk here is SQLite's own: `PRAGMA max_page_count` caps the file at the pages it holds,
so the engine itself raises SQLITE_FULL ("database or disk is full") when a write needs a new
page, as it does when the file system has no block left. A real file system cannot be made
tiny without root; `tests/soak/test_disk_full_pg.py` fills a real one under PostgreSQL.

A full disk refuses only what needs new room: rows that fit in pages already held still go in,
on SQLite and on PostgreSQL alike. So the tests first spend what is left with decisions (each
appends to the ledger), as a ledger growing on a full disk would, until the first refusal. From
then on every use case that records anything in the ledger is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Table, event, select
from sqlalchemy.pool import Pool

from cpniguard.access.service import create_api_key
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.audit.service import verify
from cpniguard.bootstrap import App
from cpniguard.cli.main import run
from cpniguard.db import tables as t
from tests.conftest import T0, TEST_CPNI_KEY, TEST_SIGNING_KEY, a_customer
from tests.integration.auth_support import row_counts

WRITTEN: tuple[Table, ...] = (
    *(t.customers, t.services, t.contacts, t.consent_events, t.consent_state),
    *(t.audit_entries, t.audit_checkpoints, t.outbox),
)
SQLITE_FULL = "database or disk is full"
MOST_DECISIONS_TO_FILL = 2_000  # a page holds a few dozen ledger entries; this is far more


def api_key(app: App, actor: Actor) -> dict[str, str]:
    _, secret = create_api_key(app.uow(), app.clock, actor, "crm", frozenset({"read", "write", "decide", "audit"}))
    return {"X-API-Key": secret}


def stored(app: App) -> dict[str, Any]:
    """What a refused write must leave as it was: the row count of every table a write touches,
    and the ledger's head."""
    with app.engine.connect() as conn:
        head = conn.execute(select(t.audit_head.c.seq, t.audit_head.c.hash)).one()
    return {**row_counts(app, *WRITTEN), "audit head": tuple(head)}


def writes_that_need_room(client: TestClient, customer: str, headers: dict[str, str]) -> dict[str, httpx.Response]:
    """One of each kind of write: a decision (the ledger), a new customer with contacts, a
    consent change, and a contact change (which queues the account-change notice, ACC-1)."""
    post = client.post
    return {
        "decision": post(f"/customers/{customer}/checks", json={"purpose": "billing"}, headers=headers),
        "new customer": post(
            "/customers",
            json={"name": "Grace Hopper", "telephone_numbers": ["+12025550188"], "emails": ["grace@example.com"]},
            headers=headers,
        ),
        "consent change": post(
            f"/customers/{customer}/consent-events", json={"event": "opt-out", "channel": "web"}, headers=headers
        ),
        "contact change": post(
            f"/customers/{customer}/contacts", json={"kind": "email", "value": "ada.new@example.com"}, headers=headers
        ),
    }


def spend_the_room_left(
    app: App, client: TestClient, customer: str, headers: dict[str, str]
) -> tuple[int, httpx.Response]:
    """Decisions until the first refusal: how many still went in, and the refusal. Each decision
    answered is in the ledger, and the refused one is not."""
    entries = stored(app)["audit_entries"]
    for done in range(MOST_DECISIONS_TO_FILL):
        answer = client.post(f"/customers/{customer}/checks", json={"purpose": "billing"}, headers=headers)
        if answer.status_code != 200:
            assert stored(app)["audit_entries"] == entries + done, "a refused decision is in the ledger"
            return done, answer
    raise AssertionError(f"{MOST_DECISIONS_TO_FILL} decisions went in: the disk is not full")


def refused_as_full(answer: httpx.Response, reason: str) -> bool:
    body = answer.json()
    return answer.status_code == 503 and body["error"] == "storage_unavailable" and reason in body["detail"]


def cli_customers_add(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`cpniguard customers add` in this process, as tests/e2e/test_cli.py runs the CLI."""
    capsys.readouterr()
    try:
        run(["--database-url", url, "customers", "add", "--name", "Grace Hopper", "--phone", "+12025550188"])
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def cli_environment(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """The CLI signs and seals with the keys the app under test uses."""
    monkeypatch.chdir(folder)
    monkeypatch.setenv("CPNIGUARD_AUDIT_SIGNING_KEY", TEST_SIGNING_KEY)
    monkeypatch.setenv("CPNIGUARD_CPNI_KEY", TEST_CPNI_KEY)


@contextmanager
def no_page_beyond(app: App) -> Iterator[None]:
    """Every connection opened to the app's SQLite file meanwhile (the app's, the CLI's) may not
    grow it past the pages it holds now: SQLite answers SQLITE_FULL, as on a full disk."""
    database = Path(str(app.engine.url.database)).resolve()
    with closing(sqlite3.connect(database)) as probe:
        pages = int(probe.execute("PRAGMA page_count").fetchone()[0])

    def cap(dbapi_connection: Any, _record: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            opened = dbapi_connection.execute("PRAGMA database_list").fetchone()[2]
            if opened and Path(opened).resolve() == database:
                dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(Pool, "connect", cap)
    app.engine.dispose()  # pooled connections were opened without the cap
    try:
        yield
    finally:
        event.remove(Pool, "connect", cap)
        app.engine.dispose()


@pytest.fixture
def customer(app: App, actor: Actor) -> str:
    return str(a_customer(app, actor, at=T0 - timedelta(days=60)).id)


@pytest.mark.sqlite_only
def test_on_a_full_disk_every_write_answers_503_and_nothing_is_half_written_issue_7(
    app: App, actor: Actor, customer: str
) -> None:
    headers = api_key(app, actor)
    client = TestClient(create_app(app))
    with no_page_beyond(app):
        _, first_refusal = spend_the_room_left(app, client, customer, headers)
        assert refused_as_full(first_refusal, SQLITE_FULL), first_refusal.text
        before = stored(app)
        for kind, answer in writes_that_need_room(client, customer, headers).items():
            assert refused_as_full(answer, SQLITE_FULL), f"{kind}: {answer.status_code} {answer.text}"
        # Reading CPNI records the access in the ledger in the same transaction: not served.
        assert refused_as_full(client.get(f"/customers/{customer}", headers=headers), SQLITE_FULL)
        # What writes nothing is still answered: the service's health and the ledger's verification.
        assert client.get("/health").status_code == 200
        assert client.get("/audit/verify", headers=headers).json()["ok"] is True
        assert stored(app) == before
    assert stored(app) == before
    assert verify(app.uow(), app.verifier).ok
    # With room again the same writes go in, and each table counted above grows: the refused
    # writes would have touched them.
    for kind, answer in writes_that_need_room(client, customer, headers).items():
        assert answer.status_code in (200, 201), f"{kind}: {answer.status_code} {answer.text}"
    after = stored(app)
    grown = {"customers", "contacts", "consent_events", "audit_entries", "outbox"}
    assert all(after[name] > before[name] for name in grown), (before, after)


@pytest.mark.sqlite_only
def test_on_a_full_disk_the_cli_exits_2_with_one_line_and_writes_nothing_issue_7(
    app: App,
    actor: Actor,
    customer: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    headers = api_key(app, actor)
    client = TestClient(create_app(app))
    cli_environment(monkeypatch, tmp_path)
    with no_page_beyond(app):
        spend_the_room_left(app, client, customer, headers)
        before = stored(app)
        code, err = cli_customers_add(str(app.engine.url), capsys)
        assert code == 2 and err == f"error: the change was not stored: {SQLITE_FULL}\n", err
    assert stored(app) == before
    assert verify(app.uow(), app.verifier).ok
    code, err = cli_customers_add(str(app.engine.url), capsys)
    assert code == 0, err


REFUSE_CHECKPOINTS = """
CREATE FUNCTION refuse_as_a_full_disk() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$;
CREATE TRIGGER full_disk BEFORE INSERT ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION refuse_as_a_full_disk();
"""


def test_a_checkpoint_refused_after_its_change_committed_does_not_answer_503_for_a_stored_change_issue_7(
    app: App, actor: Actor, customer: str, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL signs a checkpoint due in a transaction of its own, after the change's commit.
    On a full disk it answered 503 "not stored" for a decision that was in the ledger (found by
    tests/soak/test_disk_full_pg.py); a retried POST would have stored a change twice."""
    if app.engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores the checkpoint in the change's own transaction: both or neither")
    headers = api_key(app, actor)
    client = TestClient(create_app(app))
    with app.engine.begin() as conn:
        conn.exec_driver_sql(REFUSE_CHECKPOINTS)
    before = stored(app)
    answers = [
        client.post(f"/customers/{customer}/checks", json={"purpose": "billing"}, headers=headers) for _ in range(6)
    ]
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    after = stored(app)
    assert after["audit_entries"] == before["audit_entries"] + 6
    assert after["audit_checkpoints"] == before["audit_checkpoints"]
    assert "not stored: the database's disk is full" in caplog.text
    assert verify(app.uow(), app.verifier).ok
