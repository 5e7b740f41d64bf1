"""scale.*: a carrier's size on PostgreSQL, through the commands an operator runs (issue 7).

Generated CSV files (in the run's scratch folder, never committed) of N customers and M call
detail records over the reporting year go in with `cpniguard import customers` and
`cpniguard import cdrs`, each a subprocess whose wall time and peak RSS are measured (/proc
samples of it and its children every 0.1 s, and its own VmHWM), to see whether RSS grows with
the input. The
floor of an import is the bare `COPY` of the same file, as text, into an unlogged table.

Then, untimed, consent state for every customer (SQL, the shares of benchmarks/seeding.py) and
a ledger of one decision entry per customer (through the unit of work, as the gate writes it);
and timed, each beside its bare SQL on the same database:
- the audience build of an approved campaign (as benchmarks/audience.py) against the COUNT of
  the same customers (benchmarks/batch.py's predicate); void unless they agree;
- `cpniguard audit verify` against a bare walk of the hash chain (psycopg, server-side cursor,
  SHA-256 of each payload as audit.model joins it); void unless both find the chain whole;
- `cpniguard certification build --year Y` against the bare scans the certification's
  evidence needs most (the year's ledger by action, customers by month, opt-outs by month).

    .venv/bin/python -m benchmarks.run --only scale --customers 10000000 --cdrs 50000000

Not in the default run: at full size it takes hours. It runs in its own database
`cpniguard_scale`, dropped at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from benchmarks import audience, batch, http_server
from benchmarks.common import VENV_BIN, Options, Result, ratio, rounded, say, skipped
from cpniguard.actors import Actor
from cpniguard.audit.model import PAYLOAD_FIELDS, SEPARATOR, AuditEntry
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.clock import SystemClock

DATABASE = "cpniguard_scale"
AREAS = (201, 202, 212, 213, 303, 312, 404, 415, 512, 617, 702, 713, 718, 801, 917)
SERVICES = ("local", "local;long-distance", "wireless", "interconnected-voip", "ucaas;sip-trunk", "local;voicemail")
LEDGER_BATCH = 10_000
SLOWER_AT_MOST = 10.0  # the figures' target: within 10x of the bare SQL doing the same selection
FLAT = 1.25  # RSS is flat when the peak is within 25 % (+ 32 MB) of the RSS at a quarter of the run


@dataclass
class Run:
    """One command's measurements: wall time, the kernel's peak RSS and sampled RSS over time."""

    seconds: float = 0.0
    peak_mb: float = 0.0
    samples: list[tuple[float, float]] = field(default_factory=list)

    def early_mb(self) -> float:
        """RSS at a quarter of the run (the first sample past it). The command's own start (about
        3 s of imports) is in it, so on a run of a few seconds the figure means nothing."""
        later = [mb for at, mb in self.samples if at >= self.seconds / 4]
        return later[0] if later else self.peak_mb

    def flat(self) -> bool:
        return self.peak_mb <= self.early_mb() * FLAT + 32


def customer_id(i: int) -> uuid.UUID:
    """The i-th generated customer's id: PostgreSQL's md5('scale:' || i)::uuid."""
    return uuid.UUID(hashlib.md5(f"scale:{i}".encode()).hexdigest())


def _telephone_number(i: str) -> str:
    areas = ",".join(map(str, AREAS))
    exchange = f"(200 + ({i} / 10000) % 800)"
    return f"'+1' || (ARRAY[{areas}])[{i} % {len(AREAS)} + 1] || {exchange} || lpad(({i} % 10000)::text, 4, '0')"


def _stamp(instant: str) -> str:
    return f"""to_char({instant}, 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')"""


def customers_query(n: int, year: int) -> str:
    services = ",".join(f"'{s}'" for s in SERVICES)
    since = f"timestamp '{year - 3}-01-01' + random() * (timestamp '{year}-11-01' - timestamp '{year - 3}-01-01')"
    return f"""
        SELECT md5('scale:' || i)::uuid AS id, 'Customer ' || lpad(i::text, 8, '0') AS name,
               CASE WHEN i % 10 = 3 THEN 'business' ELSE 'residential' END AS kind,
               {_telephone_number("i")} AS telephone_numbers, 'c' || i || '@example.com' AS emails,
               (i % 9000 + 1) || ' Main Street, Springfield, IL 62701' AS postal_address,
               (ARRAY[{services}])[i % {len(SERVICES)} + 1] AS services, {_stamp(since)} AS customer_since
        FROM generate_series(0, {n - 1}) i"""


def cdrs_query(m: int, customers: int, year: int) -> str:
    started = f"timestamp '{year}-01-01' + random() * (timestamp '{year}-11-01' - timestamp '{year}-01-01')"
    return f"""
        SELECT md5('scale:' || c)::uuid AS customer_id, {_telephone_number("c")} AS service_number,
               {_stamp(started)} AS started_at,
               CASE WHEN random() < 0.6 THEN 'outbound' ELSE 'inbound' END AS direction,
               {_telephone_number("o")} AS other_party_number, 1 + floor(random() * 3599)::int AS duration_seconds,
               floor(random() * 500)::int AS charge_cents, 'Springfield, IL' AS location
        FROM (SELECT floor(random() * {customers})::bigint AS c, floor(random() * {customers})::bigint AS o
              FROM generate_series(1, {m})) g"""


def generate(url: str, path: Path, query: str) -> None:
    """A CSV file made by PostgreSQL (C is 30x faster at it than Python), streamed to disk."""
    with psycopg.connect(url) as conn, conn.cursor() as cursor, path.open("wb") as out:
        conn.execute("SELECT setseed(0.7)")
        with cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv, HEADER true)") as copy:
            for chunk in copy:
                out.write(chunk)


def _status_mb(pid: int, field: str) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _tree(pid: int) -> list[int]:
    """The process and its descendants (audit verify reads with child processes)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            found = [int(c) for c in children.read().split()]
    except OSError:
        return [pid]
    return [pid, *(d for c in found for d in _tree(c))]


def _tree_mb(pid: int) -> tuple[float, float]:
    """RSS of the process tree now, and the command's own peak (VmHWM) so far."""
    return sum(_status_mb(p, "VmRSS:") for p in _tree(pid)), _status_mb(pid, "VmHWM:")


def measured(url: str, work_dir: Path, *args: str) -> tuple[Run, str]:
    """Runs a cpniguard command, sampling its RSS (and its children's) every 0.1 s. Not the
    kernel's ru_maxrss from wait4: Linux counts in it the RSS of the forking parent (this
    benchmark, 280 MB after the ledger was seeded), and it is the largest process, not the sum."""
    command = [str(VENV_BIN / "cpniguard"), "--database-url", url, *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPNIGUARD_")}
    env["CPNIGUARD_AUDIT_KEY_FILE"] = str(work_dir / "cpniguard-audit.key")
    run = Run()
    out_path = work_dir / "command.out"
    with out_path.open("w") as out, (work_dir / "command.err").open("w") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=work_dir, env=env, stdout=out, stderr=err)
        done = threading.Event()
        own_peak = [0.0]

        def sample() -> None:
            while not done.wait(0.1):
                tree, hwm = _tree_mb(process.pid)
                if tree:
                    run.samples.append((time.perf_counter() - start, tree))
                    own_peak[0] = max(own_peak[0], hwm)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        process.wait()
        run.seconds = time.perf_counter() - start
        done.set()
        sampler.join()
    run.peak_mb = max([own_peak[0], *(mb for _, mb in run.samples)])
    if process.returncode != 0:
        problem = (work_dir / "command.err").read_text().strip()[-500:]
        raise RuntimeError(f"{' '.join(args)} failed ({process.returncode}): {problem}")
    return run, out_path.read_text()


def bare_copy(url: str, path: Path) -> float:
    """The floor of an import: the file's lines COPYed as CSV text into an unlogged table."""
    with path.open() as source:
        columns = len(source.readline().split(","))
    names = ", ".join(f"c{i} text" for i in range(columns))
    with psycopg.connect(url) as conn:
        conn.execute(f"CREATE UNLOGGED TABLE bare_copy ({names})")
        start = time.perf_counter()
        statement = "COPY bare_copy FROM STDIN (FORMAT csv, HEADER true)"
        with conn.cursor() as cursor, cursor.copy(statement) as copy, path.open("rb") as data:
            while chunk := data.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        took = time.perf_counter() - start
        conn.execute("DROP TABLE bare_copy")
        conn.commit()
    return took


CONSENT_SQL = """
INSERT INTO consent_state (customer_id, objection_event, objection_since, opt_in_event, opt_in_since,
                           notice_event, presumed_from, renotice_due, last_event_at, events_applied)
SELECT id,
       CASE WHEN p < 10 THEN gen_random_uuid() END, CASE WHEN p < 10 THEN since END,
       CASE WHEN p >= 10 AND p < 35 THEN gen_random_uuid() END, CASE WHEN p >= 10 AND p < 35 THEN since END,
       CASE WHEN p >= 35 AND p < 90 THEN gen_random_uuid() END,
       CASE WHEN p >= 35 AND p < 80 THEN since WHEN p >= 80 AND p < 90 THEN since - interval '800 days' END,
       CASE WHEN p >= 35 AND p < 80 THEN timestamp '2099-01-01' WHEN p >= 80 AND p < 90 THEN since END,
       since, CASE WHEN p < 90 THEN 2 ELSE 0 END
FROM (SELECT id, created_at AS since, (('x' || substr(md5(id::text), 1, 8))::bit(32)::int & 2147483647) % 100 AS p
      FROM customers) c
WHERE p < 95
"""


def seed_consent(url: str) -> int:
    """Consent state as benchmarks/seeding.py shares it out; returns how many allow marketing."""
    with psycopg.connect(url) as conn:
        conn.execute("SET LOCAL synchronous_commit = off")
        conn.execute(CONSENT_SQL)
        conn.commit()
        conn.execute("ANALYZE consent_state")
        row = conn.execute("SELECT count(*) FROM consent_state WHERE opt_in_since IS NOT NULL OR renotice_due > now()")
        allowed = int(row.fetchone()[0])  # type: ignore[index]
        conn.commit()
    return allowed


def seed_ledger(app: App, n: int) -> None:
    """One decision entry per customer, dated in the last day (the ledger's time grows with seq)."""
    actor = Actor("api-key", "billing-system", frozenset({"decide"}))
    at = app.clock.now() - timedelta(days=1)
    for start in range(0, n, LEDGER_BATCH):
        with app.uow() as uow:
            for i in range(start, min(n, start + LEDGER_BATCH)):
                uow.audit.add(
                    AuditEntry.of(
                        "decisions:cpni-use:allowed",
                        actor,
                        at + timedelta(microseconds=i),
                        customer_id(i % max(1, n)),
                        categories=("cpni",),
                        purpose="marketing-communications",
                        outcome="allowed",
                        reason="opt-in",
                        details={"citation": "47 CFR 64.2007(b)"},
                    )
                )
            uow.commit()


def bare_chain_walk(url: str) -> tuple[float, int, bool]:
    """Seconds to re-hash the whole chain in bare Python over a server-side cursor; entries; whole?"""
    fields = ", ".join(f"coalesce({name}::text, '')" for name in PAYLOAD_FIELDS)
    start = time.perf_counter()
    whole, count, prev = True, 0, None
    with psycopg.connect(url) as conn, conn.cursor(name="chain") as cursor:
        cursor.itersize = 20_000
        cursor.execute(f"SELECT {fields}, hash FROM audit_entries ORDER BY seq")
        for row in cursor:
            *values, stored = row
            if prev is not None and values[-1] != prev:
                whole = False
            whole &= hashlib.sha256(SEPARATOR.join(values).encode()).hexdigest() == stored
            prev, count = stored, count + 1
    return time.perf_counter() - start, count, whole


def bare_certification(url: str, year: int) -> float:
    """The scans the year's evidence needs most, in bare SQL (UTC months; close enough)."""
    months = [datetime(year + m // 12, m % 12 + 1, 1, tzinfo=UTC).replace(tzinfo=None) for m in range(13)]
    customers = ", ".join(f"sum(CASE WHEN created_at < '{end}' THEN 1 ELSE 0 END)" for end in months[1:])
    opt_outs = ", ".join(
        f"sum(CASE WHEN at >= '{a}' AND at < '{b}' THEN 1 ELSE 0 END)" for a, b in itertools.pairwise(months)
    )
    low, high = f"{months[0]:%Y-%m-%dT%H:%M:%S}.000000Z", f"{months[-1]:%Y-%m-%dT%H:%M:%S}.000000Z"
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        conn.execute(
            f"SELECT action, count(*) FROM audit_entries WHERE at >= '{low}' AND at < '{high}' GROUP BY action"
        ).fetchall()
        conn.execute(f"SELECT {customers} FROM customers").fetchall()
        conn.execute(f"SELECT {opt_outs} FROM consent_events WHERE kind = 'opt-out'").fetchall()
        return time.perf_counter() - start


def _admin(sql: str) -> None:
    with psycopg.connect(f"{http_server.POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{DATABASE}"')
    try:
        yield f"{http_server.POSTGRES_SERVER}/{DATABASE}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


def _within(name: str, ours: float, floor: float, baseline: str, unit: str = "s") -> Result:
    better = ratio(True, ours, floor)
    return Result(
        name,
        rounded(ours),
        unit,
        baseline,
        rounded(better),
        f"<= {SLOWER_AT_MOST:.0f}x bare SQL",
        better >= 1 / SLOWER_AT_MOST,
    )


def _import_results(kind: str, size: str, rows: int, run: Run, floor: float, settings: str) -> list[Result]:
    rate, bare_rate = rows / run.seconds, rows / floor
    return [
        Result(
            f"scale.import.{kind}.{size}",
            rounded(rate),
            "rows/s",
            f"bare COPY of the same CSV as text {bare_rate:,.0f} rows/s; ours {run.seconds:.0f} s for {rows:,} rows "
            f"(PostgreSQL {settings})",
            rounded(ratio(False, rate, bare_rate)),
            "streams (see .rss)",
            run.flat(),
        ),
        _rss(f"scale.import.{kind}.{size}.rss", run),
    ]


def _label(n: int) -> str:
    return f"{n / 1e6:g}m" if n >= 1_000_000 else f"{n / 1e3:g}k"


def run(options: Options) -> list[Result]:
    customers = options.customers or options.size(100_000, 2_000)
    cdrs = options.cdrs or options.size(500_000, 10_000)
    size = f"{_label(customers)}_{_label(cdrs)}"
    if (missing := http_server.postgres_missing()) is not None:
        return [skipped(f"scale.import.customers.{size}", "rows/s", "streams", missing)]
    year = SystemClock().now().year
    work = options.work_dir / "scale"
    work.mkdir(exist_ok=True)
    people, calls = work / "customers.csv", work / "cdrs.csv"
    try:
        with scratch_database() as url:
            start = time.perf_counter()
            generate(url, people, customers_query(customers, year))
            generate(url, calls, cdrs_query(cdrs, customers, year))
            say(f"  generated {customers:,} customers and {cdrs:,} calls in {time.perf_counter() - start:.0f} s")
            return _measure(url, work, customers, cdrs, size, year)
    finally:
        people.unlink(missing_ok=True)
        calls.unlink(missing_ok=True)


SETTINGS = ("shared_buffers", "max_wal_size", "checkpoint_timeout", "synchronous_commit")


def server_settings(url: str) -> str:
    """The server's settings that decide a bulk load's pace, for the record beside the figures."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)", [list(SETTINGS)]
        )
        return ", ".join(f"{name}={value}" for name, value in sorted(rows.fetchall()))


def _measure(url: str, work: Path, customers: int, cdrs: int, size: str, year: int) -> list[Result]:
    """The imports first and last, the reads between them at the full count of customers: the
    import of call detail, the longest part at full size, comes last, and each figure is printed
    as it is made (`_kept`), so a run stopped during that import keeps the others."""
    http_server.cli(url, work, "init", "--json")
    settings = server_settings(url)
    say(f"  PostgreSQL: {settings}")
    results = _kept(_import(url, work, "customers", work / "customers.csv", customers, size, settings))
    start = time.perf_counter()
    allowed = seed_consent(url)
    settings_app = load_settings(
        {},
        database_url=url,
        audit_key_file=str(work / "cpniguard-audit.key"),
        cpni_key_file=str(work / "cpniguard-cpni.key"),
    )
    app = build(settings_app)
    seed_ledger(app, customers)
    say(f"  seeded consent state and {customers:,} ledger entries in {time.perf_counter() - start:.0f} s")
    started, _ = measured(url, work, "--help")  # what a command costs before it does anything
    say(f"  a command's start (cpniguard --help): {started.seconds:.1f} s, {started.peak_mb:.0f} MB")
    results += _kept(_audience(app, url, work, size, allowed, started.seconds))
    app.close()
    results += _kept(_verify(url, work, size, started.seconds))
    results += _kept([_certification(url, work, size, year, started.seconds)])
    results += _kept(_import(url, work, "cdrs", work / "cdrs.csv", cdrs, size, settings))
    return results


def _import(url: str, work: Path, kind: str, path: Path, rows: int, size: str, settings: str) -> list[Result]:
    done, _ = measured(url, work, "import", kind, str(path), "--json")
    floor = bare_copy(url, path)
    say(
        f"  import {kind}: {rows:,} rows in {done.seconds:.0f} s, peak RSS {done.peak_mb:.0f} MB "
        f"(at a quarter {done.early_mb():.0f} MB); bare COPY {floor:.1f} s"
    )
    return _import_results(kind, size, rows, done, floor, settings)


def _kept(results: list[Result]) -> list[Result]:
    for result in results:
        say(f"  result: {json.dumps(result.as_json())}")
    return results


def bare_freeze(url: str) -> float:
    """The floor of selecting the audience and keeping it: INSERT ... SELECT into a scratch table."""
    sql = "INSERT INTO bare_audience SELECT c.id " + batch.ALLOWED_SQL.replace(":at", "%(at)s")
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TEMP TABLE bare_audience (customer_id uuid)")
        start = time.perf_counter()
        conn.execute(sql, {"at": SystemClock().now().replace(tzinfo=None)})
        conn.commit()
        return time.perf_counter() - start


def _audience(app: App, url: str, work: Path, size: str, expected: int, start: float) -> list[Result]:
    """`cpniguard campaigns audience ID` of an approved campaign, a whole command as an operator
    runs it (its start included), with its peak RSS."""
    campaign = audience._approved_campaign(app)
    done, out = measured(url, work, "campaigns", "audience", str(campaign), "--json")
    included = int(json.loads(out)["included"])
    floor, counted = audience._floor_postgresql(url)
    frozen = bare_freeze(url)
    say(
        f"  audience {included:,} in {done.seconds:.2f} s (peak RSS {done.peak_mb:.0f} MB); bare COUNT {floor:.2f} s "
        f"({counted:,}; seeded {expected:,}); bare INSERT ... SELECT of them {frozen:.2f} s"
    )
    wrong = (
        ""
        if included == counted == expected
        else f"; VOID: included {included:,}, bare {counted:,}, seeded {expected:,}"
    )
    result = _within(
        f"scale.audience.{size}",
        done.seconds,
        floor,
        f"bare SQL COUNT of the same customers {floor:.2f} s (ratio = floor/ours; ours is a whole command, its "
        f"start alone {start:.1f} s); bare INSERT ... SELECT of them, the floor with the snapshot, {frozen:.2f} s"
        f"{wrong}",
    )
    result.met = result.met and not wrong
    return [result, _rss(f"scale.audience.{size}.rss", done)]


def _rss(name: str, done: Run) -> Result:
    return Result(
        name,
        rounded(done.peak_mb),
        "MB peak",
        f"RSS at a quarter of the run {done.early_mb():.0f} MB",
        rounded(done.early_mb() / done.peak_mb) if done.peak_mb else None,
        f"flat: peak <= {FLAT}x quarter-run RSS + 32 MB",
        done.flat(),
    )


def _verify(url: str, work: Path, size: str, start: float) -> list[Result]:
    done, out = measured(url, work, "audit", "verify", "--json")
    floor, entries, whole = bare_chain_walk(url)
    ok = '"ok": true' in out and whole
    say(
        f"  audit verify of {entries:,} entries in {done.seconds:.1f} s (peak RSS {done.peak_mb:.0f} MB); "
        f"bare walk {floor:.1f} s"
    )
    void = "" if ok else f"; VOID: verify said {out.strip()[:200]!r}, bare walk whole={whole}"
    result = _within(
        f"scale.audit_verify.{size}",
        done.seconds,
        floor,
        f"bare hash-chain walk of {entries:,} entries {floor:.2f} s (ours is a whole command; its start alone "
        f"{start:.1f} s){void}",
    )
    result.met = result.met and ok
    return [result, _rss(f"scale.audit_verify.{size}.rss", done)]


def _certification(url: str, work: Path, size: str, year: int, start: float) -> Result:
    done, _ = measured(
        url, work, "certification", "build", "--year", str(year), "--out", str(work / "cert.pdf"), "--json"
    )
    floor = bare_certification(url, year)
    say(f"  certification {year} in {done.seconds:.1f} s (peak RSS {done.peak_mb:.0f} MB); bare scans {floor:.2f} s")
    return _within(
        f"scale.certification.{size}",
        done.seconds,
        floor,
        f"bare SQL of the year's ledger by action, customers and opt-outs by month {floor:.2f} s "
        f"(ours is a whole command with its PDF; its start alone {start:.1f} s; peak RSS {done.peak_mb:.0f} MB)",
    )
