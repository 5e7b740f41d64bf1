"""The one gate every use of CPNI passes: decide, and record the decision in the ledger."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.clock import Clock
from cpniguard.consent.model import ConsentState, fold
from cpniguard.customers.model import Customer, ListingStatus
from cpniguard.decisions.model import CustomerFacts, Decision, Request, decide
from cpniguard.errors import DomainError, NotFound
from cpniguard.ids import CustomerId
from cpniguard.ports import BatchOutcome, UnitOfWork

CPNI = ("cpni",)


def facts_of(customer: Customer, at: datetime) -> CustomerFacts:
    return CustomerFacts(customer.listing_status is ListingStatus.PUBLISHED, customer.subscribed_categories(at))


@dataclass(frozen=True, slots=True)
class Check:
    """One question to the gate: may `actor` use this customer's CPNI for this request?"""

    actor: Actor
    customer: CustomerId
    request: Request
    at: datetime | None = None
    categories: tuple[str, ...] = CPNI


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
    _, [answer] = check_many(uow, clock, [Check(actor, customer, request, at, tuple(categories))])
    if isinstance(answer, DomainError):
        raise answer
    return answer


def check_many(uow: UnitOfWork, clock: Clock, checks: Sequence[Check]) -> tuple[datetime, list[Decision | DomainError]]:
    """Decides several checks in one transaction: one commit makes all their ledger entries
    durable (group commit), so a server can answer many concurrent callers per write.

    Returns the moment checks without `at` were decided for, and each check's answer: a
    decision, or the error for that check alone (an unknown customer)."""
    now = clock.now()
    with uow:
        answers = decide_in(uow, now, checks)
        uow.commit()
    return now, answers


def decide_in(uow: UnitOfWork, now: datetime, checks: Sequence[Check]) -> list[Decision | DomainError]:
    """The decisions and their ledger entries inside the caller's open unit of work, for a use
    case whose decision must commit together with what it allows (a release of call detail)."""
    answers: list[Decision | DomainError] = []
    moments: dict[datetime, list[CustomerId]] = {}
    for item in checks:
        moments.setdefault(item.at or now, []).append(item.customer)
    inputs = uow.gate.load(moments)
    for item in checks:
        when = item.at or now
        found = inputs.facts[when].get(item.customer)
        if found is None:
            answers.append(NotFound(f"unknown customer: {item.customer}"))
            continue
        decision = _decide(uow, item, found, inputs.states, when)
        uow.audit.add(_entry(item.actor, now, item.customer, decision, item.categories, item.request, when))
        answers.append(decision)
    return answers


def _decide(
    uow: UnitOfWork,
    item: Check,
    facts: CustomerFacts,
    states: dict[CustomerId, ConsentState] | None,
    when: datetime,
) -> Decision:
    if states is None:
        return Decision.deny(item.request.purpose, "consent state unavailable")
    state = states.get(item.customer) or ConsentState(item.customer)
    if not state.valid_for(when):  # consent changed after `when`: fold the events up to it
        state = fold(item.customer, uow.consent.events(item.customer), when)
    return decide(item.request, facts, state, when)


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
