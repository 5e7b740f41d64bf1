"""Reading the audit ledger back to verify it, fast: the database joins each stored entry's
fields into its payload text, the driver hands over plain tuples, and `RunCheck` hashes them.

A large ledger is checked in stretches of seq, one per CPU: this process checks the first on
its own connection (inside the unit of work's transaction), worker processes
(`python -m cpniguard.db.audit_scan`) the others, and `join_runs` checks the links between
them. Workers are fresh interpreters (db/child.py); this module imports no SQLAlchemy, so one
starts in tens of ms.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict
from typing import IO, Any

from cpniguard.audit.model import GENESIS_HASH, PAYLOAD_FIELDS, SEPARATOR, ChainRow, Run, RunCheck
from cpniguard.db.child import start_child

log = logging.getLogger(__name__)
BEFORE_FIRST = -(2**63)
AFTER_LAST = 2**63 - 1
WHOLE = (BEFORE_FIRST, AFTER_LAST)
MAX_STRETCHES = 4
Progress = Callable[[int], None]
Stretch = tuple[int, int]  # (after, upto]: the seqs one process checks

_FORMAT = SEPARATOR.join(["%s"] * len(PAYLOAD_FIELDS))
_COLUMNS = ", ".join(PAYLOAD_FIELDS)
# SQLite's printf stops at a NUL byte, so a payload counts only when it is exactly as long as
# the stored fields; otherwise it comes back NULL and the entry fails (see audit.model.link).
_SIZE = " + ".join(
    f"coalesce(length(CAST({name} AS BLOB)), 0)" if name == "customer_id" else f"length(CAST({name} AS BLOB))"
    for name in PAYLOAD_FIELDS
)
SQLITE_ROWS = (
    "SELECT seq, CASE WHEN length(payload) = size THEN payload END, prev_hash, hash FROM ("
    f"SELECT seq, CAST(printf(?, {_COLUMNS}) AS BLOB) AS payload, {_SIZE} + {len(PAYLOAD_FIELDS) - 1} AS size, "
    "prev_hash, hash FROM audit_entries WHERE seq > ? AND seq <= ? ORDER BY seq)"
)
# PostgreSQL text holds no NUL; format() writes NULL (no customer) as "", as the payload does.
POSTGRESQL_ROWS = (
    f"SELECT seq, convert_to(format(%s, {_COLUMNS}), 'UTF8'), prev_hash, hash "
    "FROM audit_entries WHERE seq > %s AND seq <= %s ORDER BY seq"
)
# Where the next stored entry is, past a stretch of seqs that holds none (a deleted run, or
# the space before the first entry and after the last).
SQLITE_NEXT = "SELECT min(seq) FROM audit_entries WHERE seq > ? AND seq <= ?"
POSTGRESQL_NEXT = "SELECT min(seq) FROM audit_entries WHERE seq > %s AND seq <= %s"


def chain_rows(driver: Any, dialect: str, stretch: Stretch, batch_size: int) -> Iterator[list[ChainRow]]:
    """The stored entries of one stretch in chain order, in batches of `batch_size` seqs (flat
    memory). Each batch is a range of seqs, not `ORDER BY seq LIMIT n` over the rest of the
    stretch: with statistics older than the ledger (after a bulk load, or a restore, before
    autovacuum's ANALYZE) PostgreSQL planned that as a bitmap scan and a sort of the whole rest,
    batch after batch, and a verification of 10M entries took 4x the bare walk (benchmarks/scale.py)."""
    rows_sql, next_sql = (SQLITE_ROWS, SQLITE_NEXT) if dialect == "sqlite" else (POSTGRESQL_ROWS, POSTGRESQL_NEXT)
    after, upto = stretch
    cursor = driver.cursor() if dialect == "sqlite" else driver.cursor(binary=True)  # bytea as is, not hex
    try:
        while after < upto:
            end = min(upto, after + batch_size)
            cursor.execute(rows_sql, (_FORMAT, after, end))
            rows: list[ChainRow] = cursor.fetchall()
            if rows:
                yield rows
                after = end
                continue
            cursor.execute(next_sql, (end, upto))
            found = cursor.fetchone()
            if found is None or found[0] is None:
                return
            after = int(found[0]) - 1
    finally:
        cursor.close()


def check_stretch(
    driver: Any,
    dialect: str,
    stretch: Stretch,
    batch_size: int,
    checkpoints: Mapping[int, str],
    progress: Progress | None = None,
) -> Run:
    """Checks one stretch; the first one must follow the genesis hash, the others are joined."""
    check = RunCheck(checkpoints, (0, GENESIS_HASH) if stretch[0] == BEFORE_FIRST else None)
    for rows in chain_rows(driver, dialect, stretch, batch_size):
        check.feed(rows)
        if progress is not None:
            progress(len(rows))
    return check.run


def stretches(first: int | None, last: int | None, parallel_from: int) -> list[Stretch]:
    """The whole ledger as one stretch, or, from `parallel_from` entries on, one per CPU."""
    parts = min(_usable_cpus(), MAX_STRETCHES)
    if first is None or last is None or last - first + 1 < max(parallel_from, 2) or parts < 2:
        return [WHOLE]
    bounds = [first - 1 + (last - first + 1) * k // parts for k in range(1, parts)]
    return list(zip([BEFORE_FIRST, *bounds], [*bounds, AFTER_LAST], strict=True))


def check_ledger(
    driver: Any,
    dialect: str,
    target: dict[str, str] | None,
    plan: list[Stretch],
    batch_size: int,
    checkpoints: Mapping[int, str],
    progress: Progress | None = None,
) -> list[Run]:
    """Checks the first stretch here and the others in workers that open `target` themselves;
    a stretch whose worker failed is checked here afterwards (the same verdict, later)."""
    workers = [Worker.start(target, dialect, stretch, batch_size, checkpoints) for stretch in plan[1:]]
    try:
        runs = [check_stretch(driver, dialect, plan[0], batch_size, checkpoints, progress)]
        for stretch, worker in zip(plan[1:], workers, strict=True):
            run = worker.result() if worker else None
            if run is None:
                run = check_stretch(driver, dialect, stretch, batch_size, checkpoints)
            if progress is not None:
                progress(run.entries)
            runs.append(run)
        return runs
    finally:
        for worker in workers:
            if worker:
                worker.stop()


class Worker:
    """One stretch checked in a child process. The request goes in on stdin (it may carry a
    database password), the `Run` comes back as JSON on stdout, a failure's reason on stderr
    (a file, so a long one cannot block the child while this process reads stdout)."""

    def __init__(self, process: subprocess.Popen[bytes], errors: IO[bytes]) -> None:
        self._process = process
        self._errors = errors

    @classmethod
    def start(
        cls,
        target: dict[str, str] | None,
        dialect: str,
        stretch: Stretch,
        batch_size: int,
        checkpoints: Mapping[int, str],
    ) -> Worker | None:
        if target is None:
            return None
        request = {
            "target": target,
            "dialect": dialect,
            "stretch": list(stretch),
            "batch_size": batch_size,
            "checkpoints": list(checkpoints.items()),
        }
        started = start_child(__name__, json.dumps(request).encode(), "audit verification worker")
        if started is None:
            return None
        process, errors = started
        return cls(process, errors)

    def result(self) -> Run | None:
        """The worker's run, or None when it failed."""
        assert self._process.stdout is not None
        with self._process.stdout:
            out = self._process.stdout.read()
        if self._process.wait() == 0:
            with contextlib.suppress(ValueError, TypeError):
                return Run(**json.loads(out))
        self._errors.seek(0)
        reason = (self._errors.read().decode(errors="replace").strip().splitlines() or ["no answer"])[-1]
        log.warning("audit verification worker failed (%s); checking its stretch here", reason)
        return None

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._errors.close()


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):  # Linux: the CPUs this process may run on
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _connect(target: dict[str, str]) -> Any:
    if "sqlite" in target:
        conn = sqlite3.connect(target["sqlite"], isolation_level=None)
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA cache_size = -65536")
        return conn
    import psycopg  # only PostgreSQL workers pay for the import

    pg = psycopg.connect(target["postgresql"])
    pg.read_only = True
    return pg


def main() -> None:
    request = json.load(sys.stdin)
    driver = _connect(request["target"])
    try:
        stretch = (request["stretch"][0], request["stretch"][1])
        checkpoints = {int(seq): head for seq, head in request["checkpoints"]}
        run = check_stretch(driver, request["dialect"], stretch, request["batch_size"], checkpoints)
    finally:
        driver.close()
    json.dump(asdict(run), sys.stdout)


if __name__ == "__main__":
    main()
