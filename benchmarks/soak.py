"""The soak and the faults: two API processes and two delivery processes on PostgreSQL under
steady mixed traffic, then the same traffic through kill -9 of an API process, kill -9 of a
delivery process holding a lease, a PostgreSQL restart and an SMTP server that refuses
connections for a minute. Afterwards it proves that nothing answered was lost:

- every answered decision has its ledger entry (customer, purpose and moment);
- every answered consent event is in the consent ledger;
- every answered contact change is on record and has its notice, and every notice was delivered;
- no message reached the SMTP server or the SMS provider twice unless the delivery record of
  its idempotency key says it was resent after an unfinished attempt;
- `cpniguard audit verify` passes;
- in the soak (no faults), the resident memory of the four processes grew by at most 10%.

Run it with `make soak` or `python -m benchmarks.soak --seconds 180 --fault-seconds 240`. It
starts a PostgreSQL server of its own (initdb into a temporary folder, PostgreSQL's binaries from
CPNIGUARD_PG_BIN, default /usr/lib/postgresql/15/bin) and restarts that one, so nobody else's
server is disturbed; `--shared-postgres` uses CPNIGUARD_TEST_POSTGRES_URL's server instead,
without the restart. Results go to benchmarks/soak-results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg
from aiosmtpd.controller import Controller

from benchmarks.common import REPO_ROOT
from benchmarks.smtp_sink import free_port
from cpniguard.audit.model import stamp

PG_URL = os.environ.get("CPNIGUARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATABASE = "cpniguard_soak"
BIN = Path(sys.executable).with_name("cpniguard")
RESULTS = REPO_ROOT / "benchmarks" / "soak-results.json"
SMTP_DELAY = 0.01  # seconds per message: delivery takes time, so a kill finds one under way
MEMORY_GROWTH_LIMIT = 0.10


# --- the peers: an SMTP server that can refuse, and an SMS provider -----------------------


class Recorder:
    """Every Message-ID the SMTP server accepted and every SMS body the provider took."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.mail: Counter[str] = Counter()
        self.sms: Counter[str] = Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(SMTP_DELAY)
        text = envelope.original_content.decode("utf-8", "replace")
        found = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.lower().startswith("message-id:")]
        with self.lock:
            self.mail[found[0] if found else "?"] += 1
        return "250 2.0.0 Ok: queued"


class SmtpPeer:
    def __init__(self, recorder: Recorder) -> None:
        self.port = free_port()
        self._recorder = recorder
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self._recorder, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def sms_provider(recorder: Recorder) -> tuple[ThreadingHTTPServer, int]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", "replace")
            key = self.headers.get("Idempotency-Key") or self.headers.get("I-Twilio-Idempotency-Token") or body
            with recorder.lock:
                recorder.sms[key] += 1
            payload = json.dumps({"sid": f"SM{abs(hash(key)) % 10**12}", "status": "queued"}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the default backlog of 5 refuses connections under load

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


# --- processes -------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    out = []
    for child in found:
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                out.append(int(child))
        except FileNotFoundError:
            continue
    return out


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


@dataclass
class Cluster:
    env: dict[str, str]
    port: int
    api: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="soak-logs-")))

    def cli(self, *args: str) -> Any:
        done = subprocess.run(
            [str(BIN), *args, "--json"], env=self.env, check=False, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            raise RuntimeError(f"cpniguard {' '.join(args)}: {done.stderr.strip()}")
        return json.loads(done.stdout)

    def start(self) -> None:
        api_log = (self.logs / "api.log").open("ab")
        worker_log = (self.logs / "worker.log").open("ab")
        self.api = subprocess.Popen(
            [str(BIN), "serve", "--workers", "2", "--port", str(self.port)],
            env=self.env,
            stdout=api_log,
            stderr=subprocess.STDOUT,
        )
        self.worker = subprocess.Popen(
            [str(BIN), "worker", "--concurrency", "2", "--batch", "20"],
            env=self.env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                healthy = httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200
                if healthy and len(children(self.api.pid)) == 2 and len(children(self.worker.pid)) == 2:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the cluster did not start; see {self.logs}")

    def api_pids(self) -> list[int]:
        return children(self.api.pid) if self.api else []

    def worker_pids(self) -> list[int]:
        return children(self.worker.pid) if self.worker else []

    def stop(self) -> dict[str, int | None]:
        codes: dict[str, int | None] = {}
        for name, process in (("worker", self.worker), ("api", self.api)):
            if process is None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                codes[name] = process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = process.wait()
        return codes


# --- traffic ---------------------------------------------------------------------------------


@dataclass
class Seeded:
    customers: list[str]
    pins: dict[str, str]
    key: str


@dataclass
class Ledger:
    """What the clients were told, and what they never heard back about."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    decisions: list[tuple[str, str, str]] = field(default_factory=list)
    consent: list[str] = field(default_factory=list)
    contact_changes: list[tuple[str, str, str]] = field(default_factory=list)
    verifications: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    unanswered: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    harness_errors: list[str] = field(default_factory=list)


PURPOSES = ["provide-service", "billing", "marketing-communications", "marketing-third-party", "customer-care"]
CONSENT = ["opt-out", "opt-out-withdrawn", "opt-in", "opt-in-revoked"]


class Traffic:
    """Steady mixed requests from a few threads, each owning its share of the customers (so its
    contact changes of one customer never race each other)."""

    def __init__(self, base: str, seeded: Seeded, ledger: Ledger, rate: float, threads: int = 6) -> None:
        self._base = base
        self._seeded = seeded
        self._ledger = ledger
        self._interval = threads / rate
        self._threads = threads
        self._stop = threading.Event()
        self._running: list[threading.Thread] = []
        self._serial = 0
        self._serial_lock = threading.Lock()

    def start(self) -> None:
        self._stop.clear()
        self._running = [
            threading.Thread(target=self._run, args=(n,), daemon=True, name=f"traffic-{n}")
            for n in range(self._threads)
        ]
        for thread in self._running:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._running:
            thread.join(timeout=60)

    def _next_serial(self) -> int:
        with self._serial_lock:
            self._serial += 1
            return self._serial

    def _run(self, lane: int) -> None:
        rng = random.Random(lane)
        mine = self._seeded.customers[lane :: self._threads]
        headers = {"Authorization": f"Bearer {self._seeded.key}"}
        with httpx.Client(base_url=self._base, headers=headers, timeout=30) as client:
            due = time.monotonic()
            while not self._stop.is_set():
                due += self._interval
                try:
                    self._one(client, rng, rng.choice(mine))
                except Exception as exc:  # a harness fault must show, not end the thread quietly
                    with self._ledger.lock:
                        self._ledger.harness_errors.append(f"{type(exc).__name__}: {exc}")
                pause = due - time.monotonic()
                if pause > 0:
                    self._stop.wait(pause)
                else:
                    due = time.monotonic()  # behind: do not burst to catch up

    def _one(self, client: httpx.Client, rng: random.Random, customer: str) -> None:
        roll = rng.random()
        if roll < 0.62:
            purpose = rng.choice(PURPOSES)
            self._call(
                client, "check", "POST", f"/customers/{customer}/checks", {"purpose": purpose}, customer, purpose
            )
        elif roll < 0.77:
            body = {"event": rng.choice(CONSENT), "channel": "web", "evidence": "soak"}
            self._call(client, "consent", "POST", f"/customers/{customer}/consent-events", body, customer, "")
        elif roll < 0.92:
            value = f"soak{self._next_serial()}@example.net"
            body = {"kind": "email", "value": value}
            self._call(client, "contact", "POST", f"/customers/{customer}/contacts/change", body, customer, value)
        elif customer in self._seeded.pins:
            right = rng.random() < 0.9
            secret = self._seeded.pins[customer] if right else "0000"
            path = f"/customers/{customer}/credentials/pin/verify"
            self._call(client, "verify", "POST", path, {"secret": secret}, customer, "right" if right else "wrong")

    def _call(
        self, client: httpx.Client, kind: str, method: str, path: str, body: Any, customer: str, detail: str
    ) -> None:
        ledger = self._ledger
        try:
            answer = client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            with ledger.lock:
                ledger.unanswered[f"{kind}: {type(exc).__name__}"] += 1
            return
        with ledger.lock:
            ledger.statuses[f"{kind} {answer.status_code}"] += 1
            if answer.status_code >= 500 and answer.status_code != 503:
                ledger.server_errors.append(f"{kind} {answer.status_code} {answer.text[:200]}")
            if answer.status_code not in (200, 201):
                return
            data = answer.json()
            if kind == "check":
                ledger.decisions.append((customer, detail, data["at"]))
            elif kind == "consent":
                ledger.consent.append(data["event"]["id"])
            elif kind == "contact":
                ledger.contact_changes.append((customer, "email", detail))
            elif kind == "verify":
                ledger.verifications[f"{detail} {data['verified']}"] += 1


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Report:
    soak_seconds: float
    fault_seconds: float
    rate: float
    requests: dict[str, int] = field(default_factory=dict)
    unanswered: dict[str, int] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    memory_kib: dict[str, list[int]] = field(default_factory=dict)
    memory_growth: float = 0.0
    checks: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    drain_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


PG_BIN = Path(os.environ.get("CPNIGUARD_PG_BIN", "/usr/lib/postgresql/15/bin"))


class OwnPostgres:
    """A throwaway PostgreSQL server of the harness's own (initdb in a temporary folder, trust
    auth on 127.0.0.1), so that restarting it disturbs nobody else's server. As root, the
    server runs as the `postgres` user, since PostgreSQL refuses to run as root."""

    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="soak-pg-"))
        self.data = self.folder / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        argv = [str(PG_BIN / command[0]), *command[1:]]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=timeout)

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self._pg_ctl("start")

    def _pg_ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on"
        log = str(self.folder / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "-m", "fast", action)

    def restart(self) -> None:
        self._pg_ctl("restart")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def fresh_database(server: OwnPostgres | None, keep: bool = False) -> Iterator[str]:
    admin = server.url if server else PG_URL
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    try:
        yield admin.rsplit("/", 1)[0] + "/" + DATABASE
    finally:
        if not keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


def say(text: str) -> None:
    print(f"soak {time.strftime('%H:%M:%S', time.gmtime())} UTC: {text}")


def seed(cluster: Cluster, customers: int) -> Seeded:
    cluster.cli("init")
    cluster.cli("demo", "--customers", str(customers))
    key = cluster.cli(
        "api-keys",
        "create",
        "soak",
        "--scope",
        "read",
        "--scope",
        "write",
        "--scope",
        "decide",
        "--scope",
        "authenticate",
    )["key"]
    with connect(cluster.env["CPNIGUARD_DATABASE_URL"].replace("+psycopg", "")) as conn:
        ids = [str(r[0]) for r in conn.execute("SELECT id FROM customers ORDER BY id")]
    return Seeded(ids, {}, key)


def set_pins(base: str, seeded: Seeded, how_many: int) -> None:
    headers = {"Authorization": f"Bearer {seeded.key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for n, customer in enumerate(seeded.customers[:how_many]):
            pin = f"{(n * 7919) % 10000:04d}"
            if pin == "0000":
                pin = "1234"
            body = {"secret": pin, "verified_by": "service-initiation"}
            answer = client.put(f"/customers/{customer}/credentials/pin", json=body)
            if answer.status_code == 200:
                seeded.pins[customer] = pin


def sample_memory(cluster: Cluster) -> dict[str, int]:
    return {f"api:{p}": rss_kib(p) for p in cluster.api_pids()} | {
        f"worker:{p}": rss_kib(p) for p in cluster.worker_pids()
    }


def soak_phase(seconds: float, cluster: Cluster, traffic: Traffic, report: Report) -> None:
    """Steady traffic, no faults: memory after the warm-up third against the last samples."""
    samples: list[dict[str, int]] = []
    started = time.monotonic()
    traffic.start()
    while time.monotonic() - started < seconds:
        time.sleep(min(5.0, seconds / 12))
        samples.append(sample_memory(cluster))
    traffic.stop()
    warm = samples[len(samples) // 3]
    last = samples[-1]
    report.memory_kib = {name: [warm.get(name, 0), last.get(name, 0)] for name in sorted(set(warm) | set(last))}
    warm_total = sum(warm.values())
    last_total = sum(last.values())
    report.memory_growth = round(last_total / warm_total - 1, 4) if warm_total else 0.0
    if set(warm) != set(last):
        report.problems.append(f"a process was replaced during the soak: {sorted(warm)} -> {sorted(last)}")
    if report.memory_growth > MEMORY_GROWTH_LIMIT:
        report.problems.append(f"resident memory grew {report.memory_growth:.1%} in the soak")


def connect(db_url: str) -> psycopg.Connection[Any]:
    """The harness's own connection; during a PostgreSQL restart (or with every slot taken by
    the cluster and other clients) it tries again for a minute."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return psycopg.connect(db_url)
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def _leased_worker(db_url: str, pids: list[int]) -> int | None:
    """A delivery process that holds a lease right now (a message is under way)."""
    with connect(db_url) as conn:
        rows = conn.execute("SELECT claimed_by FROM outbox WHERE status = 'sending'").fetchall()
    for (claimed_by,) in rows:
        parts = (claimed_by or "").split(":")
        if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) in pids:
            return int(parts[1])
    return None


def fault_phase(
    seconds: float, cluster: Cluster, traffic: Traffic, smtp: SmtpPeer, report: Report, server: OwnPostgres | None
) -> None:
    db_url = cluster.env["CPNIGUARD_DATABASE_URL"].replace("+psycopg", "")
    started = time.monotonic()

    def at(fraction: float) -> None:
        while time.monotonic() - started < seconds * fraction:
            time.sleep(0.2)

    def note(text: str) -> None:
        clock = time.strftime("%H:%M:%S", time.gmtime())
        report.faults.append(f"{time.monotonic() - started:6.1f} s ({clock} UTC) {text}")
        print("  fault:", report.faults[-1], flush=True)

    traffic.start()
    at(0.08)
    victim = cluster.api_pids()[0]
    os.kill(victim, signal.SIGKILL)
    note(f"kill -9 API process {victim}")
    at(0.2)
    deadline = time.monotonic() + 30
    leased = None
    while leased is None and time.monotonic() < deadline:
        leased = _leased_worker(db_url, cluster.worker_pids())
        if leased is None:
            time.sleep(0.01)
    if leased is None:
        leased = cluster.worker_pids()[0]
        note(f"no lease seen in 30 s; kill -9 delivery process {leased} anyway")
    else:
        note(f"kill -9 delivery process {leased} while it held a lease")
    os.kill(leased, signal.SIGKILL)
    at(0.35)
    if server is not None:
        note("PostgreSQL restarting")
        server.restart()
        note("PostgreSQL restarted")
    at(0.5)
    smtp.stop()
    note("SMTP server stopped: connections refused")
    time.sleep(min(60.0, seconds * 0.3))
    smtp.start()
    note("SMTP server back")
    at(1.0)
    traffic.stop()
    note(f"traffic stopped; API processes {cluster.api_pids()}, delivery processes {cluster.worker_pids()}")


def drain(db_url: str, limit: float) -> float:
    """Until no notice is pending or under way (retries after the SMTP outage come within minutes)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        with connect(db_url) as conn:
            (open_rows,) = conn.execute(
                "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
            ).fetchone() or (0,)
        if not open_rows:
            break
        time.sleep(2)
    return time.monotonic() - started


def _at_text(iso: str) -> str:
    return stamp(datetime.fromisoformat(iso))


def verify(cluster: Cluster, ledger: Ledger, recorder: Recorder, report: Report) -> None:
    db_url = cluster.env["CPNIGUARD_DATABASE_URL"].replace("+psycopg", "")
    checks = report.checks
    with connect(db_url) as conn:
        entries = Counter(
            (customer, purpose, at)
            for customer, purpose, at in conn.execute(
                "SELECT customer_id, purpose, at FROM audit_entries WHERE action LIKE 'decisions:cpni-use:%'"
            )
        )
        answered = Counter((c, p, _at_text(a)) for c, p, a in ledger.decisions)
        missing = answered - entries
        checks["decisions answered"] = sum(answered.values())
        checks["decisions without ledger entry"] = sum(missing.values())
        if missing:
            report.problems.append(
                f"{sum(missing.values())} answered decisions have no ledger entry: {list(missing)[:3]}"
            )

        stored = {str(r[0]) for r in conn.execute("SELECT id FROM consent_events")}
        lost = [e for e in ledger.consent if e not in stored]
        checks["consent events answered"] = len(ledger.consent)
        checks["consent events lost"] = len(lost)
        if lost:
            report.problems.append(f"{len(lost)} answered consent events are not in the ledger")

        contacts = {
            (str(c), v) for c, v in conn.execute("SELECT customer_id, value FROM contacts WHERE kind = 'email'")
        }
        lost_changes = [ch for ch in ledger.contact_changes if (ch[0], ch[2]) not in contacts]
        checks["contact changes answered"] = len(ledger.contact_changes)
        checks["contact changes lost"] = len(lost_changes)
        if lost_changes:
            report.problems.append(f"{len(lost_changes)} answered contact changes are not on record")
        notices = Counter(
            str(c) for (c,) in conn.execute("SELECT customer_id FROM outbox WHERE event = 'email-changed'")
        )
        changed = Counter(ch[0] for ch in ledger.contact_changes)
        unannounced = changed - notices
        checks["email-change notices"] = sum(notices.values())
        checks["contact changes without notice"] = sum(unannounced.values())
        if unannounced:
            report.problems.append(f"{sum(unannounced.values())} answered contact changes have no notice")

        statuses: dict[str, int] = dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
        checks["outbox by status"] = statuses
        undelivered = {s: n for s, n in statuses.items() if s != "delivered"}
        if undelivered:
            report.problems.append(f"notices not delivered: {undelivered}")

        resent = {
            key
            for (key,) in conn.execute(
                "SELECT idempotency_key FROM deliveries WHERE outcome = 'delivered' AND error LIKE 'resent after%'"
            )
        }
        recorded: dict[str, str] = dict(
            conn.execute(
                "SELECT d.idempotency_key, o.status || ' at step ' || o.step FROM deliveries d"
                " JOIN outbox o ON o.id = d.message_id"
            ).fetchall()
        )
        by_channel: dict[str, int] = dict(
            conn.execute("SELECT channel, count(*) FROM deliveries GROUP BY channel").fetchall()
        )
        checks["delivery attempts by channel"] = by_channel
        outcomes: dict[str, int] = dict(
            conn.execute("SELECT outcome, count(*) FROM deliveries GROUP BY outcome").fetchall()
        )
        checks["delivery attempts by outcome"] = outcomes
        failures = conn.execute(
            "SELECT channel, left(coalesce(error, ''), 90), count(*), min(started_at), max(started_at)"
            " FROM deliveries WHERE outcome <> 'delivered' GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 8"
        ).fetchall()
        timeline = conn.execute(
            "SELECT to_char(date_trunc('minute', started_at), 'HH24:MI'), channel, outcome, count(*)"
            " FROM deliveries GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
        ).fetchall()
        checks["delivery attempts per minute (UTC)"] = [f"{m} {ch} {out}: {n}" for m, ch, out, n in timeline]
        checks["failed attempts, most common"] = [
            f"{n} x {channel}: {error} ({first:%H:%M:%S} to {last:%H:%M:%S})"
            for channel, error, n, first, last in failures
        ]
    received = [mid.strip("<>").split("@")[0] for mid in recorder.mail] + list(recorder.sms)
    unrecorded = [key for key in received if key not in recorded]
    checks["received with no attempt on record"] = len(unrecorded)
    checks["received with no attempt on record, first"] = unrecorded[:5]
    twice = {mid: n for mid, n in recorder.mail.items() if n > 1}
    unexplained = [mid for mid in twice if mid.strip("<>").split("@")[0] not in resent]
    checks["emails received"] = sum(recorder.mail.values())
    checks["emails received more than once"] = len(twice)
    checks["resends recorded as such"] = len(resent)
    checks["emails twice without a record saying so"] = len(unexplained)
    if unexplained:
        report.problems.append(f"{len(unexplained)} emails arrived twice with no resend record: {unexplained[:3]}")
    sms_twice = {k: n for k, n in recorder.sms.items() if n > 1}
    sms_unexplained = [k for k in sms_twice if k not in resent]
    checks["sms received"] = sum(recorder.sms.values())
    checks["sms received more than once"] = len(sms_twice)
    checks["sms twice without a record saying so"] = len(sms_unexplained)
    if sms_unexplained:
        report.problems.append(f"{len(sms_unexplained)} SMS arrived twice with no resend record")

    done = subprocess.run(
        [str(BIN), "audit", "verify", "--json"], env=cluster.env, check=False, capture_output=True, text=True
    )
    verdict = json.loads(done.stdout) if done.stdout.strip() else {"ok": False, "stderr": done.stderr.strip()}
    checks["audit verify"] = verdict
    if done.returncode != 0 or not verdict.get("ok"):
        report.problems.append(f"audit verify failed: {verdict}")
    if ledger.harness_errors:
        report.problems.append(
            f"the traffic itself failed {len(ledger.harness_errors)} times: {ledger.harness_errors[:3]}"
        )
    if ledger.server_errors:
        report.problems.append(
            f"{len(ledger.server_errors)} answers were 5xx other than 503: {ledger.server_errors[:3]}"
        )


def run(args: argparse.Namespace) -> Report:
    report = Report(args.seconds, args.fault_seconds, args.rate)
    recorder = Recorder()
    smtp = SmtpPeer(recorder)
    smtp.start()
    sms, sms_port = sms_provider(recorder)
    server = None if args.shared_postgres else OwnPostgres()
    if server is not None:
        server.start()
    try:
        return _run(args, report, recorder, smtp, sms, sms_port, server)
    finally:
        if server is not None and not args.keep_database:
            server.stop()


def _run(
    args: argparse.Namespace,
    report: Report,
    recorder: Recorder,
    smtp: SmtpPeer,
    sms: ThreadingHTTPServer,
    sms_port: int,
    server: OwnPostgres | None,
) -> Report:
    with fresh_database(server, args.keep_database) as url, tempfile.TemporaryDirectory(prefix="soak-") as workdir:
        env = {
            **os.environ,
            "CPNIGUARD_DATABASE_URL": url.replace("postgresql://", "postgresql+psycopg://", 1),
            "CPNIGUARD_AUDIT_KEY_FILE": str(Path(workdir) / "audit.key"),
            "CPNIGUARD_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}",
            "CPNIGUARD_SMS_URL": f"http://127.0.0.1:{sms_port}",
            "CPNIGUARD_LETTERS_DIR": str(Path(workdir) / "letters"),
            "CPNIGUARD_OUTBOX_DIR": str(Path(workdir) / "outbox"),
            "CPNIGUARD_SERVE_WORKER": "0",  # delivery is the two worker processes' job here
        }
        cluster = Cluster(env, free_port())
        say(f"seeding {args.customers} customers into {DATABASE}")
        seeded = seed(cluster, args.customers)
        base = f"http://127.0.0.1:{cluster.port}"
        ledger = Ledger()
        traffic = Traffic(base, seeded, ledger, args.rate)
        try:  # whatever happens, the cluster is stopped: a process left over would go on delivering
            cluster.start()
            set_pins(base, seeded, args.pins)
            say(f"{args.seconds:.0f} s at {args.rate:.0f} req/s, no faults")
            soak_phase(args.seconds, cluster, traffic, report)
            say(f"memory growth {report.memory_growth:.1%}; faults for {args.fault_seconds:.0f} s")
            fault_phase(args.fault_seconds, cluster, traffic, smtp, report, server)
            report.drain_seconds = round(drain(url, args.drain_limit), 1)
            say(f"outbox drained in {report.drain_seconds} s; verifying")
        finally:
            traffic.stop()
            codes = cluster.stop()
            report.checks["exit codes"] = codes
            sms.shutdown()
            smtp.stop()
        report.requests = dict(sorted(ledger.statuses.items()))
        report.unanswered = dict(sorted(ledger.unanswered.items()))
        verify(cluster, ledger, recorder, report)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=180.0, help="the soak, without faults")
    parser.add_argument("--fault-seconds", type=float, default=240.0, help="the traffic with faults")
    parser.add_argument("--rate", type=float, default=30.0, help="requests per second, all kinds")
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--pins", type=int, default=150, help="customers given a PIN (argon2: CPU-bound)")
    parser.add_argument("--drain-limit", type=float, default=600.0)
    parser.add_argument(
        "--shared-postgres",
        action="store_true",
        help="use CPNIGUARD_TEST_POSTGRES_URL's server and do not restart it (no restart fault)",
    )
    parser.add_argument("--keep-database", action="store_true", help=f"leave {DATABASE} for a look")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    report = run(args)
    document = asdict(report) | {"ok": report.ok, "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    args.output.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(json.dumps(document, indent=2, default=str))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
