"""AUTH-1: repeated failed authentication attempts lock the channel for a while, because a run
of wrong PINs or passwords is how pretexting and account takeover look from the inside."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cpniguard.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=30)

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.window <= timedelta(0) or self.lock_for <= timedelta(0):
            raise InvalidInput("a lockout policy needs at least one failure and positive durations")


@dataclass(frozen=True, slots=True)
class Attempt:
    at: datetime
    succeeded: bool


def locked_until(policy: LockoutPolicy, attempts: Sequence[Attempt], now: datetime) -> datetime | None:
    """The end of the lock in force at `now`, or None.

    A lock starts at the failure that brings `max_failures` failures within `window` (both ends
    included) and lasts `lock_for` from it. A success clears the count and any lock. Failures
    while locked neither count nor extend the lock: they were refused unchecked, and extending
    would let anyone who knows the account keep its owner locked out for good.
    """
    until: datetime | None = None
    run: list[datetime] = []
    for attempt in sorted((a for a in attempts if a.at <= now), key=lambda a: a.at):
        if attempt.succeeded:
            until, run = None, []
        elif until is None or attempt.at >= until:
            run = [*(at for at in run if at >= attempt.at - policy.window), attempt.at]
            if len(run) >= policy.max_failures:
                until, run = attempt.at + policy.lock_for, []
    return until if until is not None and now < until else None


def failures_in_window(policy: LockoutPolicy, attempts: Sequence[Attempt], now: datetime) -> int:
    """Failures since the last success within the window ending at `now`."""
    since = now - policy.window
    count = 0
    for attempt in sorted((a for a in attempts if a.at <= now), key=lambda a: a.at):
        count = 0 if attempt.succeeded else count + int(attempt.at >= since)
    return count
