"""Rule 9 over the whole e2e run: the log production would have written (tests/log_scan.py)
holds no value the tests put in as CPNI or as a secret, and nothing that looks unmasked."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from cpniguard.access.service import create_api_key
from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App
from tests.log_scan import FULL_RUN, FULL_RUN_RECORDS, RunLog, find_leaks, report

NUMBER, EMAIL = "+13125550188", "grace.hopper@example.com"


class BrokenClock:
    """A bug whose exception text names a customer's number and address."""

    def now(self) -> datetime:
        raise RuntimeError(f"no time for {NUMBER} or {EMAIL}")


@pytest.mark.sqlite_only
def test_a_bug_on_any_route_reaches_the_server_log_with_its_traceback_masked(
    app: App, actor: Actor, run_log: RunLog
) -> None:
    run_log.sentinels.add("planted", NUMBER)
    run_log.sentinels.add("planted", EMAIL)
    _, secret = create_api_key(app.uow(), app.clock, actor, "crm", frozenset({"read"}))
    client = TestClient(create_app(app), raise_server_exceptions=False)
    logged_before = len(run_log.lines())
    app.clock = BrokenClock()
    answer = client.get("/customers", params={"q": "Ada"}, headers={"X-API-Key": secret})
    assert answer.status_code == 500
    logged = "\n".join(run_log.lines()[logged_before:])
    assert "ERROR uvicorn.error: Exception in ASGI application\nTraceback" in logged
    assert "RuntimeError: no time for +*********88 or g***@example.com" in logged


def test_no_log_line_of_the_run_holds_cpni_or_a_secret(run_log: RunLog) -> None:
    """Runs last (tests/log_scan.py orders it so). Under pytest-xdist it scans its worker's log,
    and the controller scans every worker's log once all are done (tests/log_scan.py)."""
    if run_log.e2e_tests_run == 0:
        pytest.skip("no e2e test of another file ran in this session: there is no log to scan")
    lines = run_log.lines()
    records = run_log.records(lines)
    assert records, f"{run_log.e2e_tests_run} e2e tests ran and nothing was logged: is the logging installed?"
    if run_log.e2e_tests_run >= FULL_RUN and not os.environ.get("PYTEST_XDIST_WORKER"):  # else the controller
        assert records >= FULL_RUN_RECORDS, f"the whole e2e run logged only {records} records"
    assert len(run_log.sentinels.values) > 2, "no secret or CPNI was registered: are the hooks installed?"
    findings = find_leaks(lines, run_log.sentinels)
    assert not findings, report(run_log.path, findings)
