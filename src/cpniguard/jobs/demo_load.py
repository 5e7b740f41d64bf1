"""Writes the demo carrier: one unit of work per batch, committing the batch's rows and its
audit entries together (rule 2), so an interrupted demo leaves whole batches and a sound ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cpniguard.access.model import SCOPES
from cpniguard.access.service import create_api_key
from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.clock import Clock
from cpniguard.customers.model import Customer
from cpniguard.db import bulk
from cpniguard.db import tables as t
from cpniguard.db.consent_repo import event_row, state_row
from cpniguard.db.customer_repo import customer_row
from cpniguard.db.uow import SqlUnitOfWork
from cpniguard.errors import Conflict
from cpniguard.jobs.demo import DemoBatch, DemoCarrier
from cpniguard.jobs.demo_usage import bill_imported_at, call_imported_at

BATCH_SIZE = 5_000
DEMO_KEY_NAME = "demo"

NewUow = Callable[[], SqlUnitOfWork]


@dataclass
class DemoCounts:
    customers: int = 0
    services: int = 0
    contacts: int = 0
    call_detail_records: int = 0
    bills: int = 0
    consent_events: int = 0
    consent_states: int = 0
    audit_entries: int = 0


def customers_present(new_uow: NewUow) -> int:
    with new_uow() as uow:
        return uow.customers.count()


def load_demo(
    new_uow: NewUow,
    clock: Clock,
    actor: Actor,
    carrier: DemoCarrier,
    customers: int,
    progress: Callable[[int], None] = lambda n: None,
    batch_size: int = BATCH_SIZE,
) -> DemoCounts:
    """Makes and stores `customers` demo customers; refuses a seed whose customers exist."""
    counts = DemoCounts()
    for start in range(0, customers, batch_size):
        batch = carrier.batch(min(batch_size, customers - start))
        with new_uow() as uow:
            if start == 0 and uow.customers.exists(batch.customers[0].id):
                raise Conflict(f"the demo customers of seed {carrier.seed} exist already: pass another --seed")
            _write(uow, batch, carrier.as_of, counts)
            for entry in _audit_entries(batch, actor, clock.now()):
                uow.audit.add(entry)
                counts.audit_entries += 1
            uow.commit()
        progress(len(batch.customers))
    with new_uow() as uow:
        bulk.refresh_statistics(uow.connection)
        uow.commit()
    return counts


def _write(uow: SqlUnitOfWork, batch: DemoBatch, as_of: datetime, counts: DemoCounts) -> None:
    conn = uow.connection
    bulk.prepare_for_bulk(conn)
    services = [s for c in batch.customers for s in c.services]
    contacts = [k for c in batch.customers for k in c.contacts]
    calls_in = [call_imported_at(r.started_at, as_of) for r in batch.call_detail]
    bills_in = [bill_imported_at(b.period, as_of) for b in batch.bills]
    counts.customers += bulk.insert_rows(conn, t.customers, [customer_row(c) for c in batch.customers])
    counts.services += bulk.insert_records(conn, t.services, services)
    counts.contacts += bulk.insert_records(conn, t.contacts, contacts)
    counts.call_detail_records += uow.cpni.write_call_detail(batch.call_detail, calls_in)  # sealed (BREACH23-8)
    counts.bills += uow.cpni.write_bills(batch.bills, bills_in)
    # Stored in the order they took effect, so each event's seq agrees with its time.
    counts.consent_events += bulk.insert_rows(conn, t.consent_events, [event_row(e) for e in batch.consent_events])
    counts.consent_states += bulk.insert_rows(conn, t.consent_state, [state_row(s) for s in batch.consent_states])


def _audit_entries(batch: DemoBatch, actor: Actor, now: datetime) -> list[AuditEntry]:
    """What a carrier's own systems would have written, one entry per account and per event."""
    entries = [AuditEntry.of("customers:account:opened", actor, now, c.id, details=_opened(c)) for c in batch.customers]
    entries += [
        AuditEntry.of(
            f"consent:{e.kind.value}:recorded",
            actor,
            now,
            e.customer_id,
            details={"event": str(e.id), "channel": e.channel.value, "effective": e.at.isoformat(), "source": "demo"},
        )
        for e in batch.consent_events
    ]
    imported = {"call_detail_records": len(batch.call_detail), "bills": len(batch.bills), "source": "demo"}
    entries.append(AuditEntry.of("customers:cpni:imported", actor, now, categories=("cpni",), details=imported))
    return entries


def _opened(customer: Customer) -> dict[str, object]:
    services = [s.category.value for s in customer.services]
    return {"services": services, "opened": customer.created_at.isoformat(), "source": "demo"}


def ensure_demo_key(new_uow: NewUow, clock: Clock, actor: Actor) -> str | None:
    """The secret of a new all-scopes key named "demo", or None when that key exists."""
    with new_uow() as uow:
        if uow.api_keys.by_name(DEMO_KEY_NAME) is not None:
            return None
    _, secret = create_api_key(new_uow(), clock, actor, DEMO_KEY_NAME, SCOPES)
    return secret
