"""The purpose gate: may CPNI be used for this purpose, for this customer, at this moment?

Each rule reads like the rule it encodes and cites it once. Time is a parameter.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import NamedTuple

from cpniguard.consent.model import ConsentState
from cpniguard.customers.model import SERVICE_BUCKET, ServiceCategory
from cpniguard.errors import InvalidInput
from cpniguard.text import clean_text


class Purpose(StrEnum):
    PROVIDE_SERVICE = "provide-service"
    BILLING = "billing"
    FRAUD_PROTECTION = "fraud-protection"
    LEGAL_PROCESS = "legal-process"
    EMERGENCY = "emergency"
    DIRECTORY_PUBLISHING = "directory-publishing"
    MARKETING_SUBSCRIBED = "marketing-subscribed"
    MARKETING_COMMUNICATIONS = "marketing-communications"
    MARKETING_THIRD_PARTY = "marketing-third-party"
    CUSTOMER_CARE = "customer-care"
    MARKETING_ON_CALL = "marketing-on-call"


MARKETING_PURPOSES = frozenset(
    {
        Purpose.MARKETING_SUBSCRIBED,
        Purpose.MARKETING_COMMUNICATIONS,
        Purpose.MARKETING_THIRD_PARTY,
        Purpose.MARKETING_ON_CALL,
    }
)


def parse_purpose(text: str) -> Purpose:
    try:
        return Purpose(text)
    except ValueError:
        allowed = ", ".join(p.value for p in Purpose)
        raise InvalidInput(f"unknown purpose {text!r} (one of: {allowed})") from None


class Basis(StrEnum):
    STATUTE = "statute"
    CONSENT = "consent"
    NONE = "none"


class Decision(NamedTuple):
    """The gate's answer. A tuple, not a frozen dataclass: it is built on every decision and
    a tuple is built several times faster (the in-process gate is benchmarked, issue 2)."""

    allowed: bool
    purpose: str
    reason: str
    basis: Basis = Basis.NONE
    basis_ref: uuid.UUID | str | None = None  # the consent event, or the statute
    citation: str | None = None

    @classmethod
    def allow(cls, purpose: Purpose, reason: str, basis: Basis, ref: uuid.UUID | str | None, citation: str) -> Decision:
        return cls(True, purpose.value, reason, basis, ref, citation)

    @classmethod
    def deny(
        cls, purpose: str, reason: str, ref: uuid.UUID | str | None = None, citation: str | None = None
    ) -> Decision:
        return cls(False, str(purpose), reason, Basis.NONE, ref, citation)


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """What the gate needs to know of the customer besides consent."""

    listing_published: bool
    subscribed: frozenset[ServiceCategory]


@dataclass(frozen=True, slots=True)
class Request:
    purpose: Purpose
    reference: str | None = None  # legal-process: the order or subpoena
    offer_category: ServiceCategory | None = None  # marketing-subscribed: what is offered

    def __post_init__(self) -> None:
        if self.reference is not None:
            object.__setattr__(self, "reference", clean_text(self.reference, "a reference", 0, 500) or None)


@cache
def refused(purpose: Purpose, reason: str, citation: str | None = None) -> Decision:
    """A denial that names no event is the same every time: built once."""
    return Decision.deny(purpose, reason, None, citation)


@cache
def granted(purpose: Purpose, reason: str, citation: str) -> Decision:
    """A statutory allowance is the same every time: built once."""
    return Decision.allow(purpose, reason, Basis.STATUTE, citation, citation)


def _statute(
    purpose: Purpose, citation: str, reason: str
) -> Callable[[Request, CustomerFacts, ConsentState, datetime], Decision]:
    answer = granted(purpose, reason, citation)

    def rule(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
        return answer

    return rule


def legal_process(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
    # USE-13: "as required by law" only with the order or subpoena named.
    if not (request.reference and request.reference.strip()):
        return refused(request.purpose, "legal process needs a reference to the order or subpoena")
    citation = "47 U.S.C. 222(c)(1)"
    return Decision.allow(
        request.purpose, f"required by law: {request.reference.strip()}", Basis.STATUTE, citation, citation
    )


def customer_care(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
    # AUTH-2..AUTH-6: CPNI goes to the customer only through a call session that recorded how
    # the caller was authenticated and which release route is open (auth/sessions.py).
    if not (request.reference and request.reference.strip()):
        return refused(request.purpose, "customer care needs the call session that authenticated the customer")
    citation = "47 U.S.C. 222(c)(1); 47 CFR 64.2010"
    reason = f"to the authenticated customer: {request.reference.strip()}"
    return Decision.allow(request.purpose, reason, Basis.STATUTE, citation, citation)


def marketing_on_call(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
    # USE-9, NOTICE-11: inbound telemarketing on the customer's own call, with their one-time
    # oral approval; the call session that holds the approval is the reference. An objection
    # on record still wins (the conservative reading).
    if (denied := _objection(request, state, at)) is not None:
        return denied
    if not (request.reference and request.reference.strip()):
        return refused(request.purpose, "one-time use needs the call session holding the approval")
    citation = "47 U.S.C. 222(d)(3); 47 CFR 64.2008(f)"
    reason = f"one-time oral approval: {request.reference.strip()}"
    return Decision.allow(request.purpose, reason, Basis.CONSENT, citation, citation)


def directory_publishing(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
    # USE-12, AMB-6: only a published listing may go to a directory.
    if not facts.listing_published:
        return refused(request.purpose, "listing not published", "47 U.S.C. 222(e)")
    return granted(request.purpose, "published listing", "47 U.S.C. 222(c)(1), 222(e)")


@cache
def buckets(subscribed: frozenset[ServiceCategory]) -> frozenset[str]:
    """The 64.2005(a) categories a set of services falls in (few distinct sets: cached)."""
    return frozenset(SERVICE_BUCKET[c] for c in subscribed)


def _objection(request: Request, state: ConsentState, at: datetime) -> Decision | None:
    if state.objection_active(at):
        return Decision.deny(request.purpose, "customer objected", state.objection_event, "47 CFR 64.2007(a)(2)")
    return None


def marketing_subscribed(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
    # USE-2: offers within the categories the customer already buys need no approval, but an
    # objection on record is honoured for every marketing purpose (the conservative reading).
    if (denied := _objection(request, state, at)) is not None:
        return denied
    bought = buckets(facts.subscribed)
    offered = SERVICE_BUCKET[request.offer_category] if request.offer_category else None
    if not bought or (offered is not None and offered not in bought):
        return refused(request.purpose, "offer outside subscribed categories", "47 CFR 64.2005(b)")
    return granted(request.purpose, "total service approach", "47 CFR 64.2005(a)")


def marketing_communications(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
    # CONSENT-4: communications-related marketing by the carrier, its affiliates and agents.
    if (denied := _objection(request, state, at)) is not None:
        return denied
    if state.opt_in_active(at):
        return Decision.allow(request.purpose, "opt-in", Basis.CONSENT, state.opt_in_event, "47 CFR 64.2007(b)")
    if state.opt_out_approval_presumed(at):  # AMB-3 waiting period, AMB-9 biennial re-notice
        return Decision.allow(
            request.purpose, "opt-out approval", Basis.CONSENT, state.notice_event, "47 CFR 64.2008(d)"
        )
    if state.renotice_overdue(at):
        return refused(request.purpose, "opt-out notice overdue", "47 CFR 64.2008(d)(2)")
    return refused(request.purpose, "no approval on record", "47 U.S.C. 222(c)(1)")


def marketing_third_party(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
    # CONSENT-4: joint-venture partners, contractors, third parties and non-communications
    # offers need opt-in approval.
    if (denied := _objection(request, state, at)) is not None:
        return denied
    if state.opt_in_active(at):
        return Decision.allow(request.purpose, "opt-in", Basis.CONSENT, state.opt_in_event, "47 CFR 64.2007(b)")
    return refused(request.purpose, "opt-in required", "47 CFR 64.2007(b)")


Rule = Callable[[Request, CustomerFacts, ConsentState, datetime], Decision]

RULES: dict[Purpose, Rule] = {
    Purpose.PROVIDE_SERVICE: _statute(
        Purpose.PROVIDE_SERVICE, "47 U.S.C. 222(c)(1)", "provides the service subscribed"
    ),  # USE-1
    Purpose.BILLING: _statute(Purpose.BILLING, "47 U.S.C. 222(d)(1)", "billing and collection"),  # USE-7
    Purpose.FRAUD_PROTECTION: _statute(
        Purpose.FRAUD_PROTECTION, "47 U.S.C. 222(d)(2)", "protection against fraud"
    ),  # USE-8
    Purpose.EMERGENCY: _statute(Purpose.EMERGENCY, "47 U.S.C. 222(d)(4)", "emergency services"),  # USE-10
    Purpose.LEGAL_PROCESS: legal_process,
    Purpose.DIRECTORY_PUBLISHING: directory_publishing,
    Purpose.MARKETING_SUBSCRIBED: marketing_subscribed,
    Purpose.MARKETING_COMMUNICATIONS: marketing_communications,
    Purpose.MARKETING_THIRD_PARTY: marketing_third_party,
    Purpose.CUSTOMER_CARE: customer_care,
    Purpose.MARKETING_ON_CALL: marketing_on_call,
}


def decide(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
    """One decision for one customer; pure, so it can be replayed for any past moment."""
    return RULES[request.purpose](request, facts, state, at)
