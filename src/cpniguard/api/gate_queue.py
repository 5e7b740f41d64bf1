"""Group commit for the gate's hot path.

Every check appends to the audit ledger before it is answered, and the ledger has one head:
one writer at a time (SQLite's write lock, PostgreSQL's head row). Deciding each request in a
transaction of its own makes the commit (its disk sync and its lock) the limit. Here the
checks that arrive while one transaction runs wait for the next, and are decided together in
one unit of work (`decisions.service.check_many`): one commit makes all their entries durable,
then each caller is answered. A lone caller waits for nothing but its own transaction.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import anyio
from anyio.to_thread import run_sync

from cpniguard.bootstrap import App
from cpniguard.decisions.model import Decision
from cpniguard.decisions.service import Check, check_many
from cpniguard.errors import DomainError

MAX_BATCH = 256

Waiter = tuple[Check, "asyncio.Future[tuple[datetime, Decision]]"]


class GateQueue:
    def __init__(self, app: App, max_batch: int = MAX_BATCH) -> None:
        self._app = app
        self._max = max_batch
        self._waiting: list[Waiter] = []
        self._runner: asyncio.Task[None] | None = None
        self._thread = anyio.CapacityLimiter(1)  # one transaction at a time per process

    async def check(self, item: Check) -> tuple[datetime, Decision]:
        """The decision and the moment it was taken for, once its ledger entry is committed."""
        future: asyncio.Future[tuple[datetime, Decision]] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._max], self._waiting[self._max :]
            try:
                now, answers = await run_sync(self._decide, [item for item, _ in batch], limiter=self._thread)
            except Exception as exc:  # the transaction failed: nobody was answered allow
                for _, future in batch:
                    _fail(future, exc)
                continue
            for (item, future), answer in zip(batch, answers, strict=True):
                if isinstance(answer, DomainError):
                    _fail(future, answer)
                elif not future.done():
                    future.set_result((item.at or now, answer))

    def _decide(self, checks: list[Check]) -> tuple[datetime, list[Decision | DomainError]]:
        return check_many(self._app.uow(), self._app.clock, checks)


def _fail(future: asyncio.Future[tuple[datetime, Decision]], exc: Exception) -> None:
    if not future.done():  # a caller that hung up no longer waits
        future.set_exception(exc)
