"""The cpniguard API as a real server for load runs: a database made ready, then uvicorn on loopback.

Everything goes through the ``cpniguard`` command as an operator would run it (``init``,
``api-keys create``, ``serve``), in a scratch directory that holds the audit key; only the
customers are bulk-seeded (``benchmarks.seeding``). PostgreSQL runs get a database of their own,
created here and dropped afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg
from sqlalchemy import text

from benchmarks import seeding
from benchmarks.common import REPO_ROOT, VENV_BIN
from cpniguard.bootstrap import build, load_settings

POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"
DECISIONS_SQL = "SELECT COUNT(*) FROM audit_entries WHERE action LIKE 'decisions:cpni-use:%'"


def api_missing() -> str | None:
    """Why the API cannot be served yet, or None."""
    if not (REPO_ROOT / "src" / "cpniguard" / "api" / "app.py").exists():
        return "src/cpniguard/api/app.py does not exist yet"
    return None


def cli(url: str, work_dir: Path, *args: str, timeout: float = 600) -> str:
    """Runs ``cpniguard --database-url URL ARGS`` in ``work_dir``; returns its standard output."""
    command = [str(VENV_BIN / "cpniguard"), "--database-url", url, *args]
    done = subprocess.run(
        command, cwd=work_dir, env=_env(work_dir), capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout


def _env(work_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPNIGUARD_")}
    env["CPNIGUARD_AUDIT_KEY_FILE"] = str(work_dir / "cpniguard-audit.key")
    return env


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database on the local server for one run; dropped afterwards."""
    name = f"cpniguard_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_missing() -> str | None:
    try:
        with psycopg.connect(f"{POSTGRES_SERVER}/postgres", connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {POSTGRES_SERVER}: {str(exc).strip().splitlines()[0]}"


def prepare(url: str, work_dir: Path, customers: int, seed: int) -> tuple[list[uuid.UUID], str]:
    """``init``, the seeded customers, and an API key with the decide scope: (customer ids, key)."""
    cli(url, work_dir, "init", "--json")
    app = build(load_settings({}, database_url=url, audit_key_file=str(work_dir / "cpniguard-audit.key")))
    seeded = seeding.seed(app.engine, customers, seed, keep_ids=True)
    app.close()
    created = json.loads(cli(url, work_dir, "api-keys", "create", "bench", "--scope", "decide", "--json"))
    return list(seeded.ids), str(created["key"])


def decision_entries(url: str) -> int:
    """How many decision entries the ledger holds."""
    app = build(load_settings({}, database_url=url, audit_key_file="unused.key"))
    try:
        with app.engine.connect() as conn:
            return int(conn.execute(text(DECISIONS_SQL)).scalar_one())
    finally:
        app.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ApiServer:
    """``cpniguard serve`` on 127.0.0.1 as a context manager; stopped (with its workers) on exit."""

    def __init__(self, url: str, work_dir: Path, workers: int = 1, startup_timeout: float = 60) -> None:
        self.url = url
        self.work_dir = work_dir
        self.workers = workers
        self.port = free_port()
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self.log = work_dir / f"serve-{self.port}.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        args = ["--database-url", self.url, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                [str(VENV_BIN / "cpniguard"), *args, "--workers", str(self.workers)],
                cwd=self.work_dir,
                env=_env(self.work_dir),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so its workers stop with it
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"cpniguard serve exited: {self.log.read_text(errors='replace')[-1500:]}")
            try:
                with urllib.request.urlopen(self.base + "/openapi.json", timeout=1):
                    return
            except urllib.error.HTTPError:
                return  # it answers: the server is up even if that path is not served
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"cpniguard serve not answering after {self.startup_timeout} s")

    def post(self, path: str, body: dict[str, object], key: str) -> tuple[int, str]:
        """One request, for a sanity check before the load run: (status, body text)."""
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "X-API-Key": key}
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # uvicorn shuts its workers down on SIGTERM
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group of the process started above
            process.wait(timeout=10)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
