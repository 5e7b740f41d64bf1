"""PostgreSQL on a disk that is really full (issue 7; docs/RELIABILITY.md): every write answers
503 with the reason, the CLI exits 2 with one line, nothing is half-written, PostgreSQL keeps
running, and once there is room again the same write goes in and the ledger verifies.

A throwaway server (benchmarks/soak.py's own) keeps its catalogs and write-ahead log on the
ordinary disk, and cpniguard's tables and indexes in a tablespace on a small tmpfs, which a
filler file then fills to the last byte: a table that needs a new page then fails with
`53100 disk_full` ("could not extend file ...: No space left on device"), while reads go on.
(The write-ahead log on the full disk would not do: PostgreSQL stops with PANIC when it cannot
write its log.) As in tests/e2e/test_disk_full.py, rows that fit in pages already held still
go in, so decisions first spend what is left.

It needs root (mount, and `runuser` to run PostgreSQL as `postgres`) and about 15 seconds, so
it is not part of `make test`: `make soak`, or `pytest -m soak tests/soak/test_disk_full_pg.py -s`.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from benchmarks import soak
from fastapi.testclient import TestClient

from cpniguard.actors import Actor
from cpniguard.api.app import create_app
from cpniguard.audit.service import verify
from cpniguard.bootstrap import App
from cpniguard.clock import FixedClock
from tests.conftest import T0, a_customer
from tests.e2e.test_disk_full import (
    api_key,
    cli_customers_add,
    cli_environment,
    refused_as_full,
    spend_the_room_left,
    stored,
    writes_that_need_room,
)
from tests.integration.auth_support import cheap_argon2_app

pytestmark = [pytest.mark.soak, pytest.mark.postgres]

DISK = "16m"  # the tmpfs: the migrated schema and three customers take about 0.5 MB of it
NO_SPACE = "No space left on device"  # the server's log
FULL = "the database's disk is full"  # what clients are told: no server file paths
DATABASE = "cpniguard_disk_full"


@dataclass
class SmallDisk:
    """A tmpfs of its own, mounted for PostgreSQL's tablespace, with a filler file to fill it."""

    mount: Path

    @property
    def filler(self) -> Path:
        return self.mount / "filler"

    def free_bytes(self) -> int:
        stat = os.statvfs(self.mount)
        return stat.f_bavail * stat.f_frsize

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.posix_fallocate(fd, 0, self.free_bytes())
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink()


def mounted_tmpfs() -> Path:
    """A tmpfs mounted on a new folder, owned by `postgres`; skips when it cannot be mounted."""
    if os.geteuid() != 0:
        pytest.skip("needs root: it mounts a small tmpfs and runs PostgreSQL as the postgres user")
    if not (soak.PG_BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL server binaries in {soak.PG_BIN} (set CPNIGUARD_PG_BIN)")
    mount = Path(tempfile.mkdtemp(prefix="disk-full-"))
    options = f"size={DISK},mode=0700,uid=postgres,gid=postgres"
    argv = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)]
    done = subprocess.run(argv, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        mount.rmdir()
        pytest.skip(f"cannot mount a tmpfs: {(done.stderr or done.stdout).strip()}")
    return mount


def unmount(mount: Path) -> None:
    if subprocess.run(["umount", str(mount)], check=False, capture_output=True).returncode != 0:
        subprocess.run(["umount", "--lazy", str(mount)], check=False, capture_output=True)
    mount.rmdir()


@pytest.fixture
def small_disk() -> Iterator[SmallDisk]:
    mount = mounted_tmpfs()
    try:
        yield SmallDisk(mount)
    finally:
        unmount(mount)


@pytest.fixture
def server(small_disk: SmallDisk) -> Iterator[soak.OwnPostgres]:
    """A throwaway server with an empty database whose tables go to the small disk."""
    own = soak.OwnPostgres()
    try:
        own.start()
        tablespace = small_disk.mount / "pg"
        tablespace.mkdir()
        os.chown(tablespace, *postgres_ids())
        with psycopg.connect(own.url, autocommit=True) as conn:
            conn.execute(f"CREATE TABLESPACE small_disk LOCATION '{tablespace}'")
            conn.execute(f"CREATE DATABASE {DATABASE}")
            conn.execute(f"ALTER DATABASE {DATABASE} SET default_tablespace = small_disk")
        yield own
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # it may not have started
            own.stop()  # before the unmount: the server holds files on the small disk


def postgres_ids() -> tuple[int, int]:
    entry = pwd.getpwnam("postgres")
    return entry.pw_uid, entry.pw_gid


@dataclass
class Run:
    """The app on the server, a client with a key, three customers, and what was seen."""

    app: App
    client: TestClient
    headers: dict[str, str]
    customers: list[str]
    capsys: pytest.CaptureFixture[str]

    def say(self, text: str) -> None:
        with self.capsys.disabled():  # capsys holds the CLI's output; this goes to the terminal
            print(f"disk full: {text}")


@pytest.fixture
def run(server: soak.OwnPostgres, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Iterator[Run]:
    app = cheap_argon2_app(database_url(server), FixedClock(T0), tmp_path)  # migrates to head
    try:
        actor = Actor("staff", "tester", frozenset({"admin"}))
        customers = [str(a_customer(app, actor, at=T0 - timedelta(days=60)).id) for _ in range(3)]
        yield Run(app, TestClient(create_app(app)), api_key(app, actor), customers, capsys)
    finally:
        app.close()


def database_url(server: soak.OwnPostgres) -> str:
    return server.url.rsplit("/", 1)[0] + f"/{DATABASE}"


def test_on_a_really_full_disk_postgresql_refuses_each_write_with_503_and_loses_nothing_issue_7(
    server: soak.OwnPostgres, small_disk: SmallDisk, run: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    started = time.perf_counter()
    run.say(f"schema and {len(run.customers)} customers on the small disk; {small_disk.free_bytes()} bytes free")
    small_disk.fill()
    assert small_disk.free_bytes() == 0
    spent, refusal = spend_the_room_left(run.app, run.client, run.customers[0], run.headers)
    run.say(f"{spent} decisions went into pages already held, then {refusal.status_code} {refusal.text}")
    assert refused_as_full(refusal, FULL), refusal.text
    before = stored(run.app)

    every_write_is_refused(run)
    cli_environment(monkeypatch, tmp_path)
    code, err = cli_customers_add(database_url(server), run.capsys)
    run.say(f"cli customers add: exit {code}, stderr {err!r}")
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ") and FULL in err, err
    what_writes_nothing_is_answered(run, server)
    assert stored(run.app) == before

    small_disk.free()
    the_same_write_goes_in_once(run, before)
    verification = verify(run.app.uow(), run.app.verifier)
    assert verification.ok, verification.problem
    log = (server.folder / "server.log").read_text(errors="replace")
    assert "PANIC" not in log and "terminated by signal" not in log, log[-2000:]
    seconds = time.perf_counter() - started
    run.say(f"server log: {log.count(NO_SPACE)} refusals, no PANIC; ledger verifies; {seconds:.1f} s")


def every_write_is_refused(run: Run) -> None:
    for kind, answer in writes_that_need_room(run.client, run.customers[1], run.headers).items():
        run.say(f"{kind}: {answer.status_code} {answer.text}")
        assert refused_as_full(answer, FULL), f"{kind}: {answer.status_code} {answer.text}"


def what_writes_nothing_is_answered(run: Run, server: soak.OwnPostgres) -> None:
    """PostgreSQL still reads; but showing a customer records the access in the ledger in the same
    transaction (rule 2), so it is refused too, rather than shown unrecorded."""
    shown = run.client.get(f"/customers/{run.customers[2]}", headers=run.headers)
    run.say(f"GET a customer: {shown.status_code} {shown.text}")
    assert refused_as_full(shown, FULL), shown.text
    assert run.client.get("/health").status_code == 200
    assert run.client.get("/audit/verify", headers=run.headers).json()["ok"] is True
    with psycopg.connect(server.url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def the_same_write_goes_in_once(run: Run, before: dict[str, Any]) -> None:
    """With room again, one new customer: exactly its rows more, and the other writes go in."""
    grace = {"name": "Grace Hopper", "telephone_numbers": ["+12025550188"], "emails": ["grace@example.com"]}
    added = run.client.post("/customers", json=grace, headers=run.headers)
    assert added.status_code == 201, added.text
    after = stored(run.app)
    run.say(f"room again: new customer {added.status_code}; {before} -> {after}")
    assert after == {**before, **one_new_customer(before, after)}
    for kind, answer in writes_that_need_room(run.client, run.customers[1], run.headers).items():
        assert answer.status_code in (200, 201), f"{kind} with room again: {answer.status_code} {answer.text}"


def one_new_customer(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What adding one customer with a telephone number and an email writes: the customer, a
    service, two contacts, one ledger entry, and a signed checkpoint if the head passed a
    multiple of 5 (the test app's interval)."""
    seq = before["audit head"][0]
    return {
        "customers": before["customers"] + 1,
        "services": before["services"] + 1,
        "contacts": before["contacts"] + 2,
        "audit_entries": before["audit_entries"] + 1,
        "audit_checkpoints": before["audit_checkpoints"] + (seq + 1) // 5 - seq // 5,
        "audit head": after["audit head"],
    }
