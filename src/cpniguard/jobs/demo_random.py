"""Ids and instants drawn from the demo's seeded RNG, so a seed fixes every value."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta


def random_id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def seconds_before(rng: random.Random, at: datetime, min_days: float, max_days: float) -> datetime:
    """A whole-second instant between `max_days` and `min_days` before `at`."""
    return at - timedelta(seconds=max(1, int(rng.uniform(min_days, max_days) * 86_400)))


def seconds_between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=int(rng.uniform(0, (end - start).total_seconds())))


def days(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=int(rng.uniform(low, high) * 86_400))
