"""The one gate every use of CPNI passes: decide, and record the decision in the ledger."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.clock import Clock
from cpniguard.consent.model import ConsentState, fold
from cpniguard.customers.model import Customer, ListingStatus
from cpniguard.decisions.model import CustomerFacts, Decision, Request, decide
from cpniguard.errors import NotFound, StorageUnavailable
from cpniguard.ids import CustomerId
from cpniguard.ports import BatchOutcome, UnitOfWork

CPNI = ("cpni",)


def facts_of(customer: Customer, at: datetime) -> CustomerFacts:
    return CustomerFacts(customer.listing_status is ListingStatus.PUBLISHED, customer.subscribed_categories(at))


def consent_at(uow: UnitOfWork, customer: CustomerId, at: datetime) -> ConsentState:
    """The current-state row when it answers for `at`; otherwise the events folded to `at`."""
    state = uow.consent.state(customer)
    if state is not None and state.valid_for(at):
        return state
    if state is None:
        return ConsentState(customer)
    return fold(customer, uow.consent.events(customer), at)


def check(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    customer: CustomerId,
    request: Request,
    at: datetime | None = None,
    categories: Iterable[str] = CPNI,
) -> Decision:
    """Decides one use and writes the decision to the audit ledger before answering (SAFE-1).

    When consent cannot be read the gate fails closed: the answer is a denial."""
    when = at or clock.now()
    with uow:
        facts = uow.customers.decision_facts(customer, when)
        if facts is None:
            raise NotFound(f"unknown customer: {customer}")
        try:
            decision = decide(request, facts, consent_at(uow, customer, when), when)
        except StorageUnavailable:
            decision = Decision.deny(request.purpose.value, "consent state unavailable")
        uow.audit.add(_entry(actor, clock.now(), customer, decision, categories, request, when))
        uow.commit()
    return decision


def _entry(
    actor: Actor,
    now: datetime,
    customer: CustomerId,
    decision: Decision,
    categories: Iterable[str],
    request: Request,
    when: datetime,
) -> AuditEntry:
    details: dict[str, object] = {"at": when.isoformat(), "citation": decision.citation}
    if request.reference:
        details["reference"] = request.reference
    if request.offer_category:
        details["offer"] = request.offer_category.value
    return AuditEntry.of(
        "decisions:cpni-use:allowed" if decision.allowed else "decisions:cpni-use:denied",
        actor,
        now,
        customer,
        categories=categories,
        purpose=decision.purpose,
        basis=f"{decision.basis.value}:{decision.basis_ref or ''}",
        outcome="allowed" if decision.allowed else "denied",
        reason=decision.reason,
        details=details,
    )


def check_batch(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    request: Request,
    at: datetime | None = None,
    customers: Iterable[CustomerId] | None = None,
) -> BatchOutcome:
    """Decides for many customers in set-based SQL. The ledger gets one entry for the batch,
    with the counts and a digest of the allowed customers, so the batch can be proved later."""
    when = at or clock.now()
    with uow:
        outcome = uow.batch.decide(request.purpose.value, when, customers, request.offer_category, request.reference)
        digest = hashlib.sha256("\n".join(sorted(outcome.allowed)).encode()).hexdigest()
        uow.audit.add(
            AuditEntry.of(
                "decisions:cpni-use:batch",
                actor,
                clock.now(),
                categories=CPNI,
                purpose=request.purpose.value,
                outcome=f"{len(outcome.allowed)} allowed",
                reason="batch decision",
                details={
                    "at": when.isoformat(),
                    "allowed": len(outcome.allowed),
                    "denied": outcome.denied,
                    "allowed_sha256": digest,
                },
            )
        )
        uow.commit()
    return outcome
