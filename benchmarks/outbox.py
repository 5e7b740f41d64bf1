"""notifications.outbox.*: one worker draining queued notices into a local SMTP server.

A fresh migrated database (SQLite; PostgreSQL too when reachable) holds customers whose email
address has been of record for 60 days, so every route starts with email. N email-changed
notices are composed and queued through the unit of work (not timed). The clock runs around
``run_worker(app, once=True, batch=B)`` (claim, send over the worker's SMTP connections,
``CPNIGUARD_WORKER_CONNECTIONS``, 4 by default; record; until nothing is due), for B = 500
and 2000 (``cpniguard worker --batch``), each on a fresh database; the best setting is
reported. The server runs in a process of its own (``smtp_sink``), so it takes no CPU time
from the worker's interpreter: the lean server for the target (aiosmtpd spends as much CPU
per message as the worker, and on two cores set the pace), then aiosmtpd, reported beside
it. A run counts only when the server received exactly N messages and the outbox holds N
delivered rows and nothing else; otherwise the result is VOID.

The floor: the same N messages, rendered to bytes beforehand by the adapter's own
``build_message`` (untimed), sent with a bare ``smtplib.SMTP`` client over one connection to the
same server, no database; measured before and after the worker's runs, best kept. The CPU time
per notice of the worker and of the server is printed with each drain, to show which side waits.
"""

from __future__ import annotations

import contextlib
import smtplib
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from benchmarks import http_server
from benchmarks.common import Options, Result, noise, ratio, rounded, say, skipped, timed
from benchmarks.smtp_sink import SmtpSink
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.customers.model import Customer
from cpniguard.customers.service import NewCustomer, build_customer
from cpniguard.db.migrate import upgrade
from cpniguard.delivery import smtp
from cpniguard.jobs.worker import run_worker
from cpniguard.notifications import delivery
from cpniguard.notifications.model import Notice, NoticeEvent
from cpniguard.notifications.service import Letterhead, compose
from cpniguard.ports import ClaimedMessage

NAME = "notifications.outbox.delivered_per_s"
UNIT = "notices/s"
TARGET = ">= 2,000 notices/s"
GOAL = 2_000
BATCHES = (500, 2000)
QUEUE_CHUNK = 5_000  # notices per unit of work while queueing (not timed)


@dataclass
class Drain:
    """One timed drain: batch size, seconds, CPU seconds of the worker and of the server, and
    what was wrong with the outcome (None when right)."""

    batch: int
    seconds: float
    worker_cpu: float
    server_cpu: float
    problem: str | None

    def rate(self, n: int) -> float:
        return n / self.seconds

    def describe(self, backend: str, n: int) -> str:
        per = 1e6 / n
        return (
            f"  {backend} B={self.batch}: {self.rate(n):,.0f} notices/s ({self.seconds:.2f} s; CPU per notice: "
            f"worker {self.worker_cpu * per:.0f} us, server {self.server_cpu * per:.0f} us)"
            + (f" {self.problem}" if self.problem else "")
        )


def fresh_app(url: str, work_dir: Path, smtp_url: str) -> App:
    app = build(
        load_settings(
            {},
            database_url=url,
            audit_key_file=str(work_dir / "outbox-audit.key"),
            smtp_url=smtp_url,
            outbox_dir=str(work_dir / "outbox-files"),
        )
    )
    upgrade(app.engine)
    return app


def open_accounts(app: App, n: int, at: datetime) -> list[Customer]:
    """``n`` customers with a telephone number and an email address on the account since ``at``."""
    made = [
        build_customer(
            NewCustomer(f"Customer {i:05d}", (f"+1202555{i % 10_000:04d}",), emails=(f"customer{i}@example.com",)),
            at,
        )
        for i in range(n)
    ]
    with app.uow() as uow:
        for customer in made:
            uow.customers.add(customer)
        uow.commit()
    return made


def notices(customers: list[Customer], n: int, at: datetime) -> list[Notice]:
    return [compose(customers[i % len(customers)], NoticeEvent.EMAIL_CHANGED, at, Letterhead()) for i in range(n)]


def queue(app: App, made: list[Notice]) -> None:
    for start in range(0, len(made), QUEUE_CHUNK):
        with app.uow() as uow:
            for notice in made[start : start + QUEUE_CHUNK]:
                uow.outbox.add(notice)
            uow.commit()


def rendered(app: App, made: list[Notice]) -> list[tuple[str, bytes]]:
    """(recipient, message bytes) as the worker's SMTP sender builds them, for the floor."""
    out = []
    for notice in made:
        envelope = delivery.envelope(ClaimedMessage(notice, 0, 1, False))
        message = smtp.build_message(envelope, app.settings.mail_from, app.clock)
        out.append((envelope.recipient, message.as_bytes()))
    return out


def bare_smtp(port: int, mail_from: str, messages: list[tuple[str, bytes]]) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        for recipient, data in messages:
            client.sendmail(mail_from, [recipient], data)


@dataclass
class Floor:
    """The bare client's runs: seconds each, and what went wrong."""

    port: int
    mail_from: str
    messages: list[tuple[str, bytes]]
    seconds: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def measure(self, sink: SmtpSink) -> None:
        sink.reset()
        self.seconds.append(timed(partial(bare_smtp, self.port, self.mail_from, self.messages)))
        if (got := sink.received) != len(self.messages):
            self.problems.append(f"floor: the server received {got} of {len(self.messages)}")


def drain(app: App, sink: SmtpSink, batch: int, n: int) -> Drain:
    """Times one worker emptying the outbox, then checks the server and the outbox agree."""
    sink.reset()
    server_before, worker_before = sink.cpu_seconds, time.process_time()
    elapsed = timed(partial(run_worker, app, once=True, batch=batch))
    worker_cpu, server_cpu = time.process_time() - worker_before, sink.cpu_seconds - server_before
    got = sink.received
    with app.uow() as uow:
        counts = uow.outbox.counts()
    problems = []
    if got != n:
        problems.append(f"the server received {got} of {n}")
    if counts != {"delivered": n}:
        problems.append(f"outbox {counts}, expected {n} delivered")
    return Drain(batch, elapsed, worker_cpu, server_cpu, "; ".join(problems) or None)


Database = Callable[[], AbstractContextManager[str]]  # a fresh, empty database's URL while open


def one_drain(database: Database, work_dir: Path, sink: SmtpSink, batch: int, n: int, accounts: int) -> Drain:
    """A fresh database, filled with customers and N queued notices, then drained by one worker."""
    with database() as url:
        app = fresh_app(url, work_dir, sink.url)
        try:
            now = app.clock.now()
            customers = open_accounts(app, accounts, now - timedelta(days=60))
            queue(app, notices(customers, n, now - timedelta(seconds=1)))
            return drain(app, sink, batch, n)
        finally:
            app.close()


def sqlite_database(work_dir: Path) -> Database:
    @contextlib.contextmanager
    def fresh() -> Iterator[str]:
        with tempfile.TemporaryDirectory(prefix="outbox-", dir=work_dir) as scratch:
            yield f"sqlite:///{Path(scratch) / 'outbox.db'}"

    return fresh


def result(
    name: str, n: int, drains: list[Drain], floor_rate: float, floor_problems: list[str], informational: bool = False
) -> Result:
    best = max(drains, key=lambda d: d.rate(n))
    problems = [*floor_problems, *(f"B={d.batch}: {d.problem}" for d in drains if d.problem)]
    void = f"; VOID: {'; '.join(problems)}" if problems else ""
    others = ", ".join(f"B={d.batch} {d.rate(n):,.0f}/s" for d in drains)
    baseline = (
        f"bare smtplib, one connection, pre-rendered: {floor_rate:,.0f} msgs/s (floor); "
        f"best batch B={best.batch} ({others}){void}"
    )
    value = best.rate(n)
    target = "informational" if informational else TARGET
    met = not problems and (informational or value >= GOAL)
    return Result(name, rounded(value), UNIT, baseline, rounded(ratio(False, value, floor_rate)), target, met)


def floor_messages(sink: SmtpSink, work_dir: Path, n: int, accounts: int) -> Floor:
    """The floor's N messages, rendered once from notices like the queued ones (not timed)."""
    with tempfile.TemporaryDirectory(prefix="outbox-floor-", dir=work_dir) as scratch:
        app = fresh_app(f"sqlite:///{Path(scratch) / 'floor.db'}", work_dir, sink.url)
        try:
            now = app.clock.now()
            customers = open_accounts(app, accounts, now - timedelta(days=60))
            return Floor(sink.port, app.settings.mail_from, rendered(app, notices(customers, n, now)))
        finally:
            app.close()


def run(options: Options) -> list[Result]:
    """The target is measured against the lean SMTP server (smtp_sink.LeanSmtp), so the worker,
    not the server, sets the pace; the same drains against aiosmtpd are reported beside it."""
    results = _run_with(options, lean=True, suffix="")
    if not options.quick:
        results += _run_with(options, lean=False, suffix="_aiosmtpd")
    return results


def _run_with(options: Options, lean: bool, suffix: str) -> list[Result]:
    n = options.size(20_000, 500)
    accounts = options.size(1_000, 100)
    postgres_missing = "quick mode" if options.quick else http_server.postgres_missing()
    drains: dict[str, list[Drain]] = {}
    server = "lean server" if lean else "aiosmtpd"
    with SmtpSink(lean=lean) as sink:
        floor = floor_messages(sink, options.work_dir, n, accounts)
        floor.measure(sink)  # before and after the worker's runs: drift shows as noise
        backends: dict[str, Database] = {"sqlite": sqlite_database(options.work_dir)}
        if postgres_missing is None:
            backends["postgresql"] = http_server.postgres_database
        for backend, database in backends.items():
            drains[backend] = [one_drain(database, options.work_dir, sink, b, n, accounts) for b in BATCHES]
            for d in drains[backend]:
                say(d.describe(f"{backend} ({server})", n))
        floor.measure(sink)
    floor_rate = n / min(floor.seconds)
    say(f"  floor ({server}): {floor_rate:,.0f} msgs/s ({noise(floor.seconds)} s)")
    informational = not lean
    results = [result(NAME + suffix, n, drains["sqlite"], floor_rate, floor.problems, informational)]
    pg_name = f"{NAME}_postgresql{suffix}"
    if "postgresql" in drains:
        results.append(result(pg_name, n, drains["postgresql"], floor_rate, floor.problems, informational))
    else:
        results.append(skipped(pg_name, UNIT, TARGET, str(postgres_missing)))
    return results
