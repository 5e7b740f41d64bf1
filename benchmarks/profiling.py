"""Profile one hot path with cProfile, to find what holds a benchmark back.

    .venv/bin/python -m benchmarks.profiling {audit-append,audit-verify,check,batch,decide} [--size N]

Prints the functions with the most own time, then cpniguard's own functions by cumulative
time. Sizes default to a fraction of the benchmark's, so a profile takes seconds.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import pstats
import random
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import audit, batch, in_process, seeding
from benchmarks.common import DATA_DIR
from benchmarks.peers import policies
from cpniguard.actors import Actor
from cpniguard.audit.service import verify
from cpniguard.audit.signing import new_seed
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.decisions.model import Purpose, Request, decide
from cpniguard.decisions.service import check
from cpniguard.ids import CustomerId

Target = Callable[[Path, int], Callable[[], object]]


def _key() -> str:
    return base64.b64encode(new_seed()).decode()


def audit_append(work: Path, n: int) -> Callable[[], object]:
    app = audit.fresh_app(work / "p.db", _key())
    made = audit.entries(n)
    return lambda: audit.append(app, made)


def audit_verify(work: Path, n: int) -> Callable[[], object]:
    app = audit.fresh_app(work / "p.db", _key())
    audit.append(app, audit.entries(n))
    return lambda: verify(app.uow(), app.verifier)


def check_one_by_one(work: Path, n: int) -> Callable[[], object]:
    """The service function behind POST /customers/{id}/checks, called n times in process."""
    app = seeding_app(work)
    ids = list(seeding.seed(app.engine, 2000, 3, keep_ids=True).ids)
    actor = Actor("api-key", "bench", frozenset({"decide"}))
    rng = random.Random(1)
    calls = [(CustomerId(rng.choice(ids)), Request(rng.choice(list(Purpose)))) for _ in range(n)]

    def run() -> None:
        for customer, request in calls:
            check(app.uow(), app.clock, actor, customer, request)

    return run


def seeding_app(work: Path) -> App:
    url = f"sqlite:///{work / 'p.db'}"
    seeding.migrated_engine(url, work / "p.key").dispose()
    return build(load_settings({}, database_url=url, audit_key_file=str(work / "p.key")))


def batch_decisions(work: Path, n: int) -> Callable[[], object]:
    cached = DATA_DIR if n >= 1_000_000 else work
    path, _ = seeding.cached_sqlite(n, batch.SEED, cached, work)
    copy = work / "batch.db"
    shutil.copyfile(path, copy)
    app = build(load_settings({}, database_url=f"sqlite:///{copy}", audit_key_file=str(work / "b.key")))
    return batch._decide_all(app)


def pure_decide(work: Path, n: int) -> Callable[[], object]:
    items = [in_process.prepare(f, i) for i, f in enumerate(policies.make_inputs(2000, in_process.SEED))]
    calls = [(r, c, s) for r, c, s in items if r is not None] * max(1, n // 2000)

    def run() -> None:
        for request, customer, state in calls:
            decide(request, customer, state, in_process.AT)

    return run


TARGETS: dict[str, tuple[Target, int]] = {
    "audit-append": (audit_append, 50_000),
    "audit-verify": (audit_verify, 50_000),
    "check": (check_one_by_one, 2_000),
    "batch": (batch_decisions, 1_000_000),
    "decide": (pure_decide, 200_000),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profiling", description=__doc__.split("\n", 1)[0])
    parser.add_argument("target", choices=sorted(TARGETS))
    parser.add_argument("--size", type=int, help="how many entries, calls or customers")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    make, size = TARGETS[args.target]
    with tempfile.TemporaryDirectory(prefix="cpniguard-profile-") as scratch:
        run = make(Path(scratch), args.size or size)
        profiler = cProfile.Profile()
        profiler.runcall(run)
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats("cpniguard", args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
