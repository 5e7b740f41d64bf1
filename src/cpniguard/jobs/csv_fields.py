"""The columns of the CPNI import files, how each field is read, and the checks of a batch
against the database. Every refusal is one line naming the column and what is wrong."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Connection

from cpniguard.customers.model import normalise_telephone_number, parse_enum
from cpniguard.customers.records import PERIOD, Bill, CallDetailRecord, Direction
from cpniguard.db import bulk
from cpniguard.db.cpni_sealing import BillKey, CallKey
from cpniguard.errors import InvalidInput
from cpniguard.ids import CustomerId, new_id

CDR_COLUMNS = (
    "customer_id",
    "service_number",
    "started_at",
    "direction",
    "other_party_number",
    "duration_seconds",
    "charge_cents",
    "location",
)
BILL_COLUMNS = (
    "customer_id",
    "period",
    "account_number",
    "total_cents",
    "local_charges_cents",
    "long_distance_charges_cents",
    "directory_assistance_charges_cents",
    "feature_charges_cents",
    "minutes_used",
)
T = TypeVar("T")
WHOLE_NUMBER = re.compile(r"^\d{1,10}$")
LARGEST = 2**31 - 1  # the columns are 32-bit integers on PostgreSQL


def header_index(values: list[str] | None, columns: Sequence[str], optional: frozenset[str]) -> dict[str, int]:
    if not values:
        raise InvalidInput(f"no header line; expected: {','.join(columns)}")
    names = [v.strip() for v in values]
    for name in names:
        if name not in columns:
            raise InvalidInput(f"unknown column {name!r}; expected: {','.join(columns)}")
        if names.count(name) > 1:
            raise InvalidInput(f"column {name!r} appears twice")
    missing = [c for c in columns if c not in names and c not in optional]
    if missing:
        raise InvalidInput(f"missing column {missing[0]!r}")
    return {name: i for i, name in enumerate(names)}


def by_column(values: list[str], index: dict[str, int]) -> dict[str, str]:
    if len(values) != len(index):
        raise InvalidInput(f"expected {len(index)} fields, found {len(values)}")
    return {name: values[i].strip() for name, i in index.items()}


def _field(row: dict[str, str], name: str, read: Callable[[str], T]) -> T:
    try:
        return read(row[name])
    except InvalidInput as exc:
        raise InvalidInput(f"{name}: {exc}") from None


# libphonenumber was most of an import's time; a CDR file repeats its service numbers.
# Refusals raise, so they are never cached.
_telephone_number = functools.lru_cache(maxsize=1 << 16)(normalise_telephone_number)


def _customer(text: str) -> CustomerId:
    try:
        return CustomerId(uuid.UUID(text))
    except ValueError:
        raise InvalidInput(f"not a customer id: {text!r}") from None


def _count(text: str) -> int:
    if not WHOLE_NUMBER.match(text) or int(text) > LARGEST:
        raise InvalidInput(f"not a whole number from 0 to {LARGEST}: {text!r}")
    return int(text)


def _instant(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"not an ISO 8601 date-time: {text!r}") from None
    if parsed.tzinfo is None:  # a local time without its offset is ambiguous across zones
        raise InvalidInput(f"needs a UTC offset, e.g. 2026-03-01T14:05:00-05:00: {text!r}")
    return parsed.astimezone(UTC)


def _period(text: str) -> str:
    if not PERIOD.match(text):
        raise InvalidInput(f"not a month, YYYY-MM: {text!r}")
    return text


def _text(limit: int, required: bool) -> Callable[[str], str]:
    def read(text: str) -> str:
        if required and not text:
            raise InvalidInput("must not be empty")
        if len(text) > limit:
            raise InvalidInput(f"longer than {limit} characters")
        return text

    return read


def call_detail_record(row: dict[str, str]) -> CallDetailRecord:
    return CallDetailRecord(
        new_id(),
        _field(row, "customer_id", _customer),
        _field(row, "service_number", _telephone_number),
        _field(row, "started_at", _instant),
        _field(row, "direction", lambda text: parse_enum(Direction, text, "direction")),
        _field(row, "other_party_number", _telephone_number),
        _field(row, "duration_seconds", _count),
        _field(row, "charge_cents", _count),
        _field(row, "location", _text(100, False)) if "location" in row else "",
    )


def bill(row: dict[str, str]) -> Bill:
    return Bill(
        new_id(),
        _field(row, "customer_id", _customer),
        _field(row, "period", _period),
        _field(row, "account_number", _text(40, True)),
        *(_field(row, name, _count) for name in BILL_COLUMNS[3:]),
    )


def check_customers_known(
    conn: Connection, batch: Sequence[tuple[int, CallKey | BillKey | CallDetailRecord | Bill]]
) -> None:
    unknown = bulk.unknown_customers(conn, (record.customer_id for _, record in batch))
    for line, record in batch:
        if record.customer_id in unknown:
            raise InvalidInput(f"line {line}: customer_id: unknown customer {record.customer_id}")


def check_no_second_bill(conn: Connection, batch: Sequence[tuple[int, BillKey | Bill]]) -> None:
    """One bill per customer and period (the table's unique key), checked before writing."""
    stored = bulk.existing_bills(conn, ((b.customer_id, b.period) for _, b in batch))
    seen: set[tuple[uuid.UUID, str]] = set()
    for line, record in batch:
        key = (record.customer_id, record.period)
        if key in stored or key in seen:
            raise InvalidInput(f"line {line}: customer {record.customer_id} has a bill for {record.period} already")
        seen.add(key)
