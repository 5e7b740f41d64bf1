"""Browser tests: Playwright for Python driving Debian's headless chromium against a live server.

Without a chromium on this machine the tests skip with the reason shown, except in CI, where
`.ci/run` installs it and they must run. Every page a journey visits is saved as a screenshot
under `test-artifacts/screenshots/`.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.db.migrate import upgrade
from tests.conftest import PG_REQUIRED, TEST_CPNI_KEY, TEST_SIGNING_KEY

CHROMIUM = os.environ.get("CPNIGUARD_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ADMIN = Actor("staff", "browser-tests", frozenset({"admin"}))


def _require_browser() -> None:
    if CHROMIUM is None:
        reason = "no chromium on this machine (apt-get install chromium)"
        if PG_REQUIRED:
            pytest.fail(f"browser tests are required in CI: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium per test module: Playwright's sync API keeps an event loop running in this
    thread while it is open, which later tests that call asyncio.run() must not find."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield launched
        launched.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[App, str]]:
    """The app served by uvicorn in a thread; (app, base URL). Notices are written to files."""
    _require_browser()
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        {},
        database_url=database_url,
        audit_signing_key=TEST_SIGNING_KEY,
        cpni_key=TEST_CPNI_KEY,
        outbox_dir=str(tmp_path / "outbox"),
        serve_worker=False,
        argon2_time_cost=1,  # cheap in tests (see tests/conftest.py)
        argon2_memory_kib=1024,
    )
    app = build(settings)
    upgrade(app.engine)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(app), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    app.close()


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Any:
    """`shot(page, label)` saves the page as test-artifacts/screenshots/<test>-<n>-<label>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    count = iter(range(1, 1000))

    def shot(page: Any, label: str) -> Path:
        path = SHOTS / f"{test}-{next(count):02d}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shot
