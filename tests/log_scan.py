"""Rule 9 on the e2e run: nothing the tests put in as CPNI or as a secret reaches a log line.

A pytest plugin (tests/conftest.py loads it). When the session holds e2e tests it
- installs the production logging configuration (`redaction.logging_config`: the same handler,
  redacting filter and format that `cpniguard serve`, `worker` and `mail listen` use) with the
  handler pointed at a file and every logger at DEBUG, except SQLAlchemy at WARNING (its INFO
  is every statement, which production never logs), Alembic at WARNING (each test's migration
  in its docstrings' words) and what production caps (`mail.log`);
- logs an exception that escapes the app under TestClient the way uvicorn does ("Exception in
  ASGI application" on `uvicorn.error`, with the traceback), since TestClient logs nothing;
- registers every secret and piece of CPNI as the code under test meets it: secrets hashed or
  verified (PINs, passwords, backup answers), one-time codes, API keys, web session tokens,
  customers' names and contact points, call detail and bills, secrets in the settings.

tests/e2e/test_log_scan.py runs last and fails on any line holding one of those values or
matching a pattern of unmasked data (`find_leaks`); tests/unit/test_log_scan.py plants lines.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import logging.config
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cpniguard.redaction import logging_config, redact

E2E = Path(__file__).parent / "e2e"
SCAN_TEST = "test_log_scan.py"
SHOWN = 20  # findings quoted in a failure message
FULL_RUN = 500  # e2e tests: fewer are a partial run (one file, -k), which may log little
FULL_RUN_RECORDS = 2000  # the whole e2e run writes about 5,000 (mostly httpx: one per request)

# Each pattern is something the redacting filter must have masked; none matches its masked form.
PATTERNS = {
    "telephone number": re.compile(r"\+\d(?:[ ()-]?\d){7,14}(?!\d)"),
    "email address": re.compile(r"[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    "API key": re.compile(r"cpg_[A-Za-z0-9_-]{8,}"),
    "argon2 hash": re.compile(r"\$argon2(?:id|i|d)\$v="),
    "SQL parameters": re.compile(r"\[parameters: (?!redacted\])"),
    "row values": re.compile(r"(?:Failing row contains |Key \([^)]*\)=)\((?!redacted\))"),
    "rejected input": re.compile(r"input_value=(?!\[redacted\])"),
    "named secret": re.compile(
        r"""(?i)\b(?:password|passwd|secret|token|api[_-]?key|pin)["']?\s*[=:]\s*(?!\[redacted\])["']?[^\s"',;&)\]}]{3}"""
    ),
    "password in a URL": re.compile(r"://[^/\s:@]+:(?!\[redacted\])[^/\s@]+@"),
    "bearer token": re.compile(r"(?i)\bbearer\s+(?!\[redacted\])[A-Za-z0-9._~+/=-]{6,}"),
}
WORD = re.compile(r"[a-z0-9]+")
# A number is whole with its separators: "15:00:00.482913", "127.0.0.1:48291" and
# "00000000-0000-4000-..." hold no PIN.
NOT_IN_A_NUMBER = (r"(?<![a-z0-9])(?<!\d[.,:-])", r"(?![a-z0-9])(?![.,:-]\d)")
NUMBER = re.compile(rf"{NOT_IN_A_NUMBER[0]}\d+(?:[.,:-]\d+)*{NOT_IN_A_NUMBER[1]}")
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")  # random: a group can be a PIN
WHOLE_NUMBER = re.compile(r"\d+(?:[.,:-]\d+)*")
SECRET_SETTING = re.compile(r"key$|token|password|secret")
SHORTEST, DISTINCT = 4, 3  # shorter or more uniform values ("0000") match by accident
RECORD_START = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ")  # the production format's start


@dataclass
class Sentinels:
    """The values the run put in, lower-cased, each with what it is."""

    values: dict[str, str] = field(default_factory=dict)
    # Off in a test that draws its input with Hypothesis: what it makes up from the API's own
    # words ("docs-assets" as a PIN) is in the log anyway, and the scan would find it there.
    registering: bool = True

    def add(self, kind: str, value: object) -> None:
        text = " ".join(str(value).split()).lower()
        if not self.registering or len(text) < SHORTEST or len(set(text)) < DISTINCT:
            return
        self.values.setdefault(text, kind)
        digits = text.removeprefix("+")
        if text.startswith("+") and digits.isdigit():  # E.164: also without "+" and country code 1
            self.values.setdefault(digits, kind)
            if digits.startswith("1") and len(digits) == 11:
                self.values.setdefault(digits[1:], kind)

    def add_cents(self, kind: str, cents: int) -> None:
        """An amount as a log line would show it, in dollars (bare cents, as short numbers,
        would be ports and line numbers by chance)."""
        if cents >= 1000:
            self.add(kind, f"{cents // 100}.{cents % 100:02d}")


@dataclass(frozen=True)
class Finding:
    line_number: int
    kinds: tuple[str, ...]
    shown: str  # the line with what was found replaced by its kind, then redacted


Hit = tuple[int, str, re.Pattern[str]]  # line index, kind, what matched


def find_leaks(lines: list[str], sentinels: Sentinels) -> list[Finding]:
    """One finding per line holding a registered value (as a whole word or number) or a
    pattern's match; the longest matches are replaced first in what is shown."""
    hits: dict[int, list[tuple[str, re.Pattern[str]]]] = {}
    for index, kind, pattern in [*_sentinel_hits(lines, sentinels), *_pattern_hits(lines)]:
        hits.setdefault(index, []).append((kind, pattern))
    findings = []
    for index, found in sorted(hits.items()):
        shown = lines[index]
        for kind, pattern in found:
            shown = pattern.sub(f"[{kind}]", shown)
        findings.append(Finding(index + 1, tuple(dict.fromkeys(kind for kind, _ in found)), redact(shown)))
    return findings


def _pattern_hits(lines: list[str]) -> list[Hit]:
    return [(i, kind, p) for i, line in enumerate(lines) for kind, p in PATTERNS.items() if p.search(line)]


def _sentinel_hits(lines: list[str], sentinels: Sentinels) -> list[Hit]:
    """A set lookup per value against the log's words and numbers; only a value whose every
    word is in the log is looked for line by line."""
    lowered = [UUID.sub("<id>", line.lower()) for line in lines]
    text = "\n".join(lowered)
    words, numbers = set(WORD.findall(text)), set(NUMBER.findall(text))
    hits = []
    for value, kind in sorted(sentinels.values.items(), key=lambda item: -len(item[0])):
        if WHOLE_NUMBER.fullmatch(value):
            if value not in numbers:
                continue
            pattern = re.compile(re.escape(value).join(NOT_IN_A_NUMBER), re.IGNORECASE)
        elif all(word in words for word in WORD.findall(value)):
            pattern = re.compile(rf"(?<![a-z0-9]){re.escape(value)}(?![a-z0-9])", re.IGNORECASE)
        else:
            continue
        hits += [(i, kind, pattern) for i, line in enumerate(lowered) if pattern.search(line)]
    return hits


def report(path: Path, findings: list[Finding]) -> str:
    quoted = [f"{path.name}:{f.line_number}: {', '.join(f.kinds)}: {f.shown}" for f in findings[:SHOWN]]
    more = f"\n... and {len(findings) - SHOWN} more" if len(findings) > SHOWN else ""
    return f"{len(findings)} log line(s) of the run hold CPNI or a secret (log: {path}):\n" + "\n".join(quoted) + more


# --- the session: production logging into a file, and the values registered -------------------


def session_logging_config(path: Path) -> dict[str, Any]:
    """Production's configuration; its one handler writes to `path`, and all loggers say all."""
    config = logging_config("DEBUG")
    config["handlers"]["stderr"].update({"class": "logging.FileHandler", "filename": str(path), "encoding": "utf-8"})
    config["root"]["level"] = "DEBUG"
    config["loggers"]["sqlalchemy"] = {"level": "WARNING"}
    config["loggers"]["alembic"] = {"level": "WARNING"}  # each test's migration, in its docstrings' words
    return config


UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")
GENERATORS = {"hypothesis", "schemathesis"}


@dataclass
class RunLog:
    """The session's log: written while e2e tests run (`on`), not while others do (`off`)."""

    path: Path
    sentinels: Sentinels = field(default_factory=Sentinels)
    e2e_tests_run: int = 0
    handler: logging.Handler | None = None
    levels_on: dict[str, int] = field(default_factory=dict)
    levels_off: dict[str, int] = field(default_factory=dict)
    active: bool = False

    def install(self) -> None:
        """Once, before the first test: later a dictConfig would drop pytest's own handlers."""
        config = session_logging_config(self.path)
        names = ["", *config["loggers"]]
        self.levels_off = {name: logging.getLogger(name).level for name in names}
        logging.config.dictConfig(config)
        self.levels_on = {name: logging.getLogger(name).level for name in names}
        [self.handler] = [h for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)]
        # First: a record dropped here is not redacted in place for the handlers after ours.
        self.handler.filters.insert(0, lambda record: self.active)
        self.active = True

    def on(self) -> None:
        """Also puts back what uvicorn.Config changes (the browser tests' server): handlers
        of its own on the uvicorn loggers, which then stop propagating to ours."""
        assert self.handler is not None
        for name in UVICORN:
            logger = logging.getLogger(name)
            logger.handlers.clear()
            logger.propagate = True
        if self.handler not in logging.getLogger().handlers:
            logging.getLogger().addHandler(self.handler)
        if not self.active:
            self._levels(self.levels_on)
        self.active = True

    def off(self) -> None:
        if self.active:
            self._levels(self.levels_off)
        self.active = False

    def _levels(self, levels: dict[str, int]) -> None:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)

    def lines(self) -> list[str]:
        if self.handler is not None:
            self.handler.flush()
        return self.path.read_text(encoding="utf-8").splitlines()

    @staticmethod
    def records(lines: list[str]) -> int:
        return sum(1 for line in lines if RECORD_START.match(line))

    def close(self) -> None:
        self.off()
        if self.handler is not None:
            logging.getLogger().removeHandler(self.handler)
            self.handler.close()


def _wrap(owner: Any, name: str, after: Callable[..., None], undo: list[Callable[[], None]]) -> None:
    """Replaces `owner.name` with a call of the original followed by `after(result, *args)`."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        after(result, *args, **kwargs)
        return result

    setattr(owner, name, wrapped)
    undo.append(lambda: setattr(owner, name, original))


def register_values(s: Sentinels) -> list[Callable[[], None]]:
    """Hooks the places where secrets and CPNI enter the code under test; returns the undoings."""
    from cpniguard.access import service as access_service
    from cpniguard.access import web as access_web
    from cpniguard.auth import service as auth_service
    from cpniguard.auth.hashing import Argon2SecretHasher
    from cpniguard.customers.model import Contact, Customer
    from cpniguard.customers.records import Bill, CallDetailRecord
    from cpniguard.settings import Settings
    from tests.conftest import TEST_SIGNING_KEY
    from tests.integration.auth_support import PIN_CANDIDATES

    undo: list[Callable[[], None]] = []
    _wrap(Argon2SecretHasher, "hash", lambda _, hasher, secret: s.add("secret", secret), undo)
    _wrap(Argon2SecretHasher, "verify", lambda _, hasher, stored, secret: s.add("secret", secret), undo)
    _wrap(Argon2SecretHasher, "dummy_verify", lambda _, hasher, secret: s.add("secret", secret), undo)
    _wrap(auth_service, "new_code", lambda code, *a: s.add("one-time code", code), undo)
    _wrap(access_service, "new_secret", lambda key: s.add("API key", key), undo)
    _wrap(access_web, "_new_session", lambda made, *a: _session(s, *made), undo)
    _wrap(Contact, "__init__", lambda _, contact, *a, **k: s.add(f"{contact.kind} of a customer", contact.value), undo)
    _wrap(Customer, "__init__", lambda _, customer, *a, **k: s.add("customer's name", customer.name), undo)
    _wrap(CallDetailRecord, "__init__", lambda _, record, *a, **k: _call(s, record), undo)
    _wrap(Bill, "__init__", lambda _, bill, *a, **k: _bill(s, bill), undo)
    _wrap(Settings, "__init__", lambda _, settings, *a, **k: _settings(s, settings), undo)
    for pin in PIN_CANDIDATES:
        s.add("secret", pin)
    s.add("audit signing key", TEST_SIGNING_KEY)
    return undo


def _session(s: Sentinels, token: str, session: Any) -> None:
    s.add("session token", token)
    s.add("session token", session.csrf)


def _call(s: Sentinels, record: Any) -> None:
    s.add("call detail", record.other_party_number)
    s.add("call detail", record.location)


def _bill(s: Sentinels, bill: Any) -> None:
    s.add("bill", bill.account_number)
    s.add_cents("bill amount", bill.total_cents)


def _settings(s: Sentinels, settings: Any) -> None:
    """Keys, tokens and passwords, also those inside a URL."""
    for name, value in ((f.name, getattr(settings, f.name)) for f in dataclasses.fields(settings)):
        if not isinstance(value, str) or not value:
            continue
        if SECRET_SETTING.search(name):
            s.add("secret in the settings", value)
        elif name.endswith("_url") and "://" in value:
            s.add("secret in the settings", urlsplit(value).password or "")


def log_escapes_like_uvicorn(undo: list[Callable[[], None]]) -> None:
    """What uvicorn does with an exception that leaves the app (h11_impl.run_asgi), so that the
    tracebacks production would log are in the scanned log too."""
    from starlette.testclient import _TestClientTransport

    original = _TestClientTransport.__init__
    server_log = logging.getLogger("uvicorn.error")

    def served(app: Any) -> Any:
        async def asgi(scope: Any, receive: Any, send: Any) -> None:
            try:
                await app(scope, receive, send)
            except Exception as exc:
                server_log.error("Exception in ASGI application\n", exc_info=exc)
                raise

        return asgi

    def init(self: Any, app: Any, *args: Any, **kwargs: Any) -> None:
        original(self, served(app), *args, **kwargs)

    _TestClientTransport.__init__ = init  # type: ignore[method-assign]
    undo.append(lambda: setattr(_TestClientTransport, "__init__", original))


# --- hooks ---------------------------------------------------------------------------------------

_RUN = pytest.StashKey[RunLog]()
_UNDO = pytest.StashKey[list[Callable[[], None]]]()


def _in_e2e(item: pytest.Item) -> bool:
    return E2E in item.path.parents


def _is_scan(item: pytest.Item) -> bool:
    return _in_e2e(item) and item.path.name == SCAN_TEST


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The scan reads the log of every test before it, so its file runs last."""
    items.sort(key=_is_scan)  # stable: the rest keep their order


def pytest_collection_finish(session: pytest.Session) -> None:
    if not any(_in_e2e(item) for item in session.items):
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    folder = factory.mktemp("logs") if factory else Path(tempfile.mkdtemp(prefix="cpniguard-logs-"))
    run = RunLog(folder / "e2e.log")
    undo = register_values(run.sentinels)
    log_escapes_like_uvicorn(undo)
    run.install()
    session.config.stash[_RUN], session.config.stash[_UNDO] = run, undo


def pytest_runtest_setup(item: pytest.Item) -> None:
    if (run := item.config.stash.get(_RUN, None)) is None:
        return
    if _in_e2e(item):
        run.on()
    else:
        run.off()
    run.sentinels.registering = run.active and not _draws_input(item)


def _draws_input(item: pytest.Item) -> bool:
    """A test module that uses Hypothesis (schemathesis is built on it) makes input up."""
    module = getattr(item, "module", None)
    if module is None:
        return False
    names = (getattr(v, "__module__", None) or getattr(v, "__name__", "") for v in vars(module).values())
    return any(str(name).split(".")[0] in GENERATORS for name in names)


def pytest_runtest_call(item: pytest.Item) -> None:
    if _in_e2e(item) and not _is_scan(item) and (run := item.config.stash.get(_RUN, None)) is not None:
        run.e2e_tests_run += 1


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    for line in config.stash.get(_VERDICT, []):
        terminalreporter.write_line(line)
    if (run := config.stash.get(_RUN, None)) is not None:
        lines = run.lines()
        records = run.records(lines)
        terminalreporter.write_line(
            f"log scan: {len(lines)} lines ({records} records) from {run.e2e_tests_run} e2e tests, "
            f"{len(run.sentinels.values)} values registered; log at {run.path}"
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    for undo in reversed(config.stash.get(_UNDO, [])):
        undo()
    if (run := config.stash.get(_RUN, None)) is not None:
        run.close()


@pytest.fixture(scope="session")
def run_log(request: pytest.FixtureRequest) -> RunLog:
    run = request.config.stash.get(_RUN, None)
    if run is None:
        pytest.skip("the production logging is installed only when the session runs e2e tests")
    return run


# --- under pytest-xdist: each worker logs its share, the controller scans them all ------------
#
# Test files are spread over worker processes (`make test` runs `-n 2 --dist loadfile`), so no
# test runs after all the others: test_log_scan.py scans its own worker's log, and the
# controller scans every worker's log with every value any worker registered once they are
# all done. Findings there fail the session.

_WORKERS = pytest.StashKey[list[dict[str, Any]]]()
_VERDICT = pytest.StashKey[list[str]]()


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if _is_worker(config):
        if (run := config.stash.get(_RUN, None)) is not None:
            values = run.path.with_name("values.json")
            values.write_text(json.dumps(run.sentinels.values), encoding="utf-8")
            shared = {"log": str(run.path), "values": str(values), "e2e_tests_run": run.e2e_tests_run}
            config.workeroutput["log_scan"] = shared  # type: ignore[attr-defined]
        return
    workers = config.stash.get(_WORKERS, [])
    if not workers:
        return
    verdict, failed = scan_workers(workers)
    config.stash[_VERDICT] = verdict
    if failed:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    shared = getattr(node, "workeroutput", {}).get("log_scan")
    if shared:
        node.config.stash.setdefault(_WORKERS, []).append(shared)


def scan_workers(workers: list[dict[str, Any]]) -> tuple[list[str], bool]:
    """Every worker's log against every worker's values: (lines to show, failed?)."""
    sentinels = Sentinels()
    for shared in workers:
        sentinels.values.update(json.loads(Path(shared["values"]).read_text(encoding="utf-8")))
    tests = sum(int(shared["e2e_tests_run"]) for shared in workers)
    shown, failed, records = [], False, 0
    for shared in workers:
        path = Path(shared["log"])
        lines = path.read_text(encoding="utf-8").splitlines()
        records += RunLog.records(lines)
        if findings := find_leaks(lines, sentinels):
            shown.append(report(path, findings))
            failed = True
    if tests >= FULL_RUN and records < FULL_RUN_RECORDS:
        shown.append(f"the whole e2e run logged only {records} records: is the logging installed?")
        failed = True
    summary = f"log scan of {len(workers)} workers: {records} records from {tests} e2e tests, "
    shown.insert(0, summary + f"{len(sentinels.values)} values registered: {'FAILED' if failed else 'clean'}")
    return shown, failed
