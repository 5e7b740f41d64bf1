"""Customers, services, contacts and the CPNI records, in SQL."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from cpniguard.customers.model import (
    Contact,
    ContactKind,
    Customer,
    CustomerKind,
    Language,
    ListingStatus,
    Service,
    ServiceCategory,
)
from cpniguard.customers.records import Bill, CallDetailRecord
from cpniguard.db import cpni_sealing as sealing
from cpniguard.db import tables as t
from cpniguard.db.cdr_partitions import MonthlyPartitions
from cpniguard.decisions.model import CustomerFacts
from cpniguard.ids import CustomerId
from cpniguard.ports import CpniSealer


def customer_row(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "kind": customer.kind.value,
        "language": customer.language.value,
        "listing_status": customer.listing_status.value,
        "created_at": customer.created_at,
    }


def service_row(service: Service) -> dict[str, Any]:
    row = asdict(service)
    row["category"] = service.category.value
    return row


def contact_row(contact: Contact) -> dict[str, Any]:
    row = asdict(contact)
    row["kind"] = contact.kind.value
    return row


def _service(row: Any) -> Service:
    return Service(
        row.id,
        CustomerId(row.customer_id),
        ServiceCategory(row.category),
        row.added_at,
        row.telephone_number,
        row.removed_at,
    )


def _contact(row: Any) -> Contact:
    return Contact(row.id, CustomerId(row.customer_id), ContactKind(row.kind), row.value, row.added_at, row.removed_at)


def _customer(row: Any) -> Customer:
    return Customer(
        CustomerId(row.id),
        row.name,
        CustomerKind(row.kind),
        Language(row.language),
        row.created_at,
        ListingStatus(row.listing_status),
    )


LOAD_CHUNK = 900  # ids per IN (...) list, under SQLite's limit on bound parameters


def facts_from_rows(rows: Iterable[Any]) -> dict[CustomerId, CustomerFacts]:
    """(customer id, listing status, category of a service in force or None) rows, per customer."""
    listing: dict[CustomerId, bool] = {}
    subscribed: dict[CustomerId, set[ServiceCategory]] = defaultdict(set)
    for customer_id, status, category in rows:
        listing[customer_id] = status == ListingStatus.PUBLISHED.value
        if category is not None:
            subscribed[customer_id].add(ServiceCategory(category))
    return {cid: CustomerFacts(published, frozenset(subscribed[cid])) for cid, published in listing.items()}


class SqlCustomerRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, customer: Customer) -> None:
        self._conn.execute(insert(t.customers), [customer_row(customer)])
        if customer.services:
            self._conn.execute(insert(t.services), [service_row(s) for s in customer.services])
        if customer.contacts:
            self._conn.execute(insert(t.contacts), [contact_row(c) for c in customer.contacts])

    def add_contact(self, contact: Contact) -> None:
        self._conn.execute(insert(t.contacts), [contact_row(contact)])

    def remove_contact(self, contact: uuid.UUID, at: datetime) -> None:
        c = t.contacts.c
        self._conn.execute(update(t.contacts).where(c.id == contact, c.removed_at.is_(None)).values(removed_at=at))

    def add_service(self, service: Service) -> None:
        self._conn.execute(insert(t.services), [service_row(service)])

    def exists(self, customer: CustomerId) -> bool:
        found = self._conn.execute(select(t.customers.c.id).where(t.customers.c.id == customer)).first()
        return found is not None

    def get(self, customer: CustomerId) -> Customer | None:
        found = self._load([customer])
        return found[0] if found else None

    def decision_facts(self, customers: Sequence[CustomerId], at: datetime) -> dict[CustomerId, CustomerFacts]:
        """The listing and the services in force at `at`, for several customers in one query
        (the gate's hot path); unknown customers are absent from the answer."""
        sv = t.services.c
        active = and_(
            sv.customer_id == t.customers.c.id, sv.added_at <= at, or_(sv.removed_at.is_(None), sv.removed_at > at)
        )
        rows = self._conn.execute(
            select(t.customers.c.id, t.customers.c.listing_status, sv.category)
            .select_from(t.customers.outerjoin(t.services, active))
            .where(t.one_of(self._conn, t.customers.c.id, customers))
        )
        return facts_from_rows(rows)

    def count(self) -> int:
        return int(self._conn.execute(select(func.count()).select_from(t.customers)).scalar_one())

    def find(self, text: str, limit: int) -> list[Customer]:
        """By part of the name, or by a contact value (telephone number, email)."""
        pattern = f"%{text.strip()}%"
        by_contact = select(t.contacts.c.customer_id).where(t.contacts.c.value == text.strip())
        rows = self._conn.execute(
            select(t.customers.c.id)
            .where(or_(t.customers.c.name.ilike(pattern), t.customers.c.id.in_(by_contact)))
            .order_by(t.customers.c.name)
            .limit(limit)
        ).scalars()
        return self._load([CustomerId(i) for i in rows])

    def get_many(self, customers: Sequence[CustomerId]) -> list[Customer]:
        """Customers with their services and contacts, in the order given (unknown ones left out)."""
        loaded: list[Customer] = []
        for i in range(0, len(customers), LOAD_CHUNK):
            loaded += self._load(customers[i : i + LOAD_CHUNK])
        return loaded

    def _load(self, ids: Sequence[uuid.UUID]) -> list[Customer]:
        if not ids:
            return []
        found = {r.id: _customer(r) for r in self._conn.execute(select(t.customers).where(t.customers.c.id.in_(ids)))}
        services: dict[uuid.UUID, list[Service]] = defaultdict(list)
        for row in self._conn.execute(
            select(t.services).where(t.services.c.customer_id.in_(ids)).order_by(t.services.c.added_at)
        ):
            services[row.customer_id].append(_service(row))
        contacts: dict[uuid.UUID, list[Contact]] = defaultdict(list)
        for row in self._conn.execute(
            select(t.contacts).where(t.contacts.c.customer_id.in_(ids)).order_by(t.contacts.c.added_at)
        ):
            contacts[row.customer_id].append(_contact(row))
        return [found[i].with_parts(tuple(services[i]), tuple(contacts[i])) for i in ids if i in found]


class SqlCpniRepository:
    """Call detail records and bills, sealed at rest (BREACH23-8, db/cpni_sealing.py)."""

    def __init__(self, conn: Connection, now: Any, sealer: CpniSealer) -> None:
        self._conn = conn
        self._now = now
        self._sealer = sealer
        self._months = MonthlyPartitions(conn)

    def add_call_detail(self, records: Sequence[CallDetailRecord]) -> None:
        self.write_call_detail(records, [self._now()] * len(records))

    def add_bills(self, bills: Sequence[Bill]) -> None:
        self.write_bills(bills, [self._now()] * len(bills))

    def write_call_detail(self, records: Sequence[CallDetailRecord], imported_at: Sequence[datetime]) -> int:
        """Many records at once (COPY on PostgreSQL), each with its time of import; how many."""
        self._months.ensure(r.started_at for r in records)  # PostgreSQL: a partition per month
        return sealing.write_call_detail(self._conn, self._sealer, records, imported_at)

    def write_bills(self, bills: Sequence[Bill], imported_at: Sequence[datetime]) -> int:
        return sealing.write_bills(self._conn, self._sealer, bills, imported_at)

    def pinned_sealer(self) -> CpniSealer:
        """For an import's worker processes: see `cpni_sealing.pinned_sealer`."""
        return sealing.pinned_sealer(self._conn, self._sealer)

    def write_prepared_call_detail(self, keys: Sequence[sealing.CallKey], data: bytes) -> int:
        """Rows from `cpni_sealing.prepare_call_detail` (PostgreSQL); how many."""
        self._months.ensure(k.started_at for k in keys)
        sealing.write_prepared(self._conn, sealing.CALL_DETAIL, data)
        return len(keys)

    def write_prepared_bills(self, keys: Sequence[sealing.BillKey], data: bytes) -> int:
        sealing.write_prepared(self._conn, sealing.BILLS, data)
        return len(keys)

    def call_detail(self, customer: CustomerId, limit: int) -> list[CallDetailRecord]:
        c = t.call_detail_records.c
        query = select(*sealing.CALL_DETAIL.reading()).where(c.customer_id == customer)
        rows = self._conn.execute(query.order_by(c.started_at.desc()).limit(limit))
        return sealing.open_call_detail(self._sealer, rows)

    def bills(self, customer: CustomerId) -> list[Bill]:
        c = t.bills.c
        query = select(*sealing.BILLS.reading()).where(c.customer_id == customer).order_by(c.period.desc())
        return sealing.open_bills(self._sealer, self._conn.execute(query))

    def reseal(self, table: sealing.SealedTable, after: uuid.UUID | None, limit: int) -> tuple[int, uuid.UUID | None]:
        """A batch of a key rotation: see `cpni_sealing.reseal`."""
        return sealing.reseal(self._conn, self._sealer, table, after, limit)

    def keys_in_use(self) -> dict[str, dict[str, int]]:
        return sealing.keys_in_use(self._conn)

    def hold_keys_exclusively(self) -> None:
        """Until commit no writer takes a key: those still writing have finished (PostgreSQL)."""
        sealing.hold_keys_exclusively(self._conn)
