"""campaigns.audience.*: an approved campaign's audience over a million customers.

`campaigns.service.build_audience` decides `marketing-communications` for every customer with
the batch gate and freezes the included customers as the campaign's snapshot, on SQLite and on
PostgreSQL. The baseline is the bare SQL that counts the same customers (the predicate of
benchmarks/batch.py), through the driver, on the same database. The included count must match
what the seeding put in, else the figure is VOID.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
import uuid

import psycopg

from benchmarks import batch, http_server, seeding
from benchmarks.common import Options, Result, ratio, rounded, say, skipped
from cpniguard.actors import Actor
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.calendar import add_years, eastern_date
from cpniguard.campaigns.service import (
    CampaignSpec,
    add_user,
    build_audience,
    create_campaign,
    review_campaign,
    submit_campaign,
)
from cpniguard.clock import SystemClock
from cpniguard.db.migrate import upgrade
from cpniguard.decisions.model import Purpose
from cpniguard.privacy_office.staff import record_training

TARGETS = {"sqlite": (20.0, "< 20 s"), "postgresql": (15.0, "< 15 s")}
ACTOR = Actor.system("benchmark")


def _approved_campaign(app: App) -> uuid.UUID:
    today = eastern_date(app.clock.now())
    for name, role in (("Bench Marketing", "marketing"), ("Bench CRO", "cro")):  # SAFE-2: trained first
        record_training(app.uow(), app.clock, ACTOR, name, "CPNI basics", today, add_years(today, 1))
        add_user(app.uow(), app.clock, ACTOR, name, frozenset({role}))
    spec = CampaignSpec(
        "Bench offer", Purpose.MARKETING_COMMUNICATIONS, "Fiber 1G", description="Fiber upgrade for current customers"
    )
    campaign = create_campaign(app.uow(), app.clock, spec, "Bench Marketing")
    submit_campaign(app.uow(), app.clock, campaign.id, "Bench Marketing")
    return review_campaign(app.uow(), app.clock, campaign.id, "Bench CRO", True, "benchmark").id


def _measure(app: App, repeats: int) -> tuple[float, int]:
    campaign_id = _approved_campaign(app)
    best, included = float("inf"), -1
    for _ in range(repeats):
        start = time.perf_counter()
        outcome = build_audience(app.uow(), app.clock, ACTOR, campaign_id)
        best = min(best, time.perf_counter() - start)
        included = outcome.included
    return best, included


def _floor_sqlite(path: str) -> tuple[float, int]:
    at = {"at": SystemClock().now().strftime("%Y-%m-%d %H:%M:%S.000000")}
    with sqlite3.connect(path) as conn:
        start = time.perf_counter()
        count = conn.execute("SELECT COUNT(*) " + batch.ALLOWED_SQL, at).fetchone()[0]
        took = time.perf_counter() - start
    conn.close()
    return took, int(count)


def _floor_postgresql(url: str) -> tuple[float, int]:
    sql = "SELECT COUNT(*) " + batch.ALLOWED_SQL.replace(":at", "%(at)s")
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        row = conn.execute(sql, {"at": SystemClock().now().replace(tzinfo=None)}).fetchone()
        took = time.perf_counter() - start
    assert row is not None
    return took, int(row[0])


def _result(backend: str, ours: float, floor: float, included: int, expected: int, counted: int) -> Result:
    limit, target = TARGETS[backend]
    wrong = included != expected or counted != expected
    void = f"; VOID: included {included:,}, bare SQL {counted:,}, seeded {expected:,}" if wrong else ""
    return Result(
        f"campaigns.audience.1m_{backend}",
        rounded(ours),
        "s",
        f"bare SQL COUNT of the same customers {floor:.2f} s (ratio = floor/ours){void}",
        rounded(ratio(True, ours, floor)),
        target,
        ours < limit and not wrong,
    )


def run(options: Options) -> list[Result]:
    n = options.size(1_000_000, 5_000)
    repeats = options.size(2, 1)
    results = []
    path, seeded = seeding.cached_sqlite(n, batch.SEED, options.data_dir, options.work_dir)
    copy = options.work_dir / "audience.db"
    shutil.copyfile(path, copy)
    app = build(load_settings({}, database_url=f"sqlite:///{copy}", audit_key_file=str(options.work_dir / "a.key")))
    upgrade(app.engine)
    ours, included = _measure(app, repeats)
    app.close()
    floor, counted = _floor_sqlite(str(copy))
    say(f"  sqlite: {n:,} customers, audience {included:,} in {ours:.2f} s; bare COUNT {floor:.2f} s")
    results.append(_result("sqlite", ours, floor, included, seeded.allowed_marketing_communications, counted))
    if options.quick:
        return [*results, skipped("campaigns.audience.1m_postgresql", "s", TARGETS["postgresql"][1], "quick mode")]
    if (missing := http_server.postgres_missing()) is not None:
        return [*results, skipped("campaigns.audience.1m_postgresql", "s", TARGETS["postgresql"][1], missing)]
    with http_server.postgres_database() as url:
        app = build(load_settings({}, database_url=url, audit_key_file=str(options.work_dir / "a.key")))
        upgrade(app.engine)
        start = time.perf_counter()
        seeded_pg = seeding.seed(app.engine, n, batch.SEED)
        say(f"  postgresql: seeded {n:,} customers in {time.perf_counter() - start:.0f} s")
        ours, included = _measure(app, repeats)
        app.close()
        floor, counted = _floor_postgresql(url)
    say(f"  postgresql: audience {included:,} in {ours:.2f} s; bare COUNT {floor:.2f} s")
    results.append(_result("postgresql", ours, floor, included, seeded_pg.allowed_marketing_communications, counted))
    return results
