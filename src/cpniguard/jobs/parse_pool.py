"""A CSV file's rows parsed and checked in worker processes while this process writes.

At a carrier's size (benchmarks/scale.py) an import spent most of its time in Python checking
fields: libphonenumber for every telephone number, the email syntax, timestamps. Those checks
need nothing but the row, so chunks of rows go to a pool of processes (forkserver: clean
children, no copy of this process's database connection or threads), and the records come
back in file order. This process reads the file (its hash and progress), checks each batch
against the database and writes it, as before.

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


@dataclass
class Parsed(Generic[R]):
    """A chunk's records, in order, and the refusal of its first bad line, if any."""

    records: list[tuple[int, R]]
    refused: str | None = None


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parse_chunk(parse: Callable[[list[str]], R], chunk: Chunk) -> Parsed[R]:
    """Runs in a worker (or here): the records of the chunk up to its first bad row."""
    records: list[tuple[int, R]] = []
    for line, values in chunk.rows:
        try:
            records.append((line, parse(values)))
        except InvalidInput as exc:
            return Parsed(records, f"{chunk.name}, line {line}: {exc}")
    return Parsed(records, chunk.unreadable)


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


def parsed(
    source: Iterator[Chunk], parse: Callable[[list[str]], R], jobs: int
) -> Iterator[tuple[int, R] | InvalidInput]:
    """(line, record) in file order; a refusal comes as an InvalidInput, after which the caller
    stops. `parse` must be picklable (a module-level function or a partial of one) when jobs > 1."""
    if jobs <= 1:
        for chunk in source:
            yield from _flat(parse_chunk(parse, chunk))
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # imported once by the server, not by each worker
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        pending: deque[Future[Parsed[R]]] = deque()
        try:
            for chunk in source:
                pending.append(pool.submit(parse_chunk, parse, chunk))
                if len(pending) >= 2 * jobs:
                    yield from _flat(_result(pending.popleft()))
            while pending:
                yield from _flat(_result(pending.popleft()))
        finally:  # the caller stopped at a refusal: chunks not started are dropped
            for waiting in pending:
                waiting.cancel()


def _result(future: Future[Parsed[R]]) -> Parsed[R]:
    try:
        return future.result()
    except BrokenProcessPool:
        raise WorkInterrupted(
            "a process checking the file's lines stopped (killed, or out of memory); nothing was imported"
        ) from None


def _flat(done: Parsed[R]) -> Iterator[tuple[int, R] | InvalidInput]:
    yield from done.records
    if done.refused is not None:
        yield InvalidInput(done.refused)


Numbered = list[tuple[int, R]]


def batches(
    source: Iterator[Chunk],
    parse: Callable[[list[str]], R],
    check: Callable[[Numbered[R]], None],
    jobs: int,
    size: int,
) -> Iterator[Numbered[R]]:
    """Batches of `size` parsed records, each checked against the database by `check` (which
    raises InvalidInput naming the line) before it is yielded. At a bad line the records before
    it in its batch are checked first, so the file's first bad line is the one named."""
    batch: Numbered[R] = []
    for item in parsed(source, parse, jobs):
        if isinstance(item, InvalidInput):
            check(batch)
            raise item
        batch.append(item)
        if len(batch) == size:
            check(batch)
            yield batch
            batch = []
    check(batch)
    yield batch


def jobs_for(path_size: int, jobs: int | None) -> int:
    """Workers for a file of this many bytes: as asked, or all CPUs for a large file."""
    if jobs is not None:
        return max(1, jobs)
    return default_jobs() if path_size >= POOL_FROM_BYTES else 1
