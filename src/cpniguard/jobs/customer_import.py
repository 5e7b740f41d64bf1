"""CSV import of customer accounts from a carrier's billing export, streamed and written in batches.

One line is one account: its name, telephone numbers (the first is the number of the services,
DEF-6), email addresses, postal address and services, each checked exactly as when staff open
an account (`customers.service.build_customer`). Contacts on the account count from the
account's opening (`customer_since`): the export knows no other date, and DEF-5's 30 days of
tenure run from it.

A file is one unit of work, as for call detail (jobs/cpni_import.py): the first bad line
raises InvalidInput naming it, and the rollback leaves every table as it was. A given id that
is stored already, or repeated anywhere in the file, is refused by its line: earlier batches
of the file are in the transaction, so the database answers for them and memory stays flat.
The ledger gets one entry for the file, with its SHA-256, not one per account.
"""

from __future__ import annotations

import csv
import functools
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.calendar import start_of_day
from cpniguard.clock import Clock
from cpniguard.customers.model import Customer, CustomerKind, Language, ListingStatus, ServiceCategory, parse_enum
from cpniguard.customers.service import NewCustomer, build_customer
from cpniguard.db import bulk
from cpniguard.db import tables as t
from cpniguard.db.uow import SqlUnitOfWork
from cpniguard.errors import InvalidInput
from cpniguard.ids import CustomerId
from cpniguard.jobs import csv_fields, parse_pool
from cpniguard.jobs.cpni_import import _Lines, _rows

CUSTOMER_COLUMNS = (
    "id",
    "name",
    "kind",
    "language",
    "listing_status",
    "telephone_numbers",
    "emails",
    "postal_address",
    "services",
    "customer_since",
)
OPTIONAL = frozenset(CUSTOMER_COLUMNS) - {"name", "telephone_numbers"}
BATCH_SIZE = 5_000
SEPARATOR = ";"  # between the numbers, addresses or services of one field

Numbered = list[tuple[int, Customer]]
T = TypeVar("T")


@dataclass(frozen=True)
class CustomerImportSummary:
    customers: int
    services: int
    contacts: int
    sha256: str


def import_customers(
    new_uow: Callable[[], SqlUnitOfWork],
    clock: Clock,
    actor: Actor,
    path: Path,
    progress: Callable[[int], None] = lambda n: None,
    jobs: int | None = None,
) -> CustomerImportSummary:
    """Opens every account in the file or none; one audit entry records what came in. `jobs`:
    worker processes checking lines (jobs/parse_pool.py); by default all CPUs for a large file."""
    now = clock.now()
    counts = [0, 0, 0]
    with new_uow() as uow, _Lines.open(path) as lines:
        conn = uow.connection
        bulk.prepare_for_bulk(conn)
        for batch in _batches(conn, lines, now, parse_pool.jobs_for(lines.size, jobs)):
            _write(conn, [customer for _, customer in batch], counts)
            progress(lines.unreported())
        summary = CustomerImportSummary(counts[0], counts[1], counts[2], lines.digest.hexdigest())
        details = {"file": path.name, **asdict(summary)}
        uow.audit.add(AuditEntry.of("customers:accounts:imported", actor, now, details=details))
        bulk.refresh_statistics(conn)
        uow.commit()
    return summary


def _write(conn: Connection, customers: Sequence[Customer], counts: list[int]) -> None:
    if not customers:
        return  # the last batch of a file of whole batches
    c = customers
    counts[0] += bulk.insert_columns(
        conn,
        t.customers,
        id=[x.id for x in c],
        name=[x.name for x in c],
        kind=[x.kind for x in c],
        language=[x.language for x in c],
        listing_status=[x.listing_status for x in c],
        created_at=[x.created_at for x in c],
    )
    counts[1] += bulk.insert_records(conn, t.services, [s for x in c for s in x.services])
    counts[2] += bulk.insert_records(conn, t.contacts, [k for x in c for k in x.contacts])


def _batches(conn: Connection, lines: _Lines, now: datetime, jobs: int) -> Iterator[Numbered]:
    reader = csv.reader(lines)
    rows = _rows(reader, lines.name)
    index = _header(next(rows, None), lines.name)
    parse = functools.partial(_parse, index, now)
    source = parse_pool.chunks(reader, rows, lines.name)
    yield from parse_pool.batches(source, parse, lambda batch: _check(conn, batch, lines.name), jobs, BATCH_SIZE)


def _parse(index: dict[str, int], now: datetime, values: list[str]) -> Customer:
    return customer(csv_fields.by_column(values, index), now)


def _header(values: list[str] | None, name: str) -> dict[str, int]:
    try:
        return csv_fields.header_index(values, CUSTOMER_COLUMNS, OPTIONAL)
    except InvalidInput as exc:
        raise InvalidInput(f"{name}, line 1: {exc}") from None


def _check(conn: Connection, batch: Numbered, name: str) -> None:
    """A given id names no stored account and no other line of the file."""
    stored = bulk.existing_customers(conn, (c.id for _, c in batch))
    seen: set[uuid.UUID] = set()
    for line, found in batch:
        if found.id in stored or found.id in seen:
            raise InvalidInput(f"{name}, line {line}: id: customer {found.id} exists already")
        seen.add(found.id)


def customer(row: dict[str, str], now: datetime) -> Customer:
    """One line as an account, validated as `build_customer` validates staff's input."""
    spec = NewCustomer(
        row["name"],
        _many(row["telephone_numbers"]),
        _many(row.get("emails", "")),
        _many(row.get("postal_address", ""), separator=None),
        _field(row, "services", _services) or (ServiceCategory.LOCAL,),
        _field(row, "kind", lambda v: parse_enum(CustomerKind, v or "residential", "kind")),
        _field(row, "language", lambda v: parse_enum(Language, v or "en", "language")),
        _field(row, "listing_status", lambda v: parse_enum(ListingStatus, v or "non-published", "listing status")),
    )
    since = _field(row, "customer_since", lambda v: _since(v, now))
    given = _field(row, "id", _id)
    return build_customer(spec, since, given)


def _field(row: dict[str, str], name: str, read: Callable[[str], T]) -> T:
    try:
        return read(row.get(name, ""))
    except InvalidInput as exc:
        raise InvalidInput(f"{name}: {exc}") from None


def _many(text: str, separator: str | None = SEPARATOR) -> tuple[str, ...]:
    parts = [text] if separator is None else text.split(separator)
    return tuple(p.strip() for p in parts if p.strip())


def _services(text: str) -> tuple[ServiceCategory, ...]:
    return tuple(parse_enum(ServiceCategory, v, "service") for v in _many(text))


def _id(text: str) -> CustomerId | None:
    if not text:
        return None
    try:
        return CustomerId(uuid.UUID(text))
    except ValueError:
        raise InvalidInput(f"not a customer id: {text!r}") from None


def _since(text: str, now: datetime) -> datetime:
    """A date (the start of that day, Eastern) or a date-time with its offset; not in the future."""
    if not text:
        return now
    try:
        at = start_of_day(date.fromisoformat(text)) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"not a date, YYYY-MM-DD, or an ISO 8601 date-time: {text!r}") from None
    if at.tzinfo is None:  # a local time without its offset is ambiguous across zones
        raise InvalidInput(f"a date-time needs a UTC offset, e.g. 2019-03-01T09:00:00-05:00: {text!r}")
    at = at.astimezone(UTC)
    if at > now:
        raise InvalidInput(f"in the future: {text!r}")
    return at
