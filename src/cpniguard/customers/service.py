"""Use cases of the registry: open a customer's account, add contacts and services, look up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.clock import Clock
from cpniguard.customers.model import (
    ContactKind,
    Customer,
    CustomerKind,
    Language,
    ListingStatus,
    Service,
    ServiceCategory,
    new_contact,
    normalise_name,
    normalise_telephone_number,
)
from cpniguard.errors import InvalidInput, NotFound
from cpniguard.ids import CustomerId, new_id
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


def build_customer(spec: NewCustomer, at: datetime) -> Customer:
    """Validates everything before anything is stored, so bad input writes nothing."""
    if not spec.telephone_numbers:
        raise InvalidInput("a customer needs a telephone number of record")
    cid = CustomerId(new_id())
    numbers = [normalise_telephone_number(n) for n in spec.telephone_numbers]
    contacts = [new_contact(cid, ContactKind.TELEPHONE, n, at) for n in numbers]
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
) -> Customer:
    contact = new_contact(customer, kind, value, at or clock.now())
    with uow:
        _require(uow, customer)
        uow.customers.add_contact(contact)
        uow.audit.add(
            AuditEntry.of(
                "customers:contact:added",
                actor,
                clock.now(),
                customer,
                details={"kind": kind.value, "contact": str(contact.id)},
            )
        )
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
