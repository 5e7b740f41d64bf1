"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, a movable clock, builders.

PostgreSQL tests run in a fresh schema of the database named by CPNIGUARD_TEST_POSTGRES_URL
(default postgresql://postgres@127.0.0.1:5432/test). Without a server they skip with the
reason shown, except when CI=true or CPNIGUARD_REQUIRE_POSTGRES=1, where they fail.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from cpniguard.actors import Actor
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.clock import FixedClock
from cpniguard.customers.model import Customer, ServiceCategory
from cpniguard.customers.service import NewCustomer, add_customer
from cpniguard.db.migrate import upgrade

pytest_plugins = ("tests.log_scan",)  # the e2e run logs as production does, and is scanned

PG_URL = os.environ.get("CPNIGUARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_REQUIRED = os.environ.get("CI") == "true" or os.environ.get("CPNIGUARD_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", "postgresql"]
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York
TEST_SIGNING_KEY = "nWGxne/9WmC6hEr0kuwsxERJxWl7MgTQcOwrEvOaKZ8="  # a fixed Ed25519 seed for tests only
TEST_CPNI_KEY = "Q1BOSS1hdC1yZXN0IHRlc3Qga2V5LCBub3QgcmVhbCE="  # a fixed AES-256 key for tests only (BREACH23-8)


def _lettered_id() -> uuid.UUID:
    """A version-4 UUID whose hex has no digit but the version's 4 and the variant's 8 or 9."""
    letters = [random.choice("abcdef") for _ in range(32)]
    letters[12], letters[16] = "4", random.choice("89")
    return uuid.UUID("".join(letters))


@pytest.fixture(autouse=True)
def customer_ids_without_digit_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A customer's id counts as an account number a PIN may not repeat four digits of
    (AUTH-2, AUTH-7). A random id holds the tests' PINs by chance about once in a few thousand
    customers, so test customers get ids with no run of digits; the rule itself is tested
    with fixed ids."""
    monkeypatch.setattr("cpniguard.customers.service.new_id", _lettered_id)


def _postgres_reachable() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {PG_URL}: {str(exc).strip().splitlines()[0]}"


_PG_PROBLEM: str | bool | None = False


def postgres_problem() -> str | None:
    global _PG_PROBLEM
    if _PG_PROBLEM is False:
        _PG_PROBLEM = _postgres_reachable()
    return _PG_PROBLEM  # type: ignore[return-value]


def require_backend(backend: str) -> None:
    if backend == "postgresql" and (problem := postgres_problem()):
        if PG_REQUIRED:
            pytest.fail(f"PostgreSQL is required here: {problem}")
        pytest.skip(problem)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    app = build(load_settings({}, database_url=f"sqlite:///{path}"))
    upgrade(app.engine)
    app.close()
    return path


_PG_TEMPLATE: list[str] = []  # the migrated schema as SQL, made once per run


def _pg_dump() -> str | None:
    found = shutil.which("pg_dump")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"), reverse=True)
    return str(candidates[0]) if candidates else None


def _pg_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def _migrated_schema_sql(placeholder: str) -> str | None:
    """The head schema as a SQL script naming `placeholder` as its schema, or None without a
    usable pg_dump. Migrating took 0.55 s per PostgreSQL test; replaying the dump 0.17 s."""
    dump = _pg_dump()
    if dump is None:
        return None
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {placeholder}")
    try:
        built = build(load_settings({}, database_url=_pg_url(placeholder)))
        upgrade(built.engine)
        built.close()
        info = psycopg.conninfo.conninfo_to_dict(PG_URL)
        args = [dump, "--no-owner", "--no-privileges", "--inserts", "-n", placeholder]
        args += ["-h", str(info.get("host", "127.0.0.1")), "-p", str(info.get("port", 5432))]
        args += ["-U", str(info.get("user", "postgres")), "-d", str(info.get("dbname", "test"))]
        done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=60)
        if done.returncode != 0:
            return None
        # psql's meta-commands (\restrict) are not SQL
        return "\n".join(line for line in done.stdout.splitlines() if not line.startswith("\\"))
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {placeholder} CASCADE")


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema at the head revision, dropped afterwards; yields its URL.
    Like SQLite's copied template file: later `upgrade` calls find nothing to do."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    if not _PG_TEMPLATE:
        placeholder = f"tpl_{uuid.uuid4().hex}"
        _PG_TEMPLATE.append(placeholder)
        _PG_TEMPLATE.append(_migrated_schema_sql(placeholder) or "")
    placeholder, script = _PG_TEMPLATE
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        if script:
            conn.execute(script.replace(placeholder, schema))  # type: ignore[arg-type]
        else:
            conn.execute(f"CREATE SCHEMA {schema}")
    if not script:
        built = build(load_settings({}, database_url=_pg_url(schema)))
        upgrade(built.engine)
        built.close()
    try:
        yield _pg_url(schema)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """A database at the head revision: a copy of a migrated SQLite file, or a PostgreSQL
    schema replayed from a migrated one."""
    backend = getattr(request, "param", "sqlite")
    require_backend(backend)
    if backend == "sqlite":
        path = tmp_path / "cpniguard.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    with postgres_schema() as url:
        yield url


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests that ask for `database_url` (directly or through `app`) run on both backends,
    unless they are marked `sqlite_only`."""
    if "database_url" in metafunc.fixturenames and "database_url" not in getattr(metafunc, "_cpg_done", ()):
        backends = ["sqlite"] if metafunc.definition.get_closest_marker("sqlite_only") else BACKENDS
        metafunc.parametrize("database_url", backends, indirect=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only: runs on SQLite only (file-level behaviour)")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def app(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[App]:
    settings = load_settings(
        {},
        database_url=database_url,
        audit_signing_key=TEST_SIGNING_KEY,
        audit_key_file=str(tmp_path / "k"),
        cpni_key=TEST_CPNI_KEY,
        audit_checkpoint_every=5,
        # argon2 at its cheapest: every sign-in and secret would otherwise cost 0.1 s here. The
        # production cost is measured in benchmarks/credentials.py, not in the tests.
        argon2_time_cost=1,
        argon2_memory_kib=1024,
    )
    built = build(settings, clock)
    upgrade(built.engine)
    yield built
    built.close()


@pytest.fixture
def actor() -> Actor:
    return Actor("staff", "tester", frozenset({"admin"}))


def a_customer(app: App, actor: Actor, **overrides: object) -> Customer:
    """A customer with sensible defaults; override any NewCustomer field."""
    fields: dict[str, object] = {
        "name": "Ada Lovelace",
        "telephone_numbers": ("+12025550123",),
        "emails": ("ada@example.com",),
        "postal_addresses": ("12 Analytical Way, Springfield, IL 62701",),
        "services": (ServiceCategory.LOCAL,),
    }
    fields.update(overrides)
    at = fields.pop("at", None)
    return add_customer(app.uow(), app.clock, actor, NewCustomer(**fields), at=at)  # type: ignore[arg-type]
