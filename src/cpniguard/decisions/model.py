"""The purpose gate: may CPNI be used for this purpose, for this customer, at this moment?

Each rule reads like the rule it encodes and cites it once. Time is a parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cpniguard.consent.model import ConsentState
from cpniguard.customers.model import SERVICE_BUCKET, ServiceCategory
from cpniguard.errors import InvalidInput


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


MARKETING_PURPOSES = frozenset(
    {Purpose.MARKETING_SUBSCRIBED, Purpose.MARKETING_COMMUNICATIONS, Purpose.MARKETING_THIRD_PARTY}
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


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    purpose: str
    reason: str
    basis: Basis = Basis.NONE
    basis_ref: str | None = None  # the consent event id, or the statute
    citation: str | None = None

    @classmethod
    def allow(cls, purpose: Purpose, reason: str, basis: Basis, ref: str | None, citation: str) -> Decision:
        return cls(True, purpose.value, reason, basis, ref, citation)

    @classmethod
    def deny(cls, purpose: str, reason: str, ref: str | None = None, citation: str | None = None) -> Decision:
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


def _statute(citation: str, reason: str) -> Callable[[Request, CustomerFacts, ConsentState, datetime], Decision]:
    def rule(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
        return Decision.allow(request.purpose, reason, Basis.STATUTE, citation, citation)

    return rule


def legal_process(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
    # USE-13: "as required by law" only with the order or subpoena named.
    if not (request.reference and request.reference.strip()):
        return Decision.deny(request.purpose, "legal process needs a reference to the order or subpoena")
    citation = "47 U.S.C. 222(c)(1)"
    return Decision.allow(
        request.purpose, f"required by law: {request.reference.strip()}", Basis.STATUTE, citation, citation
    )


def directory_publishing(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
    # USE-12, AMB-6: only a published listing may go to a directory.
    if not facts.listing_published:
        return Decision.deny(request.purpose, "listing not published", citation="47 U.S.C. 222(e)")
    citation = "47 U.S.C. 222(c)(1), 222(e)"
    return Decision.allow(request.purpose, "published listing", Basis.STATUTE, citation, citation)


def _objection(request: Request, state: ConsentState, at: datetime) -> Decision | None:
    if state.objection_active(at):
        ref = str(state.objection_event) if state.objection_event else None
        return Decision.deny(request.purpose, "customer objected", ref, "47 CFR 64.2007(a)(2)")
    return None


def marketing_subscribed(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
    # USE-2: offers within the categories the customer already buys need no approval, but an
    # objection on record is honoured for every marketing purpose (the conservative reading).
    if (denied := _objection(request, state, at)) is not None:
        return denied
    bought = {SERVICE_BUCKET[c] for c in facts.subscribed}
    offered = SERVICE_BUCKET[request.offer_category] if request.offer_category else None
    if not bought or (offered is not None and offered not in bought):
        return Decision.deny(request.purpose, "offer outside subscribed categories", citation="47 CFR 64.2005(b)")
    citation = "47 CFR 64.2005(a)"
    return Decision.allow(request.purpose, "total service approach", Basis.STATUTE, citation, citation)


def marketing_communications(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
    # CONSENT-4: communications-related marketing by the carrier, its affiliates and agents.
    if (denied := _objection(request, state, at)) is not None:
        return denied
    if state.opt_in_active(at):
        return Decision.allow(request.purpose, "opt-in", Basis.CONSENT, str(state.opt_in_event), "47 CFR 64.2007(b)")
    if state.opt_out_approval_presumed(at):  # AMB-3 waiting period, AMB-9 biennial re-notice
        return Decision.allow(
            request.purpose, "opt-out approval", Basis.CONSENT, str(state.notice_event), "47 CFR 64.2008(d)"
        )
    if state.renotice_overdue(at):
        return Decision.deny(request.purpose, "opt-out notice overdue", citation="47 CFR 64.2008(d)(2)")
    return Decision.deny(request.purpose, "no approval on record", citation="47 U.S.C. 222(c)(1)")


def marketing_third_party(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
    # CONSENT-4: joint-venture partners, contractors, third parties and non-communications
    # offers need opt-in approval.
    if (denied := _objection(request, state, at)) is not None:
        return denied
    if state.opt_in_active(at):
        return Decision.allow(request.purpose, "opt-in", Basis.CONSENT, str(state.opt_in_event), "47 CFR 64.2007(b)")
    return Decision.deny(request.purpose, "opt-in required", citation="47 CFR 64.2007(b)")


Rule = Callable[[Request, CustomerFacts, ConsentState, datetime], Decision]

RULES: dict[Purpose, Rule] = {
    Purpose.PROVIDE_SERVICE: _statute("47 U.S.C. 222(c)(1)", "provides the service subscribed"),  # USE-1
    Purpose.BILLING: _statute("47 U.S.C. 222(d)(1)", "billing and collection"),  # USE-7
    Purpose.FRAUD_PROTECTION: _statute("47 U.S.C. 222(d)(2)", "protection against fraud"),  # USE-8
    Purpose.EMERGENCY: _statute("47 U.S.C. 222(d)(4)", "emergency services"),  # USE-10
    Purpose.LEGAL_PROCESS: legal_process,
    Purpose.DIRECTORY_PUBLISHING: directory_publishing,
    Purpose.MARKETING_SUBSCRIBED: marketing_subscribed,
    Purpose.MARKETING_COMMUNICATIONS: marketing_communications,
    Purpose.MARKETING_THIRD_PARTY: marketing_third_party,
}


def decide(request: Request, facts: CustomerFacts, state: ConsentState, at: datetime) -> Decision:
    """One decision for one customer; pure, so it can be replayed for any past moment."""
    return RULES[request.purpose](request, facts, state, at)
