"""What every benchmark shares: the result record, the run options, timing and formatting."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / ".data"  # cached seeded databases; git-ignored
VENV_BIN = REPO_ROOT / ".venv" / "bin"


@dataclass
class Result:
    """One line of results.json; ``ratio`` above 1 means cpniguard is better than the baseline."""

    name: str
    value: float | None
    unit: str
    baseline: str
    ratio: float | None
    target: str
    met: bool

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def skipped(name: str, unit: str, target: str, why: str) -> Result:
    return Result(name, None, unit, f"SKIPPED: {why}", None, target, False)


@dataclass
class Options:
    """How big and how long: ``quick`` is the few-seconds smoke run the test suite uses."""

    quick: bool = False
    work_dir: Path = field(default_factory=lambda: Path("/tmp"))
    notes: list[str] = field(default_factory=list)
    customers: int | None = None  # the scale run's sizes (benchmarks/scale.py); None: its defaults
    cdrs: int | None = None

    @property
    def data_dir(self) -> Path:
        """Where seeded databases are cached: the repository's for full runs, scratch for quick ones."""
        return self.work_dir / "data" if self.quick else DATA_DIR

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def note(self, text: str) -> None:
        """A remark printed under the table (noise, voids, skips)."""
        self.notes.append(text)
        say(f"  note: {text}")


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def interleaved(contenders: Mapping[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Seconds per call of each contender, taking turns ``repeats`` times so drift hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, run in contenders.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def noise(samples: list[float]) -> str:
    """How far the worst repeat is from the best, e.g. ``'best 1.20, median 1.25, worst +9%'``."""
    best, worst = min(samples), max(samples)
    spread = (worst / best - 1) * 100 if best > 0 else 0.0
    return f"best {best:.4g}, median {statistics.median(samples):.4g}, worst +{spread:.0f}% (n={len(samples)})"


def ratio(better_when_lower: bool, ours: float, theirs: float) -> float:
    """How many times better ours is: theirs/ours for times, ours/theirs for rates."""
    if better_when_lower:
        return theirs / ours if ours > 0 else float("inf")
    return ours / theirs if theirs > 0 else float("inf")


def rounded(value: float | None) -> float | None:
    """Three significant figures for the results file."""
    return None if value is None else float(f"{value:.3g}")


def human(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def table(results: list[Result]) -> str:
    """The results as a fixed-width table, one line each."""
    header = ("benchmark", "value", "unit", "ratio", "target", "met", "baseline")
    rows = [
        (
            r.name,
            human(r.value),
            r.unit,
            "-" if r.ratio is None else f"{r.ratio:.2f}x",
            r.target,
            "yes" if r.met else "NO",
            r.baseline,
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]))
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
