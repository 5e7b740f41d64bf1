"""CSV import of customer accounts from a carrier's billing export, streamed and written in chunks.

One line is one account: its name, telephone numbers (the first is the number of the services,
DEF-6), email addresses, postal address and services, each checked exactly as when staff open
an account (`customers.service.build_customer`). Contacts on the account count from the
account's opening (`customer_since`): the export knows no other date, and DEF-5's 30 days of
tenure run from it.

A file is one unit of work, as for call detail (jobs/cpni_import.py): the first bad line
raises InvalidInput naming it, and the rollback leaves every table as it was. A given id that
is stored already, or repeated anywhere in the file, is refused by its line: earlier chunks
of the file are in the transaction, so the database answers for them and memory stays flat.
The ledger gets one entry for the file, with its SHA-256, not one per account.
"""

from __future__ import annotations

import csv
import functools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.calendar import start_of_day
from cpniguard.clock import Clock
from cpniguard.customers.model import (
    Contact,
    Customer,
    CustomerKind,
    Language,
    ListingStatus,
    Service,
    ServiceCategory,
    parse_enum,
)
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
SEPARATOR = ";"  # between the numbers, addresses or services of one field

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
        copy = conn.dialect.name == "postgresql"
        reader = csv.reader(lines)
        rows = _rows(reader, lines.name)
        index = _header(next(rows, None), lines.name)
        steps: parse_pool.Steps[Customer, CustomerId, _CopyRows | list[Customer]]
        steps = parse_pool.Steps(functools.partial(_parse, index, now), _as_copy if copy else _as_objects)
        source = parse_pool.chunks(reader, rows, lines.name)
        check = functools.partial(_check, conn, lines.name)
        for _, payload in parse_pool.prepared(source, steps, check, parse_pool.jobs_for(lines.size, jobs)):
            if isinstance(payload, _CopyRows):
                _write_copy(conn, payload, counts)
            else:
                _write(conn, payload, counts)
            progress(lines.unreported())
        summary = CustomerImportSummary(counts[0], counts[1], counts[2], lines.digest.hexdigest())
        details = {"file": path.name, **asdict(summary)}
        uow.audit.add(AuditEntry.of("customers:accounts:imported", actor, now, details=details))
        bulk.refresh_statistics(conn)
        uow.commit()
    return summary


def _write(conn: Connection, customers: Sequence[Customer], counts: list[int]) -> None:
    if not customers:
        return  # the last chunk of a file of whole chunks
    c = customers
    counts[0] += bulk.insert_columns(
        conn,
        t.customers,
        **{name: [getattr(x, name) for x in c] for name in CUSTOMER_FIELDS},
    )
    counts[1] += bulk.insert_records(conn, t.services, [s for x in c for s in x.services])
    counts[2] += bulk.insert_records(conn, t.contacts, [k for x in c for k in x.contacts])


CUSTOMER_FIELDS = ("id", "name", "kind", "language", "listing_status", "created_at")
SERVICE_FIELDS = tuple(f.name for f in fields(Service))
CONTACT_FIELDS = tuple(f.name for f in fields(Contact))


@dataclass(frozen=True)
class _CopyRows:
    """A chunk's accounts in COPY's text format, made in a worker: one block per table."""

    customers: bytes
    services: bytes
    contacts: bytes
    counts: tuple[int, int, int]


def _as_copy(customers: list[Customer]) -> tuple[list[CustomerId], _CopyRows]:
    services = [s for c in customers for s in c.services]
    contacts = [k for c in customers for k in c.contacts]
    rows = _CopyRows(
        bulk.copy_text([[getattr(c, n) for n in CUSTOMER_FIELDS] for c in customers]),
        bulk.copy_text([[getattr(s, n) for n in SERVICE_FIELDS] for s in services]),
        bulk.copy_text([[getattr(k, n) for n in CONTACT_FIELDS] for k in contacts]),
        (len(customers), len(services), len(contacts)),
    )
    return [c.id for c in customers], rows


def _as_objects(customers: list[Customer]) -> tuple[list[CustomerId], list[Customer]]:
    return [c.id for c in customers], customers


def _write_copy(conn: Connection, rows: _CopyRows, counts: list[int]) -> None:
    bulk.write_copy_text(conn, t.customers, CUSTOMER_FIELDS, rows.customers)
    bulk.write_copy_text(conn, t.services, SERVICE_FIELDS, rows.services)
    bulk.write_copy_text(conn, t.contacts, CONTACT_FIELDS, rows.contacts)
    for i, n in enumerate(rows.counts):
        counts[i] += n


def _parse(index: dict[str, int], now: datetime, values: list[str]) -> Customer:
    return customer(csv_fields.by_column(values, index), now)


def _header(values: list[str] | None, name: str) -> dict[str, int]:
    try:
        return csv_fields.header_index(values, CUSTOMER_COLUMNS, OPTIONAL)
    except InvalidInput as exc:
        raise InvalidInput(f"{name}, line 1: {exc}") from None


def _check(conn: Connection, name: str, chunk: list[tuple[int, CustomerId]]) -> None:
    """A given id names no stored account and no other line of the file (the chunks before
    this one are stored: the transaction holds them)."""
    stored = bulk.existing_customers(conn, (id_ for _, id_ in chunk))
    seen: set[uuid.UUID] = set()
    for line, found in chunk:
        if found in stored or found in seen:
            raise InvalidInput(f"{name}, line {line}: id: customer {found} exists already")
        seen.add(found)


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
