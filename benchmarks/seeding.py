"""Fast bulk seeding of customers, services and consent-state rows (not timed by any benchmark).

Rows go in with SQLAlchemy Core ``executemany`` in large transactions, so the stored formats
are exactly the application's (UUIDs, UTC datetimes) on SQLite and on PostgreSQL alike. No
consent events are written: the current-state rows stand for them, and every state is older
than any decision time used here, so no customer needs its events replayed. Seeded SQLite
files are cached (in ``benchmarks/.data/`` for full runs) keyed by size, seed and schema revision.
"""

from __future__ import annotations

import random
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text

from benchmarks.common import say
from cpniguard.bootstrap import build, load_settings
from cpniguard.customers.model import ServiceCategory
from cpniguard.db import tables as t
from cpniguard.db.migrate import head_revision, upgrade

SEEDED_AT = datetime(2025, 6, 2, 14, 0, tzinfo=UTC)  # every seeded time is at or before this
FAR_FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
CHUNK = 20_000
# Consent profiles and their shares; only "opt-in" and "presumed" allow marketing-communications.
PROFILES = (("objection", 0.10), ("opt-in", 0.25), ("presumed", 0.45), ("overdue", 0.10), ("none", 0.05))
# the remaining 5 %: no consent_state row at all


@dataclass(frozen=True)
class Seeded:
    """What was seeded: how many customers, which ids (when kept), and the expected answers."""

    customers: int
    allowed_marketing_communications: int
    ids: tuple[uuid.UUID, ...] = ()


def _profile(rng: random.Random) -> str | None:
    roll = rng.random()
    for name, share in PROFILES:
        if roll < share:
            return name
        roll -= share
    return None


def _state_row(customer: uuid.UUID, profile: str, rng: random.Random) -> dict[str, Any]:
    day = timedelta(days=1)
    since = SEEDED_AT - rng.randrange(1, 600) * day
    row: dict[str, Any] = {"customer_id": customer, "last_event_at": since, "events_applied": 2}
    for column in ("objection", "opt_in", "notice"):
        row[f"{column}_event"] = None
    row.update(objection_since=None, opt_in_since=None, presumed_from=None, renotice_due=None)
    if profile == "objection":
        row.update(objection_event=uuid.uuid4(), objection_since=since)
    elif profile == "opt-in":
        row.update(opt_in_event=uuid.uuid4(), opt_in_since=since)
    elif profile == "presumed":
        row.update(notice_event=uuid.uuid4(), presumed_from=since, renotice_due=FAR_FUTURE)
    elif profile == "overdue":
        row.update(notice_event=uuid.uuid4(), presumed_from=since - 800 * day, renotice_due=since)
    else:
        row["events_applied"] = 0
    return row


def _chunks(n: int, seed: int, allowed: list[int]) -> Iterator[tuple[list[dict[str, Any]], ...]]:
    """Rows for customers, services and consent_state, CHUNK customers at a time."""
    rng = random.Random(seed)
    categories = list(ServiceCategory)
    for start in range(0, n, CHUNK):
        customers, services, states = [], [], []
        for i in range(start, min(n, start + CHUNK)):
            cid = uuid.UUID(int=rng.getrandbits(128), version=4)
            created = SEEDED_AT - timedelta(days=700 + rng.randrange(0, 1000))
            listing = "published" if rng.random() < 0.3 else "non-published"
            customers.append(
                {
                    "id": cid,
                    "name": f"Customer {i:07d}",
                    "kind": "residential",
                    "language": "en",
                    "listing_status": listing,
                    "created_at": created,
                }
            )
            for category in rng.sample(categories, rng.choice((1, 1, 2))):
                services.append(
                    {
                        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                        "customer_id": cid,
                        "category": category.value,
                        "telephone_number": f"+1202555{i % 10000:04d}",
                        "added_at": created,
                        "removed_at": None,
                    }
                )
            profile = _profile(rng)
            if profile in ("opt-in", "presumed"):
                allowed[0] += 1
            if profile is not None:
                states.append(_state_row(cid, profile, rng))
        yield customers, services, states


def seed(engine: Engine, n: int, seed_value: int, keep_ids: bool = False) -> Seeded:
    """Bulk-inserts ``n`` customers with services and consent state into a migrated database."""
    allowed = [0]
    ids: list[uuid.UUID] = []
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":  # seeding only: the app's connections set FULL again
            conn.connection.driver_connection.execute("PRAGMA synchronous=OFF")  # type: ignore[union-attr]
        for customers, services, states in _chunks(n, seed_value, allowed):
            with conn.begin():
                conn.execute(insert(t.customers), customers)
                conn.execute(insert(t.services), services)
                if states:
                    conn.execute(insert(t.consent_state), states)
            if keep_ids:
                ids.extend(row["id"] for row in customers)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
            conn.commit()
    return Seeded(n, allowed[0], tuple(ids))


def migrated_engine(url: str, key_file: Path) -> Engine:
    app = build(load_settings({}, database_url=url, audit_key_file=str(key_file)))
    upgrade(app.engine)
    return app.engine


def cached_sqlite(n: int, seed_value: int, data_dir: Path, work_dir: Path) -> tuple[Path, Seeded]:
    """A copy (in ``work_dir``) of the seeded SQLite file cached in ``data_dir``, seeding it first when missing."""
    data_dir.mkdir(exist_ok=True)
    probe = migrated_engine(f"sqlite:///{work_dir / 'probe.db'}", work_dir / "probe.key")
    revision = head_revision(probe)
    probe.dispose()
    cached = data_dir / f"customers-{n}-seed{seed_value}-{revision}.db"
    expected_file = cached.with_suffix(".allowed")
    if not (cached.exists() and expected_file.exists()):
        partial = cached.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        say(f"  seeding {n:,} customers into {cached} (once; cached for later runs)")
        engine = migrated_engine(f"sqlite:///{partial}", work_dir / "seed.key")
        seeded = seed(engine, n, seed_value)
        engine.dispose()  # closing the last connection checkpoints the WAL into the file
        for suffix in ("-wal", "-shm"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
        partial.rename(cached)
        expected_file.write_text(str(seeded.allowed_marketing_communications))
    copy = work_dir / cached.name
    shutil.copyfile(cached, copy)
    return copy, Seeded(n, int(expected_file.read_text()))
