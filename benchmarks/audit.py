"""audit.*: appending to the hash-chained ledger and verifying it, on SQLite.

Append: decision-like ``AuditEntry`` objects (made beforehand, as a use case makes them) go
through the unit of work, ``uow.audit.add`` for each and one ``commit`` per 10,000, on a fresh
migrated file with a signing key (a signed checkpoint every 10,000 entries, the default). The
baseline is the floor: the same number of rows, already converted to column values, inserted
with ``sqlite3`` ``executemany`` in the same batches under the same pragmas, without hashing.
Verify: ``audit.service.verify`` re-reads and re-hashes every entry and checks every
checkpoint signature; the floor is a bare ``SELECT`` of every row in chain order.
"""

from __future__ import annotations

import base64
import sqlite3
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from benchmarks.common import Options, Result, noise, ratio, rounded, say, timed
from cpniguard.actors import Actor
from cpniguard.audit.model import PAYLOAD_FIELDS, AuditEntry
from cpniguard.audit.service import verify
from cpniguard.audit.signing import new_seed
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.db.migrate import upgrade

BATCH = 10_000
AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
COLUMNS = (*PAYLOAD_FIELDS, "hash")


def entries(n: int) -> list[AuditEntry]:
    actor = Actor("api-key", "billing-system", frozenset({"decide"}))
    made = []
    for i in range(n):
        made.append(
            AuditEntry.of(
                "decisions:cpni-use:allowed",
                actor,
                AT + timedelta(microseconds=i),
                uuid.uuid4(),
                categories=("cpni",),
                purpose="marketing-communications",
                basis=f"consent:{uuid.uuid4()}",
                outcome="allowed",
                reason="opt-in",
                details={"at": AT.isoformat(), "citation": "47 CFR 64.2007(b)"},
            )
        )
    return made


def fresh_app(path: Path, key: str) -> App:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = build(load_settings({}, database_url=f"sqlite:///{path}", audit_signing_key=key))
    upgrade(app.engine)
    return app


def append(app: App, made: list[AuditEntry]) -> None:
    for start in range(0, len(made), BATCH):
        with app.uow() as uow:
            for entry in made[start : start + BATCH]:
                uow.audit.add(entry)
            uow.commit()


def _row(entry: AuditEntry, seq: int) -> tuple[object, ...]:
    """The column values the application would store, without the hashes."""
    values = {name: getattr(entry, name) for name in COLUMNS}
    values.update(seq=seq, prev_hash="", hash="")
    return tuple(values[name] for name in COLUMNS)


def plain_insert(path: Path, rows: list[tuple[object, ...]]) -> None:
    """The floor: executemany of ready rows, no hashing, same batches and pragmas as the app."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA cache_size=-65536")
    marks = ",".join("?" * len(COLUMNS))
    sql = f"INSERT INTO audit_entries ({','.join(COLUMNS)}) VALUES ({marks})"
    for start in range(0, len(rows), BATCH):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows[start : start + BATCH])
        conn.execute("COMMIT")
    conn.close()


def bare_select(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT * FROM audit_entries ORDER BY seq").fetchall()
    conn.close()
    return len(rows)


def checked_verify(app: App, n: int) -> tuple[float, str | None]:
    """Seconds to verify the ledger, and what was wrong with the answer (None when right)."""
    start = time.perf_counter()
    result = verify(app.uow(), app.verifier)
    elapsed = time.perf_counter() - start
    if result.ok and result.entries == n and result.checkpoints_checked == n // BATCH:
        return elapsed, None
    return elapsed, f"verify: ok={result.ok} entries={result.entries} {result.problem}"


def run(options: Options) -> list[Result]:
    n = options.size(200_000, 5_000)
    repeats = options.size(2, 1)
    key = base64.b64encode(new_seed()).decode()
    made = entries(n)
    rows = [_row(e, i + 1) for i, e in enumerate(made)]
    ours, floor, verified, selected = [], [], [], []
    problems: list[str] = []
    path = options.work_dir / "audit.db"
    plain = options.work_dir / "audit-plain.db"
    for _ in range(repeats):  # each turn: the floor and ours on fresh files, then verify twice
        fresh_app(plain, key).close()
        floor.append(timed(partial(plain_insert, plain, rows)))
        app = fresh_app(path, key)
        ours.append(timed(partial(append, app, made)))
        for _ in range(2):
            elapsed, problem = checked_verify(app, n)
            verified.append(elapsed)
            problems += [problem] if problem else []
            selected.append(timed(partial(bare_select, path)))
        app.close()
    rates = [n / s for s in ours]
    say(f"  append {n:,}: {max(rates):,.0f} entries/s ({noise(ours)} s); plain insert {noise(floor)} s")
    say(f"  verify {n:,}: {n / min(verified):,.0f} entries/s ({noise(verified)} s); bare SELECT {noise(selected)} s")
    void = f"; VOID: {'; '.join(problems)}" if problems else ""
    best, best_floor, best_verify, best_select = min(ours), min(floor), min(verified), min(selected)
    return [
        Result(
            "audit.append.batched_sqlite",
            rounded(n / best),
            "entries/s",
            f"sqlite3 executemany without hashing {n / best_floor:,.0f} rows/s (floor){void}",
            rounded(ratio(True, best, best_floor)),
            ">= 100,000 entries/s",
            not problems and n / best >= 100_000,
        ),
        Result(
            "audit.verify_sqlite",
            rounded(n / best_verify),
            "entries/s",
            f"bare SELECT of every row {n / best_select:,.0f} rows/s (floor){void}",
            rounded(ratio(True, best_verify, best_select)),
            ">= 300,000 entries/s",
            not problems and n / best_verify >= 300_000,
        ),
    ]
