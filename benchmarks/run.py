"""Run cpniguard's benchmarks against its peers; write benchmarks/results.json and print a table.

    .venv/bin/python -m benchmarks.run [--quick] [--only NAME ...] [--output PATH]

``--quick`` is a smoke run of a few seconds with small sizes (no Cerbos, no wrk): it shows the
harness works, its figures mean nothing. ``--only`` picks areas by name (see ``AREAS``). The
scale run (``--only scale --customers N --cdrs M``) takes hours at full size and runs only
when asked for.
Progress and noise go to stderr; the table goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import audience, audit, batch, credentials, demo, http_decisions, in_process, outbox, scale
from benchmarks.common import BENCH_DIR, Options, Result, say, table

AREAS: dict[str, Callable[[Options], list[Result]]] = {
    "in_process": in_process.run,
    "audit": audit.run,
    "batch": batch.run,
    "audience": audience.run,
    "http": http_decisions.run,
    "demo": demo.run,
    "outbox": outbox.run,
    "credentials": credentials.run,
    "scale": scale.run,
}
ASKED_FOR_ONLY = frozenset({"scale"})  # not in the default run: too long


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds (small sizes)")
    parser.add_argument("--only", nargs="+", choices=sorted(AREAS), metavar="NAME", help=f"areas: {', '.join(AREAS)}")
    parser.add_argument("--customers", type=int, help="scale: how many customers (default 100,000)")
    parser.add_argument("--cdrs", type=int, help="scale: how many call detail records (default 500,000)")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results.json", help="the results file")
    return parser.parse_args(argv)


def run_area(name: str, area: Callable[[Options], list[Result]], options: Options) -> list[Result]:
    say(f"== {name}")
    start = time.perf_counter()
    results = area(options)
    say(f"   ({time.perf_counter() - start:.1f} s)")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    chosen = args.only or [name for name in AREAS if name not in ASKED_FOR_ONLY]
    results: list[Result] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cpniguard-bench-") as scratch:
        options = Options(quick=args.quick, work_dir=Path(scratch), customers=args.customers, cdrs=args.cdrs)
        for name in chosen:
            results += run_area(name, AREAS[name], options)
    args.output.write_text(json.dumps([r.as_json() for r in results], indent=2) + "\n", encoding="utf-8")
    print(table(results))
    for note in options.notes:
        print(f"note: {note}")
    mode = "quick smoke run: figures are not meaningful" if args.quick else "full run"
    met = sum(r.met for r in results)
    print(f"\n{met} of {len(results)} targets met ({mode}, {time.perf_counter() - started:.0f} s); wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
