"""Half of a whole-table batch decision on SQLite, read by a child process (the second core).

A batch over a million customers spends most of its time in SQLite stepping rows and in the
interpreter turning them into objects, both on one core; two threads only fight over the
interpreter lock (measured: slower than one). So `db/batch.py` hands the upper half of the
rowid range to a fresh interpreter running this module, which imports no SQLAlchemy and
starts in tens of milliseconds, and reads the lower half itself.

The request (the statement, its parameters, the database file) goes in on stdin; the answer
comes back on stdout: one JSON line with the denial counts, then the allowed customer ids,
one per line, as dashed UUID text.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from collections import Counter
from typing import IO, Any

from cpniguard.db.child import start_child

log = logging.getLogger(__name__)


def dashed(hex_id: str) -> str:
    """SQLite keeps a UUID as 32 hex digits; answers carry the dashed form."""
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"


def collect(rows: Any, allowed: list[str], counts: Counter[str], canonical: bool) -> None:
    """Rows of (customer id, denial reason or NULL), fetched in blocks straight from the driver."""
    add = allowed.append
    while block := rows.fetchmany(20_000):
        for customer_id, why in block:
            if why is None:
                add(dashed(customer_id) if canonical else customer_id)
            else:
                counts[why] += 1


class HalfScan:
    """The child process reading one half; `result()` is None when it failed (the caller then
    reads that half itself, so a failed child costs time, never an answer)."""

    def __init__(self, process: subprocess.Popen[bytes], errors: IO[bytes]) -> None:
        self._process = process
        self._errors = errors

    @classmethod
    def start(cls, database: str, sql: str, params: list[Any]) -> HalfScan | None:
        request = json.dumps({"database": database, "sql": sql, "params": params}).encode()
        started = start_child(__name__, request, "batch reader")
        if started is None:
            return None
        process, errors = started
        return cls(process, errors)

    def result(self) -> tuple[list[str], Counter[str]] | None:
        assert self._process.stdout is not None
        with self._process.stdout:
            out = self._process.stdout.read()
        failed = self._process.wait() != 0
        self._errors.seek(0)
        reason = self._errors.read().decode(errors="replace").strip()
        self._errors.close()
        if failed:
            log.warning("batch reader failed (%s); reading its half here", (reason.splitlines() or ["?"])[-1])
            return None
        head, _, body = out.decode().partition("\n")
        return (body.split("\n") if body else []), Counter(json.loads(head))


def main() -> None:
    request = json.load(sys.stdin)
    conn = sqlite3.connect(request["database"], isolation_level=None)
    try:
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA cache_size = -65536")
        allowed: list[str] = []
        counts: Counter[str] = Counter()
        collect(conn.execute(request["sql"], request["params"]), allowed, counts, canonical=True)
    finally:
        conn.close()
    sys.stdout.write(json.dumps(counts) + "\n" + "\n".join(allowed))


if __name__ == "__main__":
    main()
