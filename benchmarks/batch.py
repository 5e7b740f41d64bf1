"""decision.batch.*: the set-based gate over a million customers on SQLite, against Cerbos batched.

cpniguard decides ``marketing-communications`` for every customer with
``decisions.service.check_batch`` (one SQL pass plus one ledger entry for the batch). The
answers are checked against what the seeding put in (the opt-in and presumed-approval
customers are the allowed ones). The floor is the bare SQL over the same tables with the same
predicate, through the ``sqlite3`` module (COUNT, and fetching the ids). The peer is Cerbos
deciding random facts 50 to a request, from this Python client on one connection and from
wrk (2 threads, 16 connections); the faster of the two is the baseline.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import seeding, wrk
from benchmarks.common import Options, Result, noise, ratio, rounded, say, skipped
from benchmarks.peers import policies
from cpniguard.actors import Actor
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.decisions.model import Purpose, Request
from cpniguard.decisions.service import check_batch
from cpniguard.ports import BatchOutcome

SEED = 7
PER_REQUEST = policies.CerbosServer.MAX_RESOURCES_PER_REQUEST
ALLOWED_SQL = """
    FROM customers c LEFT JOIN consent_state s ON s.customer_id = c.id
    WHERE c.created_at <= :at AND (s.last_event_at IS NULL OR s.last_event_at <= :at)
      AND s.objection_since IS NULL
      AND (s.opt_in_since IS NOT NULL OR (s.presumed_from <= :at AND s.renotice_due > :at))
"""


def _decide_all(app: App) -> Callable[[], BatchOutcome]:
    def run() -> BatchOutcome:
        return check_batch(app.uow(), app.clock, Actor.system("benchmark"), Request(Purpose.MARKETING_COMMUNICATIONS))

    return run


def _floor(path: Path) -> tuple[float, float, int]:
    """Seconds to COUNT and to fetch the ids of the allowed customers in bare SQL, and the count."""
    at = {"at": time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())}
    with sqlite3.connect(path) as conn:
        start = time.perf_counter()
        count = conn.execute("SELECT COUNT(*) " + ALLOWED_SQL, at).fetchone()[0]
        counted = time.perf_counter() - start
        start = time.perf_counter()
        ids = conn.execute("SELECT c.id " + ALLOWED_SQL, at).fetchall()
        fetched = time.perf_counter() - start
    conn.close()
    if len(ids) != count:
        raise AssertionError("bare SQL disagrees with itself")
    return counted, fetched, int(count)


def run(options: Options) -> list[Result]:
    n = options.size(1_000_000, 5_000)
    repeats = options.size(3, 1)
    path, seeded = seeding.cached_sqlite(n, SEED, options.data_dir, options.work_dir)
    app = build(load_settings({}, database_url=f"sqlite:///{path}", audit_key_file=str(options.work_dir / "b.key")))
    decide_all = _decide_all(app)
    cerbos = CerbosBatched(options)
    ours: list[float] = []
    wrong = 0
    for i in range(repeats):
        start = time.perf_counter()
        outcome = decide_all()
        ours.append(time.perf_counter() - start)
        wrong += abs(len(outcome.allowed) - seeded.allowed_marketing_communications) + abs(outcome.total - n)
        cerbos.measure(i)  # interleaved: our run, a Cerbos run, our run, ...
    app.close()
    count_s, ids_s, floor_count = _floor(path)
    wrong += abs(floor_count - seeded.allowed_marketing_communications)
    best = min(ours)
    say(f"  check_batch over {n:,} customers: {best:.3f} s ({noise(ours)})")
    say(f"  bare SQL floor: COUNT {count_s:.3f} s, ids {ids_s:.3f} s")
    void = f"; VOID: {wrong} answers differ from the seeded expectation" if wrong else ""
    results = [
        Result(
            f"decision.batch.{n // 1000}k_sqlite" if n < 1_000_000 else "decision.batch.1m_sqlite",
            rounded(best),
            "s",
            f"bare SQL floor: SELECT id {ids_s:.3g} s, COUNT(*) {count_s:.3g} s (ratio = floor/ours){void}",
            rounded(ratio(True, best, ids_s)),
            "< 10 s" if n >= 1_000_000 else "< 10 s at 1M (quick size)",
            not wrong and best < 10 * n / 1_000_000,
        )
    ]
    results.append(cerbos.result(n / statistics.median(ours), n / best, wrong))
    cerbos.close()
    return results


class CerbosBatched:
    """Cerbos's batched check (50 resources per request), measured between our runs."""

    NAME = "decision.batch.vs_cerbos_batched"
    TARGET = ">= 10x"

    def __init__(self, options: Options) -> None:
        self.rates: dict[str, list[float]] = {"python client, 1 connection": [], "wrk -t2 -c16": []}
        self.why_not: str | None = None
        self.mismatches = 0
        self._server: policies.CerbosServer | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-cerbos-", dir=options.work_dir)
        self._seconds = 5
        if options.quick:
            self.why_not = "quick mode"
            return
        try:
            self._server = policies.CerbosServer().__enter__()
        except (FileNotFoundError, RuntimeError, TimeoutError) as exc:
            self.why_not = f"Cerbos not available: {exc}"
            return
        self.why_not = wrk.available()
        self.inputs = policies.make_inputs(2000, SEED)
        answers = self._server.check_batch(self.inputs)
        expected = [policies.reference_decide(f) for f in self.inputs]
        self.mismatches = sum(1 for a, b in zip(answers, expected, strict=True) if a != b)

    def measure(self, turn: int) -> None:
        if self._server is None or self.why_not:
            return
        if turn % 2 == 0:
            self.rates["python client, 1 connection"].append(self._python_client())
        else:
            self.rates["wrk -t2 -c16"].append(self._wrk())

    def _python_client(self) -> float:
        assert self._server is not None
        chunks = [self.inputs[i : i + PER_REQUEST] for i in range(0, len(self.inputs), PER_REQUEST)]
        decisions, i = 0, 0
        start = time.perf_counter()
        while time.perf_counter() - start < self._seconds:
            decisions += len(self._server.check_batch(chunks[i % len(chunks)]))
            i += 1
        return decisions / (time.perf_counter() - start)

    def _wrk(self) -> float:
        assert self._server is not None
        bodies = [
            self._server.request_body(self.inputs[i : i + PER_REQUEST]).decode()
            for i in range(0, len(self.inputs), PER_REQUEST)
        ]
        requests = [
            wrk.WrkRequest("POST", policies.CerbosServer.CHECK_PATH, {"Content-Type": "application/json"}, b)
            for b in bodies
        ]
        script = wrk.write_lua(Path(self._tmp.name) / "cerbos_batch.lua", requests)
        stats = wrk.run(self._server.check_url, script, self._seconds * 2)
        if stats.non_2xx or stats.socket_errors:
            self.mismatches += stats.non_2xx + stats.socket_errors
        return stats.ok / stats.seconds * PER_REQUEST

    def result(self, ours_median: float, ours_best: float, wrong: int) -> Result:
        if self.why_not:
            return skipped(self.NAME, "decisions/s", self.TARGET, self.why_not)
        measured = {how: max(rates) for how, rates in self.rates.items() if rates}
        how, theirs = max(measured.items(), key=lambda kv: kv[1])
        others = ", ".join(f"{h} {r:,.0f}/s" for h, r in measured.items() if h != how)
        baseline = f"Cerbos batched 50/request {theirs:,.0f} decisions/s ({how}; {others})"
        say(f"  {baseline}; ours {ours_best:,.0f}/s best, {ours_median:,.0f}/s median")
        if self.mismatches or wrong:
            baseline += f"; VOID: {self.mismatches} Cerbos and {wrong} cpniguard mismatches or errors"
        r = ratio(False, ours_best, theirs)
        return Result(
            self.NAME,
            rounded(ours_best),
            "decisions/s",
            baseline,
            rounded(r),
            self.TARGET,
            r >= 10 and not (self.mismatches or wrong),
        )

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
        self._tmp.cleanup()
