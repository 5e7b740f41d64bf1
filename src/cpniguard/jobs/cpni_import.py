"""CSV import of CPNI: call detail records and bills, streamed and written in chunks.

A file is one unit of work. The first bad row raises InvalidInput naming its line, and the
rollback leaves every table as it was (rule 7: nothing half-written). Rows are checked
against the database chunk by chunk (jobs/parse_pool.py); earlier chunks of the same file are
already in the transaction, so a bill repeated anywhere in the file is caught too.
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
from cpniguard.db import cpni_sealing as sealing
from cpniguard.db.customer_repo import SqlCpniRepository
from cpniguard.db.import_tally import CustomerTally
from cpniguard.db.uow import SqlUnitOfWork
from cpniguard.errors import InvalidInput
from cpniguard.jobs import csv_fields, parse_pool
from cpniguard.ports import CpniSealer

R = TypeVar("R", CallDetailRecord, Bill)
K = TypeVar("K", sealing.CallKey, sealing.BillKey)
Fields = dict[str, str]
Numbered = list[tuple[int, R]]  # (line, record or its key)


@dataclass(frozen=True)
class CsvFormat(Generic[R, K]):
    """One importable file: its columns, how a row becomes a record, where records go. SQLite
    writes the records (`write`, sealing them); on PostgreSQL the worker processes seal them and
    make COPY rows (`prepare`, its keys for the checks), and `write_prepared` passes them on."""

    name: str
    columns: tuple[str, ...]
    optional: frozenset[str]
    write: Callable[[SqlCpniRepository, Sequence[R], Sequence[datetime]], int]  # sealed (BREACH23-8)
    parse: Callable[[Fields], R]
    prepare: Callable[[CpniSealer, datetime, Sequence[R]], tuple[list[K], bytes]]
    write_prepared: Callable[[SqlCpniRepository, Sequence[K], bytes], int]
    check: Callable[[Connection, Numbered[Any]], None] | None = None


CALL_DETAIL: CsvFormat[CallDetailRecord, sealing.CallKey] = CsvFormat(
    "call-detail-records",
    csv_fields.CDR_COLUMNS,
    frozenset({"location"}),
    SqlCpniRepository.write_call_detail,
    csv_fields.call_detail_record,
    sealing.prepare_call_detail,
    SqlCpniRepository.write_prepared_call_detail,
)
BILLS: CsvFormat[Bill, sealing.BillKey] = CsvFormat(
    "bills",
    csv_fields.BILL_COLUMNS,
    frozenset(),
    SqlCpniRepository.write_bills,
    csv_fields.bill,
    sealing.prepare_bills,
    SqlCpniRepository.write_prepared_bills,
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
    kind: CsvFormat[R, K],
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
        reader = csv.reader(lines)
        rows = _rows(reader, lines.name)
        parse = functools.partial(_parse, kind.parse, index=_header(next(rows, None), kind, lines.name))
        copy = conn.dialect.name == "postgresql"
        prepare = functools.partial(kind.prepare, uow.cpni.pinned_sealer(), now) if copy else parse_pool.whole
        source = parse_pool.chunks(reader, rows, lines.name)
        check = functools.partial(_check, conn, kind, lines.name)
        jobs = parse_pool.jobs_for(lines.size, jobs)
        for keys, payload in parse_pool.prepared(source, parse_pool.Steps(parse, prepare), check, jobs):
            if isinstance(payload, bytes):
                records += kind.write_prepared(uow.cpni, keys, payload)
            else:
                records += kind.write(uow.cpni, payload, [now] * len(payload))
            customers.add(key.customer_id for key in keys)
            progress(lines.unreported())
        summary = ImportSummary(records, customers.count(), lines.digest.hexdigest())
        details = {"kind": kind.name, "file": path.name, **asdict(summary)}
        uow.audit.add(AuditEntry.of("customers:cpni:imported", actor, now, categories=("cpni",), details=details))
        bulk.refresh_statistics(conn)
        uow.commit()
    return summary


def _parse(parse: Callable[[Fields], R], values: list[str], index: dict[str, int]) -> R:
    return parse(csv_fields.by_column(values, index))


def _rows(reader: Any, name: str) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as exc:  # a NUL byte, an over-long field
        raise InvalidInput(f"{name}, line {reader.line_num}: {exc}") from None


def _header(values: list[str] | None, kind: CsvFormat[R, K], name: str) -> dict[str, int]:
    try:
        return csv_fields.header_index(values, kind.columns, kind.optional)
    except InvalidInput as exc:
        raise InvalidInput(f"{name}, line 1: {exc}") from None


def _check(conn: Connection, kind: CsvFormat[Any, Any], name: str, chunk: Numbered[Any]) -> None:
    try:
        csv_fields.check_customers_known(conn, chunk)
        if kind.check is not None:
            kind.check(conn, chunk)
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
