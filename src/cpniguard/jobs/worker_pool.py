"""`cpniguard worker --concurrency N`: N delivery processes on one database, kept running.

Each process is a whole `run_worker` with its own connections and its own worker name; the
outbox's claim (`FOR UPDATE SKIP LOCKED` on PostgreSQL, one writer on SQLite) hands every row to
one of them. The parent only supervises: a process that dies without being asked to (killed,
out of memory) is started again after a short pause, and the rows it held come back when their
lease ends, resent with the same idempotency key and an attempt record that says so. SIGTERM or
Ctrl-C stops every process after the batch in hand.
"""

from __future__ import annotations

import contextlib
import logging
import logging.config
import multiprocessing
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import Any

from cpniguard.jobs.worker import WorkerTotals

LOG = logging.getLogger("cpniguard.worker")
RESTART_PAUSE = 1.0  # seconds before a process that died is started again
STOP_GRACE = 30.0  # seconds a process has to finish its batch after SIGTERM, then it is killed


@dataclass(frozen=True, slots=True)
class PoolSpec:
    database_url: str | None
    once: bool
    batch: int


def _child(spec: PoolSpec, results: Queue[tuple[int, dict[str, int]]]) -> None:
    """One delivery process: settings from the environment (as `cpniguard worker` reads them)."""
    from cpniguard.bootstrap import build, load_settings
    from cpniguard.jobs.worker import run_worker
    from cpniguard.redaction import logging_config

    logging.config.dictConfig(logging_config())
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
    app = build(load_settings(database_url=spec.database_url))
    try:
        totals = run_worker(app, spec.once, spec.batch, stop=stopping.is_set, wait=stopping.wait)
    finally:
        app.engine.dispose()
    results.put((totals.claimed, totals.outcomes))


class WorkerPool:
    """Starts, watches and stops the delivery processes."""

    def __init__(self, spec: PoolSpec, size: int, restart_pause: float = RESTART_PAUSE) -> None:
        self._spec = spec
        self._size = size
        self._pause = restart_pause
        self._context = multiprocessing.get_context("spawn")  # no forked connections or threads
        self._results: Queue[tuple[int, dict[str, int]]] = self._context.Queue()
        self._processes: list[BaseProcess] = []
        self.restarts = 0

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.pid is not None]

    def _start(self, slot: int) -> BaseProcess:
        process = self._context.Process(
            target=_child, args=(self._spec, self._results), name=f"cpniguard-worker-{slot}", daemon=False
        )
        process.start()
        return process

    def run(self, stop: Callable[[], bool], wait: Callable[[float], Any]) -> WorkerTotals:
        """Until `stop()` (or, with `once`, until every process found nothing due)."""
        self._processes = [self._start(slot) for slot in range(self._size)]
        finished = [False] * self._size
        try:
            while not stop() and not all(finished):
                for slot, process in enumerate(self._processes):
                    if finished[slot] or process.is_alive():
                        continue
                    if process.exitcode == 0:
                        finished[slot] = True  # `once`: nothing was left for it
                        continue
                    LOG.warning(
                        "delivery process %s ended with exit code %s; starting another",
                        process.pid,
                        process.exitcode,
                    )
                    if self._spec.once:
                        finished[slot] = True
                        continue
                    wait(self._pause)
                    self.restarts += 1
                    self._processes[slot] = self._start(slot)
                wait(0.2)
        finally:
            self._stop_all()
        return self._collect()

    def _stop_all(self) -> None:
        for process in self._processes:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()  # SIGTERM: the batch in hand is recorded first
        deadline = time.monotonic() + STOP_GRACE
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()

    def _collect(self) -> WorkerTotals:
        totals = WorkerTotals()
        while True:
            try:
                claimed, outcomes = self._results.get(timeout=0.5)
            except queue.Empty:  # every process that finished has reported
                break
            totals.claimed += claimed
            for outcome, n in outcomes.items():
                totals.outcomes[outcome] = totals.outcomes.get(outcome, 0) + n
        return totals
