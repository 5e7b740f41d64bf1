"""CSV import of CPNI: call detail records and bills, streamed and written in batches.

A file is one unit of work. The first bad row raises InvalidInput naming its line, and the
rollback leaves every table as it was (rule 7: nothing half-written). Rows are checked
against the database batch by batch; earlier batches of the same file are already in the
transaction, so a bill repeated anywhere in the file is caught too.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.clock import Clock
from cpniguard.customers.records import Bill, CallDetailRecord
from cpniguard.db import bulk
from cpniguard.db.customer_repo import SqlCpniRepository
from cpniguard.db.import_tally import CustomerTally
from cpniguard.db.uow import SqlUnitOfWork
from cpniguard.errors import InvalidInput
from cpniguard.jobs import csv_fields, parse_pool

BATCH_SIZE = 5_000

R = TypeVar("R", CallDetailRecord, Bill)
Fields = dict[str, str]
Numbered = list[tuple[int, R]]


@dataclass(frozen=True)
class CsvFormat(Generic[R]):
    """One importable file: its columns, how a row becomes a record, where records go."""

    name: str
    columns: tuple[str, ...]
    optional: frozenset[str]
    write: Callable[[SqlCpniRepository, Sequence[R], Sequence[datetime]], int]  # sealed (BREACH23-8)
    parse: Callable[[Fields], R]
    check: Callable[[Connection, Numbered[R]], None] | None = None


CALL_DETAIL: CsvFormat[CallDetailRecord] = CsvFormat(
    "call-detail-records",
    csv_fields.CDR_COLUMNS,
    frozenset({"location"}),
    SqlCpniRepository.write_call_detail,
    csv_fields.call_detail_record,
)
BILLS: CsvFormat[Bill] = CsvFormat(
    "bills",
    csv_fields.BILL_COLUMNS,
    frozenset(),
    SqlCpniRepository.write_bills,
    csv_fields.bill,
    csv_fields.check_no_second_bill,
)


@dataclass(frozen=True)
class ImportSummary:
    records: int
    customers: int
    sha256: str


def import_csv(
    new_uow: Callable[[], SqlUnitOfWork],
    clock: Clock,
    actor: Actor,
    path: Path,
    kind: CsvFormat[R],
    progress: Callable[[int], None] = lambda n: None,
    jobs: int | None = None,
) -> ImportSummary:
    """Imports the whole file or nothing; one audit entry records what came in. `jobs`: worker
    processes parsing rows (jobs/parse_pool.py); by default all CPUs for a large file."""
    now = clock.now()
    records = 0
    with new_uow() as uow, _Lines.open(path) as lines:
        conn = uow.connection
        bulk.prepare_for_bulk(conn)
        customers = CustomerTally(conn)  # not a set in memory: it grew with the file (import_tally)
        for batch in _batches(conn, kind, lines, parse_pool.jobs_for(lines.size, jobs)):
            found = [record for _, record in batch]
            records += kind.write(uow.cpni, found, [now] * len(found))
            customers.add(record.customer_id for record in found)
            progress(lines.unreported())
        summary = ImportSummary(records, customers.count(), lines.digest.hexdigest())
        details = {"kind": kind.name, "file": path.name, **asdict(summary)}
        uow.audit.add(AuditEntry.of("customers:cpni:imported", actor, now, categories=("cpni",), details=details))
        bulk.refresh_statistics(conn)
        uow.commit()
    return summary


def _batches(conn: Connection, kind: CsvFormat[R], lines: _Lines, jobs: int) -> Iterator[Numbered[R]]:
    reader = csv.reader(lines)
    rows = _rows(reader, lines.name)
    index = _header(next(rows, None), kind, lines.name)
    parse = functools.partial(_parse, kind.parse, index)
    source = parse_pool.chunks(reader, rows, lines.name)
    yield from parse_pool.batches(source, parse, lambda batch: _check(conn, kind, batch, lines.name), jobs, BATCH_SIZE)


def _parse(parse: Callable[[Fields], R], index: dict[str, int], values: list[str]) -> R:
    return parse(csv_fields.by_column(values, index))


def _rows(reader: Any, name: str) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as exc:  # a NUL byte, an over-long field
        raise InvalidInput(f"{name}, line {reader.line_num}: {exc}") from None


def _header(values: list[str] | None, kind: CsvFormat[R], name: str) -> dict[str, int]:
    try:
        return csv_fields.header_index(values, kind.columns, kind.optional)
    except InvalidInput as exc:
        raise InvalidInput(f"{name}, line 1: {exc}") from None


def _check(conn: Connection, kind: CsvFormat[R], batch: Numbered[R], name: str) -> None:
    try:
        csv_fields.check_customers_known(conn, batch)
        if kind.check is not None:
            kind.check(conn, batch)
    except InvalidInput as exc:
        raise InvalidInput(f"{name}, {exc}") from None


class _Lines:
    """A file's lines as text, counting bytes for the progress bar and hashing them for the
    ledger (the audit entry names exactly which file content was imported)."""

    def __init__(self, path: Path) -> None:
        self.name = path.name
        self._file = path.open("rb")
        self.size = os.fstat(self._file.fileno()).st_size
        self.digest = hashlib.sha256()
        self._read = self._reported = self._line = 0

    @classmethod
    def open(cls, path: Path) -> _Lines:
        try:
            return cls(path)
        except OSError as exc:
            raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()

    def __iter__(self) -> Iterator[str]:
        for raw in self._file:
            self._line += 1
            self._read += len(raw)
            self.digest.update(raw)
            try:
                yield raw.decode("utf-8-sig" if self._line == 1 else "utf-8")
            except UnicodeDecodeError:
                raise InvalidInput(f"{self.name}, line {self._line}: not UTF-8 text") from None

    def unreported(self) -> int:
        n, self._reported = self._read - self._reported, self._read
        return n
