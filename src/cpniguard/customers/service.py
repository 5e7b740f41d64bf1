"""Use cases of the registry: open a customer's account, add contacts and services, look up."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.clock import Clock
from cpniguard.customers.model import (
    Contact,
    ContactKind,
    Customer,
    CustomerKind,
    Language,
    ListingStatus,
    Service,
    ServiceCategory,
    check_contact_change_time,
    new_contact,
    normalise_name,
    normalise_telephone_number,
)
from cpniguard.errors import InvalidInput, NotFound
from cpniguard.ids import CustomerId, new_id
from cpniguard.notifications.model import CHANGE_OF_CONTACT
from cpniguard.notifications.service import Letterhead, compose, queue_notice
from cpniguard.ports import UnitOfWork


@dataclass(frozen=True)
class NewCustomer:
    name: str
    telephone_numbers: tuple[str, ...]
    emails: tuple[str, ...] = ()
    postal_addresses: tuple[str, ...] = ()
    services: tuple[ServiceCategory, ...] = field(default=(ServiceCategory.LOCAL,))
    kind: CustomerKind = CustomerKind.RESIDENTIAL
    language: Language = Language.EN
    listing_status: ListingStatus = ListingStatus.NON_PUBLISHED


def build_customer(spec: NewCustomer, at: datetime, customer_id: CustomerId | None = None) -> Customer:
    """Validates everything before anything is stored, so bad input writes nothing. An id is
    given when the account comes from another system (a billing export) that already names it."""
    if not spec.telephone_numbers:
        raise InvalidInput("a customer needs a telephone number of record")
    cid = customer_id or CustomerId(new_id())
    numbers = [normalise_telephone_number(n) for n in spec.telephone_numbers]
    contacts = [Contact(new_id(), cid, ContactKind.TELEPHONE, n, at) for n in numbers]  # normalised once
    contacts += [new_contact(cid, ContactKind.EMAIL, e, at) for e in spec.emails]
    contacts += [new_contact(cid, ContactKind.POSTAL, p, at) for p in spec.postal_addresses]
    categories = spec.services or (ServiceCategory.LOCAL,)
    services = [Service(new_id(), cid, cat, at, numbers[0]) for cat in dict.fromkeys(categories)]
    return Customer(
        cid,
        normalise_name(spec.name),
        spec.kind,
        spec.language,
        at,
        spec.listing_status,
        tuple(services),
        tuple(contacts),
    )


def add_customer(
    uow: UnitOfWork, clock: Clock, actor: Actor, spec: NewCustomer, at: datetime | None = None
) -> Customer:
    """Opens an account with its telephone number of record, addresses and services."""
    customer = build_customer(spec, at or clock.now())
    with uow:
        uow.customers.add(customer)
        uow.audit.add(
            AuditEntry.of(
                "customers:account:opened",
                actor,
                clock.now(),
                customer.id,
                details={"services": [s.category.value for s in customer.services]},
            )
        )
        uow.commit()
    return customer


def add_contact(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    customer: CustomerId,
    kind: ContactKind,
    value: str,
    at: datetime | None = None,
    letterhead: Letterhead | None = None,
) -> Customer:
    """Adds a contact point; a new address of record is announced like a change (NOTIFY-1)."""
    return _change_contacts(uow, clock, actor, customer, kind, value, at, letterhead, replace=False)


def change_contact(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    customer: CustomerId,
    kind: ContactKind,
    value: str,
    at: datetime | None = None,
    letterhead: Letterhead | None = None,
) -> Customer:
    """Replaces the customer's contacts of this kind with `value`. The notice is queued in the
    same transaction, to the contacts of record before the change, never the new one (NOTIFY-5)."""
    return _change_contacts(uow, clock, actor, customer, kind, value, at, letterhead, replace=True)


def _change_contacts(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    customer: CustomerId,
    kind: ContactKind,
    value: str,
    at: datetime | None,
    letterhead: Letterhead | None,
    *,
    replace: bool,
) -> Customer:
    now = clock.now()
    contact = new_contact(customer, kind, value, at or now)
    with uow:
        before = _require(uow, customer)
        check_contact_change_time(before, kind, contact.added_at, now)
        current = [c for c in before.contacts if c.kind is kind and c.on_account(contact.added_at)]
        if any(c.value == contact.value for c in current):
            raise InvalidInput(f"that {kind.value} contact is already on the account")
        # The text names the change's effective time; the notice is queued (and due) now.
        composed = compose(before, CHANGE_OF_CONTACT[kind], contact.added_at, letterhead or Letterhead())
        notice = dataclasses.replace(composed, created_at=now)
        for old in current if replace else []:
            uow.customers.remove_contact(old.id, contact.added_at)
        uow.customers.add_contact(contact)
        action = "changed" if replace else "added"
        details: dict[str, object] = {
            "kind": kind.value,
            "contact": str(contact.id),
            "replaced": len(current) * replace,
            "effective_at": contact.added_at.isoformat(),
        }
        uow.audit.add(AuditEntry.of(f"customers:contact:{action}", actor, now, customer, details=details))
        queue_notice(uow, actor, now, notice)
        uow.commit()
        return _require(uow, customer)


def show_customer(uow: UnitOfWork, clock: Clock, actor: Actor, customer: CustomerId) -> Customer:
    """The account as staff see it; the viewing is recorded, since services are CPNI."""
    with uow:
        found = _require(uow, customer)
        uow.audit.add(
            AuditEntry.of(
                "customers:account:viewed",
                actor,
                clock.now(),
                customer,
                categories=("cpni", "protected"),
                purpose="provide-service",
            )
        )
        uow.commit()
    return found


def customer_by_contact_of_record(uow: UnitOfWork, clock: Clock, kind: ContactKind, value: str) -> CustomerId | None:
    """The one customer whose contact of record (DEF-5, DEF-6) this normalised email address or
    telephone number is now; None when none is, or when several share it. A read only: nothing
    is written for an unknown contact (the portal answers alike either way)."""
    now = clock.now()
    with uow:
        candidates = uow.customers.find(value, 5)
    if kind is ContactKind.TELEPHONE:
        found = [c.id for c in candidates if value in c.telephone_numbers_of_record(now)]
    else:
        wanted = value.lower()
        found = [c.id for c in candidates if any(e.value.lower() == wanted for e in c.contacts_of_record(now, kind))]
    return found[0] if len(found) == 1 else None


def find_customers(uow: UnitOfWork, clock: Clock, actor: Actor, text: str, limit: int = 20) -> list[Customer]:
    """By name, telephone number or email; the search is recorded, since results show services."""
    with uow:
        found = uow.customers.find(text, limit)
        uow.audit.add(
            AuditEntry.of(
                "customers:account:searched",
                actor,
                clock.now(),
                categories=("cpni", "protected"),
                purpose="provide-service",
                details={"found": len(found)},
            )
        )
        uow.commit()
    return found


def _require(uow: UnitOfWork, customer: CustomerId) -> Customer:
    found = uow.customers.get(customer)
    if found is None:
        raise NotFound(f"unknown customer: {customer}")
    return found
