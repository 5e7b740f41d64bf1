"""A CSV file's rows parsed and checked in worker processes while this process writes.

At a carrier's size (benchmarks/scale.py) an import spent most of its time in Python checking
fields: libphonenumber for every telephone number, the email syntax, timestamps. Those checks
need nothing but the row, so chunks of rows go to a pool of processes (forkserver: clean
children, no copy of this process's database connection or threads). A worker also prepares
its chunk for writing (`Steps.prepare`): on PostgreSQL the rows in COPY's text format, call
detail sealed, because sending the records back as objects cost the writer about as much as
checking them had (pickling, then COPY's formatting of each row). The chunks come back in file
order; this process reads the file (its hash and progress), checks each chunk's keys against
the database (stored ids, known customers) and writes its payload.

The order of refusals is the file's: rows are parsed in order within a chunk, a chunk stops at
its first bad row, and chunks are consumed in order, so the first bad line of the file is the
one named. At most `2 x jobs` chunks are in flight, so memory stays flat whatever the size.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from cpniguard.errors import InvalidInput, WorkInterrupted

R = TypeVar("R")
CHUNK_ROWS = 2_000
PRELOAD = ["cpniguard.jobs.cpni_import", "cpniguard.jobs.customer_import"]
POOL_FROM_BYTES = 8 << 20  # smaller files are parsed here: starting the pool costs about a second


@dataclass
class Chunk:
    """Rows read from the file (line number of the row's last line, values), and the reader's
    refusal, whole, if reading stopped inside this chunk (a NUL byte, not UTF-8)."""

    name: str  # the file's, for refusals
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    unreadable: str | None = None


K = TypeVar("K")  # what the writer checks of a record against the database
P = TypeVar("P")  # a chunk's records made ready to write


@dataclass
class Prepared(Generic[K, P]):
    """A chunk's good records up to its first bad line: (line, key) pairs for the writer's check,
    the records made ready to write (`payload`), and the refusal of that bad line, if any."""

    keys: list[tuple[int, K]]
    payload: P
    refused: str | None = None


@dataclass(frozen=True)
class Steps(Generic[R, K, P]):
    """What a worker does with a chunk: `parse` each row (InvalidInput at a bad one), then
    `prepare` the chunk's records: their keys, and the payload the writer writes (for PostgreSQL
    the rows in COPY's text format, so that neither objects nor rows cross back one by one).
    Module-level functions or partials of them, so that they pickle."""

    parse: Callable[[list[str]], R]
    prepare: Callable[[list[R]], tuple[list[K], P]]


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def prepare_chunk(steps: Steps[R, K, P], chunk: Chunk) -> Prepared[K, P]:
    """Runs in a worker (or here): the chunk's records up to its first bad row, prepared."""
    records: list[R] = []
    lines: list[int] = []
    refused = chunk.unreadable
    for line, values in chunk.rows:
        try:
            records.append(steps.parse(values))
        except InvalidInput as exc:
            refused = f"{chunk.name}, line {line}: {exc}"
            break
        lines.append(line)
    keys, payload = steps.prepare(records)
    return Prepared(list(zip(lines, keys, strict=True)), payload, refused)


def chunks(reader: Any, rows: Iterator[list[str]], name: str, size: int | None = None) -> Iterator[Chunk]:
    """The reader's non-blank rows in chunks. `rows` iterates `reader` (whose line_num counts)
    and raises InvalidInput, naming the file and line, where the file cannot be read."""
    size = size or CHUNK_ROWS
    chunk = Chunk(name)
    try:
        for values in rows:
            if not values:
                continue  # a blank line
            chunk.rows.append((reader.line_num, values))
            if len(chunk.rows) == size:
                yield chunk
                chunk = Chunk(name)
    except InvalidInput as exc:  # unreadable: a NUL byte, an over-long field, not UTF-8
        chunk.unreadable = str(exc)
    yield chunk


def prepared(
    source: Iterator[Chunk], steps: Steps[R, K, P], check: Callable[[list[tuple[int, K]]], None], jobs: int
) -> Iterator[tuple[list[K], P]]:
    """Each chunk's keys and payload, in file order, after `check` against the database (which
    raises InvalidInput naming the line). At a bad line the records before it are checked first,
    so the file's first bad line is the one named. The caller writes each chunk before it asks
    for the next: a check sees the chunks before it in the database."""
    for done in _prepared(source, steps, jobs):
        if done.keys:
            check(done.keys)
        if done.refused is not None:
            raise InvalidInput(done.refused)
        yield [key for _, key in done.keys], done.payload


def _prepared(source: Iterator[Chunk], steps: Steps[R, K, P], jobs: int) -> Iterator[Prepared[K, P]]:
    if jobs <= 1:
        for chunk in source:
            yield prepare_chunk(steps, chunk)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # imported once by the server, not by each worker
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        pending: deque[Future[Prepared[K, P]]] = deque()
        try:
            for chunk in source:
                pending.append(pool.submit(prepare_chunk, steps, chunk))
                if len(pending) >= 2 * jobs:
                    yield _result(pending.popleft())
            while pending:
                yield _result(pending.popleft())
        finally:  # the caller stopped at a refusal: chunks not started are dropped
            for waiting in pending:
                waiting.cancel()


def _result(future: Future[Prepared[K, P]]) -> Prepared[K, P]:
    try:
        return future.result()
    except BrokenProcessPool:
        raise WorkInterrupted(
            "a process checking the file's lines stopped (killed, or out of memory); nothing was imported"
        ) from None


def whole(records: list[R]) -> tuple[list[R], list[R]]:
    """`Steps.prepare` when the records themselves are written (SQLite): keys and payload."""
    return records, records


def jobs_for(path_size: int, jobs: int | None) -> int:
    """Workers for a file of this many bytes: as asked, or all CPUs for a large file."""
    if jobs is not None:
        return max(1, jobs)
    return default_jobs() if path_size >= POOL_FROM_BYTES else 1
