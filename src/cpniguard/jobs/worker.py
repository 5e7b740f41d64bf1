"""`cpniguard worker`: delivers the outbox until stopped, or until it is empty (`--once`)."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.breaches.reminders import remind_due
from cpniguard.errors import StorageUnavailable
from cpniguard.notifications.service import DeliveryRun, Worker, deliver_due

POLL_SECONDS = 1.0
REMINDER_SECONDS = 60.0  # how often the worker looks for breach deadlines coming near
LOG = logging.getLogger("cpniguard.worker")


@dataclass(slots=True)
class WorkerTotals:
    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def add(self, run: DeliveryRun) -> None:
        self.claimed += run.claimed
        for outcome, n in run.outcomes.items():
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + n


def worker_name() -> str:
    """Unique per worker, not per process: two workers in one process must not pass for one
    when the outbox checks whose lease a row is under."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Reminders:
    """Queues breach-deadline reminders to the privacy office at most once a minute; they go
    out with the next delivery round."""

    def __init__(self, app: App) -> None:
        self._app = app
        self._next = 0.0

    def maybe_run(self) -> None:
        if time.monotonic() < self._next:
            return
        self._next = time.monotonic() + REMINDER_SECONDS
        s = self._app.settings
        actor = Actor.system("worker")
        remind_due(self._app.uow(), self._app.clock, actor, s.privacy_office_email, s.breach_reminder_business_days)


def run_worker(
    app: App,
    once: bool,
    batch: int = 200,
    poll_seconds: float = POLL_SECONDS,
    stop: Callable[[], bool] = lambda: False,
    wait: Callable[[float], object] = time.sleep,
) -> WorkerTotals:
    """Delivers batch after batch. With `once`, returns when nothing is due; otherwise polls,
    and outlives a database that is briefly unreachable (it tries again after a pause)."""
    connections = max(1, app.settings.worker_connections)
    pool = ThreadPoolExecutor(connections, thread_name_prefix="cpniguard-send") if connections > 1 else None
    lanes = tuple(app.senders() for _ in range(connections - 1))
    worker = Worker(worker_name(), app.senders(), batch=batch, lanes=lanes, pool=pool)
    totals = WorkerTotals()
    reminders = _Reminders(app)
    try:
        while not stop():
            try:
                reminders.maybe_run()
                run = deliver_due(app.uow, app.clock, worker)
            except StorageUnavailable:
                if once:
                    raise
                LOG.warning("outbox unavailable; the worker tries again", exc_info=True)
                wait(poll_seconds)
                continue
            totals.add(run)
            if run.claimed:
                continue
            if once:
                break
            wait(poll_seconds)
    finally:  # also on Ctrl-C or a database error: the SMTP session is ended politely
        if pool is not None:
            pool.shutdown()
        for senders in worker.all_senders():
            for sender in senders.values():
                close = getattr(sender, "close", None)
                if close is not None:
                    close()
    return totals
