"""decision.http.*: one decision per HTTP request, cpniguard's API against the Cerbos server.

Both are driven by wrk with the same settings (2 threads, 16 connections, loopback), each
script rotating through 1,000 prepared requests: for Cerbos single-resource CheckResources
calls on random facts, for cpniguard ``POST /customers/{id}/checks`` over 2,000 seeded
customers and the nine purposes. cpniguard runs on SQLite and on PostgreSQL, with one API
process and with two. Cerbos runs before and after them; its faster run is the baseline.
Every cpniguard run is checked afterwards: the ledger must hold one decision entry for every
2xx response wrk counted (a few more are expected: requests still in flight when wrk stopped).
"""

from __future__ import annotations

import json
import random
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from benchmarks import http_server, wrk
from benchmarks.common import Options, Result, ratio, rounded, say, skipped
from benchmarks.peers import policies

CUSTOMERS = 2000
SEED = 11
SECONDS = 10
WARMUP_SECONDS = 2
TARGET = ">= 0.5x Cerbos req/s"
P99_TARGET = "< 20 ms"
INFORMATIONAL = "informational"
PURPOSES = policies.PURPOSES


@dataclass(frozen=True)
class Run:
    label: str
    stats: wrk.WrkStats
    problem: str | None  # why the run is void, if it is


def _requests(ids: list[uuid.UUID], key: str) -> list[wrk.WrkRequest]:
    rng = random.Random(SEED)
    headers = {"Content-Type": "application/json", "X-API-Key": key}
    return [
        wrk.WrkRequest("POST", f"/customers/{rng.choice(ids)}/checks", headers, json.dumps({"purpose": purpose}))
        for purpose in (rng.choice(PURPOSES) for _ in range(1000))
    ]


def _cerbos(tmp: Path) -> Run:
    inputs = policies.make_inputs(2000, SEED)
    with policies.CerbosServer() as cerbos:
        bad = policies.mismatches(cerbos.check, inputs[:500])
        script = cerbos.write_wrk_lua(tmp / "cerbos.lua", inputs)
        wrk.run(cerbos.check_url, script, WARMUP_SECONDS)
        stats = wrk.run(cerbos.check_url, script, SECONDS)
    problem = f"{bad} Cerbos mismatches" if bad else None
    if stats.non_2xx or stats.socket_errors:
        problem = f"Cerbos: {stats.non_2xx} non-2xx, {stats.socket_errors} socket errors"
    say(f"  cerbos: {stats.describe()}")
    return Run("cerbos", stats, problem)


def _cpniguard(url: str, tmp: Path, workers: int, ids: list[uuid.UUID], key: str, label: str) -> Run:
    script = wrk.write_lua(tmp / f"{label}.lua", _requests(ids, key))
    with http_server.ApiServer(url, tmp, workers=workers) as server:
        status, body = server.post(f"/customers/{ids[0]}/checks", {"purpose": "billing"}, key)
        if not 200 <= status < 300:
            return Run(label, wrk.WrkStats(0, 0, 0, 0, 0, 0, 0), f"sanity request answered {status}: {body[:200]}")
        wrk.run(server.base, script, WARMUP_SECONDS)
        time.sleep(1.0)  # the warm-up's last requests land before the count starts
        before = http_server.decision_entries(url)
        stats = wrk.run(server.base, script, SECONDS)
        time.sleep(1.0)  # let requests still in flight finish before counting
        grew = http_server.decision_entries(url) - before
    say(f"  {label}: {stats.describe()}; ledger +{grew:,} decision entries")
    problem = None
    if not 0 <= grew - stats.ok <= wrk.CONNECTIONS:
        problem = f"ledger grew by {grew:,} but wrk counted {stats.ok:,} 2xx"
    if stats.non_2xx or stats.socket_errors:
        problem = f"{stats.non_2xx} non-2xx responses, {stats.socket_errors} socket errors"
    return Run(label, stats, problem)


def _backend(name: str, url: str, tmp: Path, runs: list[Run]) -> None:
    say(f"  preparing {name}: init, {CUSTOMERS:,} customers, API key")
    ids, key = http_server.prepare(url, tmp, CUSTOMERS, SEED)
    for workers in (1, 2):
        runs.append(_cpniguard(url, tmp, workers, ids, key, f"{name}_{workers}w"))


def _results(runs: list[Run], cerbos: list[Run]) -> list[Result]:
    base = max(cerbos, key=lambda r: r.stats.requests_per_second)
    theirs = base.stats
    spread = ", ".join(f"{r.stats.requests_per_second:,.0f}" for r in cerbos)
    results = []
    for run in runs:
        backend, workers = run.label.rsplit("_", 1)
        suffix = "" if workers == "1w" else "_2workers"
        ours = run.stats
        void = "; VOID: " + (run.problem or "") + (base.problem or "") if run.problem or base.problem else ""
        r = ratio(False, ours.requests_per_second, theirs.requests_per_second)
        # Two API processes are measured to show they do not help (the ledger's one head);
        # one process per database is what `cpniguard serve` recommends, and what is targeted.
        informational = workers != "1w"
        both = (informational or (r >= 0.5 and ours.p99_ms < 20)) and not void
        results.append(
            Result(
                f"decision.http.vs_cerbos_{backend}{suffix}",
                rounded(ours.requests_per_second),
                "req/s",
                f"Cerbos {theirs.requests_per_second:,.0f} req/s (runs: {spread}); "
                f"cpniguard p50 {ours.p50_ms:.2f} ms vs Cerbos {theirs.p50_ms:.2f} ms{void}",
                rounded(r),
                INFORMATIONAL if informational else TARGET,
                both,
            )
        )
        results.append(
            Result(
                f"decision.http.p99_{backend}{suffix}",
                rounded(ours.p99_ms),
                "ms",
                f"Cerbos p99 {theirs.p99_ms:.2f} ms{void}",
                rounded(ratio(True, ours.p99_ms, theirs.p99_ms)),
                INFORMATIONAL if informational else P99_TARGET,
                (informational or ours.p99_ms < 20) and not void,
            )
        )
    return results


def run(options: Options) -> list[Result]:
    names = [f"decision.http.vs_cerbos_{b}{s}" for b in ("sqlite", "postgresql") for s in ("", "_2workers")]
    why = "quick mode" if options.quick else (wrk.available() or http_server.api_missing())
    if why is None and not policies.CERBOS_BINARY.is_file():
        why = "Cerbos binary not installed (bash benchmarks/peers/install.sh)"
    if why:
        return [skipped(name, "req/s", TARGET, why) for name in names]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-http-", dir=options.work_dir) as scratch:
        tmp = Path(scratch)
        cerbos = [_cerbos(tmp)]
        sqlite_dir = tmp / "sqlite"
        sqlite_dir.mkdir()
        _backend("sqlite", f"sqlite:///{sqlite_dir / 'http.db'}", sqlite_dir, runs)
        if (missing := http_server.postgres_missing()) is not None:
            options.note(f"PostgreSQL runs skipped: {missing}")
        else:
            with http_server.postgres_database() as url:
                pg_dir = tmp / "postgresql"
                pg_dir.mkdir()
                _backend("postgresql", url, pg_dir, runs)
        cerbos.append(_cerbos(tmp))
    results = _results(runs, cerbos)
    if not any(r.name.startswith("decision.http.vs_cerbos_postgresql") for r in results):
        results += [skipped(n, "req/s", TARGET, "PostgreSQL not reachable") for n in names[2:]]
    return results
