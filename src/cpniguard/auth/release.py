"""How call detail may reach a customer in a session: discussed live, or only sent or called
back to contacts of record (AUTH-2 to AUTH-6, AUTH-9, AMB-14)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from cpniguard.calendar import eastern_date
from cpniguard.customers.model import ContactKind, Customer, CustomerKind
from cpniguard.customers.records import CallDetailRecord

# A shorter number given by a caller matches the end of a stored one (a national number
# against its E.164 form) only from this many digits on.
SHORTEST_NUMBER_SUFFIX = 7
DIGIT = re.compile(r"[0-9]")


class Channel(StrEnum):
    INBOUND_CALL = "inbound-call"
    IN_PERSON = "in-person"
    ONLINE = "online"


class SessionProof(StrEnum):
    """What the customer proved in this session."""

    PASSWORD = "password"  # noqa: S105 - the name of a kind, not a secret
    PIN = "pin"
    BACKUP_ANSWER = "backup-answer"
    PHOTO_ID = "photo-id"
    NONE = "none"


class RouteKind(StrEnum):
    DISCUSS = "discuss"
    CALLBACK = "callback"
    SEND_EMAIL = "send-email"
    SEND_LETTER = "send-letter"
    SINGLE_CALL = "single-call"


@dataclass(frozen=True, slots=True)
class ReleaseRoute:
    kind: RouteKind
    target: str | None  # the contact of record it goes to; None for discuss and single-call
    reason: str


@dataclass(frozen=True, slots=True)
class BusinessExemption:
    dedicated_representative: str | None
    contract_id: str | None
    cpni_clause: bool


def exemption_applies(exemption: BusinessExemption | None, via_representative: bool) -> bool:
    """AUTH-9: only with both a dedicated representative and a contract that addresses CPNI;
    AMB-14: and only for contacts through that representative, not the general support line."""
    if exemption is None or not exemption.dedicated_representative:
        return False
    return bool(exemption.contract_id) and exemption.cpni_clause and via_representative


# What lets call detail be discussed live on each channel: the password on an inbound call
# (AUTH-2; the PIN is the carrier's form of it), a valid photo ID in person (AUTH-6), a password
# login online (AUTH-5). A backup answer is deliberately absent: it only lets the customer set
# a new password (AUTH-8), never hear call detail.
LIVE_PROOFS: dict[Channel, frozenset[SessionProof]] = {
    Channel.INBOUND_CALL: frozenset({SessionProof.PASSWORD, SessionProof.PIN}),
    Channel.IN_PERSON: frozenset({SessionProof.PHOTO_ID}),
    Channel.ONLINE: frozenset({SessionProof.PASSWORD}),
}
# AUTH-3: without that, call detail goes only to contacts of record: a call back to a number of
# the customer's services (DEF-6), or sent to an address 30 days on the account (DEF-5).
CALLBACK_REASON = "call back to a telephone number of record"
SEND_ROUTES: dict[ContactKind, tuple[RouteKind, str]] = {
    ContactKind.EMAIL: (RouteKind.SEND_EMAIL, "send to an email address of record"),
    ContactKind.POSTAL: (RouteKind.SEND_LETTER, "send to a postal address of record"),
}


def release_routes(
    customer: Customer,
    channel: Channel,
    proof: SessionProof,
    at: datetime,
    caller_supplied_call: bool = False,
    exemption: BusinessExemption | None = None,
    via_representative: bool = False,
) -> list[ReleaseRoute]:
    """The ways call detail may be released in this session, most direct first."""
    if customer.kind is CustomerKind.BUSINESS and exemption_applies(exemption, via_representative):
        return [ReleaseRoute(RouteKind.DISCUSS, None, "business customer's contract, via the dedicated representative")]
    if proof in LIVE_PROOFS[channel]:
        return [ReleaseRoute(RouteKind.DISCUSS, None, f"authenticated by {proof.value} ({channel.value})")]
    routes = [ReleaseRoute(RouteKind.CALLBACK, n, CALLBACK_REASON) for n in customer.telephone_numbers_of_record(at)]
    routes += [
        ReleaseRoute(SEND_ROUTES[kind][0], contact.value, SEND_ROUTES[kind][1])
        for kind in SEND_ROUTES
        for contact in customer.contacts_of_record(at, kind)
    ]
    # AUTH-4: details the customer gave unaided open that one call to an agent (none online).
    if caller_supplied_call and channel is not Channel.ONLINE:
        routes.append(ReleaseRoute(RouteKind.SINGLE_CALL, None, "only the call the customer described unaided"))
    return routes


def match_caller_supplied_call(
    records: Sequence[CallDetailRecord],
    other_party_number: str,
    on_date: date,
    amount_cents: int | None,
) -> CallDetailRecord | None:
    """The one record matching what the caller said (the date in Eastern time), or None when
    none or several match: the agent may then show nothing."""
    matches = [
        r
        for r in records
        if _same_number(r.other_party_number, other_party_number)
        and eastern_date(r.started_at) == on_date
        and (amount_cents is None or r.charge_cents == amount_cents)
    ]
    return matches[0] if len(matches) == 1 else None


def _same_number(stored: str, given: str) -> bool:
    a, b = "".join(DIGIT.findall(stored)), "".join(DIGIT.findall(given))
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= SHORTEST_NUMBER_SUFFIX and longer.endswith(shorter)
