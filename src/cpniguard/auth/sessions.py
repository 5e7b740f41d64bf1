"""Call sessions: an agent handles a customer-initiated contact, records how the caller was
verified, sees which routes may release call detail, and releases it only through one of them.

Every release passes the gate (purpose `customer-care`, the session and route as reference),
so each disclosure is in the audit ledger. Sending to an address of record goes through the
outbox as a real email or letter with the records attached (AUTH-3).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.auth.model import CredentialKind
from cpniguard.auth.photo_id import PhotoId, photo_id_problem
from cpniguard.auth.release import (
    LIVE_PROOFS,
    Channel,
    ReleaseRoute,
    RouteKind,
    SessionProof,
    match_caller_supplied_call,
    release_routes,
)
from cpniguard.auth.service import AuthSettings, Verification, verify_credential
from cpniguard.clock import Clock
from cpniguard.consent.model import Channel as ConsentChannel
from cpniguard.consent.model import ConsentEvent, ConsentEventKind
from cpniguard.consent.service import append_event
from cpniguard.customers.model import Customer
from cpniguard.customers.records import Bill, CallDetailRecord
from cpniguard.decisions.model import Decision, Purpose, Request
from cpniguard.decisions.service import Check, check, decide_in
from cpniguard.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from cpniguard.ids import CustomerId, new_id
from cpniguard.notifications.model import Channel as NoticeChannel
from cpniguard.notifications.model import Notice, NoticeEvent, Stop, letter_recipient
from cpniguard.notifications.service import compose, queue_notice
from cpniguard.ports import CallSession, UnitOfWork

SENT_BY = {RouteKind.SEND_EMAIL: NoticeChannel.EMAIL, RouteKind.SEND_LETTER: NoticeChannel.LETTER}
CALL_DETAIL_CATEGORIES = ("cpni", "call-detail")
BILL_CATEGORIES = ("cpni", "bills")
SINGLE_CALL_SEARCH = 10_000  # AUTH-4: the disputed call may be old; a match must be the only one


@dataclass(frozen=True, slots=True)
class CallerSuppliedCall:
    """AUTH-4: what the caller said, unaided, about the one call they want to discuss."""

    other_party_number: str
    on_date: date
    amount_cents: int | None = None

    def supplied(self) -> str:
        """Which fields the caller gave, for the ledger; not their values, which are call detail."""
        return "caller supplied: number, date" + ("" if self.amount_cents is None else ", amount")


@dataclass(frozen=True, slots=True)
class Release:
    route: ReleaseRoute
    records: list[CallDetailRecord]  # what the agent may read out; empty when it was sent
    notice_id: uuid.UUID | None = None
    bills: list[Bill] = field(default_factory=list)  # likewise, when bills were asked for


def open_session(
    new_uow: Callable[[], UnitOfWork],
    clock: Clock,
    actor: Actor,
    settings: AuthSettings,
    customer_id: CustomerId,
    channel: Channel,
    credential: tuple[CredentialKind, str] | None = None,
    photo_id: PhotoId | None = None,
    via_representative: bool = False,
) -> tuple[CallSession, list[ReleaseRoute]]:
    """Opens a session; a credential given is verified (a failure counts towards the lockout)."""
    proof = SessionProof.NONE
    if credential is not None:
        kind, secret = credential
        if verify_credential(new_uow, clock, actor, settings, customer_id, kind, secret).verified:
            proof = SessionProof(kind.value)
    now = clock.now()
    with new_uow() as uow:
        customer = _customer(uow, customer_id)
        # A valid ID never replaces a PIN that already opens this channel (it would close it on a call).
        live = proof in LIVE_PROOFS[channel]
        if photo_id is not None and not live and photo_id_problem(photo_id, customer, now) is None:
            proof = SessionProof.PHOTO_ID
        session = CallSession(new_id(), customer_id, actor.label, channel.value, now, proof.value, via_representative)
        uow.auth.add_session(session)
        details = {"session": str(session.id), "channel": channel.value, "proof": proof.value}
        uow.audit.add(AuditEntry.of("auth:call-session:opened", actor, now, customer_id, details=details))
        routes = _routes(uow, customer, session, now, caller_supplied=False)
        uow.commit()
    return session, routes


def verify_in_session(
    new_uow: Callable[[], UnitOfWork],
    clock: Clock,
    actor: Actor,
    settings: AuthSettings,
    session_id: uuid.UUID,
    kind: CredentialKind,
    secret: str,
) -> tuple[Verification, list[ReleaseRoute]]:
    """The caller gives a PIN or password during the session (AUTH-1, AUTH-2): checked like any
    other attempt (it counts towards the lockout); when right, the session carries that proof."""
    with new_uow() as uow:
        session = _open_session(uow, session_id, clock.now())
    verification = verify_credential(new_uow, clock, actor, settings, session.customer_id, kind, secret)
    now = clock.now()
    with new_uow() as uow:
        session = _open_session(uow, session_id, now)
        if verification.verified:
            uow.auth.set_session_proof(session.id, SessionProof(kind.value).value)
            session = replace(session, proof=SessionProof(kind.value).value)
            details = {"session": str(session.id), "proof": session.proof}
            uow.audit.add(AuditEntry.of("auth:call-session:verified", actor, now, session.customer_id, details=details))
        routes = _routes(uow, _customer(uow, session.customer_id), session, now, caller_supplied=False)
        uow.commit()
    return verification, routes


def session_routes(
    uow: UnitOfWork, clock: Clock, session_id: uuid.UUID, caller_supplied: bool = False
) -> tuple[CallSession, list[ReleaseRoute]]:
    """The routes open in this session now, most direct first (AUTH-2, AUTH-3)."""
    now = clock.now()
    with uow:
        session = _open_session(uow, session_id, now)
        customer = _customer(uow, session.customer_id)
        return session, _routes(uow, customer, session, now, caller_supplied)


def release_call_detail(
    new_uow: Callable[[], UnitOfWork],
    clock: Clock,
    actor: Actor,
    settings: AuthSettings,
    session_id: uuid.UUID,
    route_kind: RouteKind,
    target: str | None = None,
    described: CallerSuppliedCall | None = None,
    limit: int = 50,
    bills: bool = False,
) -> Release:
    """Releases call detail (or, with `bills`, the customer's bills: other CPNI follows the same
    session rules) through one open route, or refuses with the routes that are open. The
    gate's decision, and the message when the records are sent, commit together."""
    if bills and route_kind is RouteKind.SINGLE_CALL:
        raise InvalidInput("single-call releases one call the caller described (AUTH-4), not bills")
    now = clock.now()
    with new_uow() as uow:
        session = _open_session(uow, session_id, now)
        customer = _customer(uow, session.customer_id)
        routes = _routes(uow, customer, session, now, caller_supplied=described is not None)
        route = _chosen(routes, route_kind, target)
        single = route.kind is RouteKind.SINGLE_CALL
        records = [] if bills else uow.cpni.call_detail(customer.id, SINGLE_CALL_SEARCH if single else limit)
        billed = uow.cpni.bills(customer.id)[:limit] if bills else []
        if single:
            records = _single(records, described)
        reference = f"call session {session.id}" + (", bills" if bills else "") + f", {route.kind.value}"
        reference += f" to {route.target}" if route.target else ""
        if single and described is not None:
            reference += f" ({described.supplied()})"  # AUTH-4: what the caller supplied, on record
        request = Request(Purpose.CUSTOMER_CARE, reference=reference)
        categories = BILL_CATEGORIES if bills else CALL_DETAIL_CATEGORIES
        [decision] = decide_in(uow, now, [Check(actor, customer.id, request, None, categories)])
        if isinstance(decision, DomainError):
            raise decision
        if not decision.allowed:
            uow.commit()  # the refusal is on record too
            raise Forbidden(f"the gate refused: {decision.reason}")
        notice = None
        if route.kind in SENT_BY:
            assert route.target is not None
            stop = Stop(SENT_BY[route.kind], route.target)
            if route.kind is RouteKind.SEND_LETTER:
                stop = Stop(SENT_BY[route.kind], letter_recipient(customer.name, route.target))
            event = NoticeEvent.BILLS if bills else NoticeEvent.CALL_DETAIL
            count = len(billed) if bills else len(records)
            notice = compose(customer, event, now, settings.letterhead, (stop,), count=count)
            notice = _with_bills(notice, billed) if bills else _with_attachment(notice, records)
            queue_notice(uow, actor, now, notice)
        uow.commit()
    if notice is not None:
        return Release(route, [], notice.id)
    return Release(route, records, bills=billed)


def close_session(uow: UnitOfWork, clock: Clock, actor: Actor, session_id: uuid.UUID) -> CallSession:
    """Ends the session; a one-time oral approval given in it ends with it (USE-9)."""
    now = clock.now()
    with uow:
        session = _open_session(uow, session_id, now)
        uow.auth.close_session(session_id, now)
        details = {"session": str(session_id)}
        uow.audit.add(AuditEntry.of("auth:call-session:closed", actor, now, session.customer_id, details=details))
        uow.commit()
        closed = uow.auth.session(session_id)
    assert closed is not None
    return closed


def _customer(uow: UnitOfWork, customer_id: CustomerId) -> Customer:
    found = uow.customers.get(customer_id)
    if found is None:
        raise NotFound(f"unknown customer: {customer_id}")
    return found


def _open_session(uow: UnitOfWork, session_id: uuid.UUID, now: datetime) -> CallSession:
    session = uow.auth.session(session_id)
    if session is None:
        raise NotFound(f"unknown call session: {session_id}")
    if not session.open_at(now):
        raise Conflict("the call session is closed")
    return session


def _routes(
    uow: UnitOfWork, customer: Customer, session: CallSession, now: datetime, caller_supplied: bool
) -> list[ReleaseRoute]:
    exemption = uow.auth.exemption(customer.id)
    channel, proof = Channel(session.channel), SessionProof(session.proof)
    return release_routes(customer, channel, proof, now, caller_supplied, exemption, session.via_representative)


def _chosen(routes: Sequence[ReleaseRoute], kind: RouteKind, target: str | None) -> ReleaseRoute:
    for route in routes:
        if route.kind is kind and (target is None or route.target == target):
            return route
    open_ = ", ".join(f"{r.kind.value}" + (f" to {r.target}" if r.target else "") for r in routes) or "none"
    raise Forbidden(f"that release route is not open in this session (open: {open_})")


def _single(records: Sequence[CallDetailRecord], described: CallerSuppliedCall | None) -> list[CallDetailRecord]:
    if described is None:
        raise InvalidInput("a single-call release needs the number, date and amount the caller gave")
    found = match_caller_supplied_call(records, described.other_party_number, described.on_date, described.amount_cents)
    if found is None:
        raise NotFound("no single call matches what the caller described: nothing may be shown")
    return [found]


CSV_FIELDS = ("started_at", "direction", "service_number", "other_party_number", "duration_seconds", "charge_cents")


BILL_FIELDS = ("period", "account_number", "total_cents", "local_charges_cents", "long_distance_charges_cents")


def _with_bills(notice: Notice, bills: Sequence[Bill]) -> Notice:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(BILL_FIELDS)
    for b in bills:
        writer.writerow(
            [b.period, b.account_number, b.total_cents, b.local_charges_cents, b.long_distance_charges_cents]
        )
    return replace(notice, attachment_name="bills.csv", attachment=out.getvalue().encode())


def _with_attachment(notice: Notice, records: Sequence[CallDetailRecord]) -> Notice:
    """The requested records as a CSV file, attached to the email or printed with the letter."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for r in records:
        writer.writerow(
            [
                r.started_at.isoformat(),
                r.direction.value,
                r.service_number,
                r.other_party_number,
                r.duration_seconds,
                r.charge_cents,
            ]
        )
    return replace(notice, attachment_name="call-detail.csv", attachment=out.getvalue().encode())


def approve_one_time_use(uow: UnitOfWork, clock: Clock, actor: Actor, session_id: uuid.UUID) -> None:
    """USE-9, NOTICE-11: the caller agreed, after oral notice, to the use of their CPNI for this
    call only. Recorded as a consent event naming the session; it grants nothing after it."""
    now = clock.now()
    with uow:
        session = _open_session(uow, session_id, now)
        event = ConsentEvent(
            new_id(),
            session.customer_id,
            ConsentEventKind.ONE_TIME_APPROVAL,
            ConsentChannel.PHONE,
            now,
            now,
            actor.label,
            _approval_evidence(session.id),
        )
        append_event(uow, actor, event, now, session=str(session.id))
        uow.commit()


def use_on_call(new_uow: Callable[[], UnitOfWork], clock: Clock, actor: Actor, session_id: uuid.UUID) -> Decision:
    """May the agent use the caller's CPNI to offer services on this call (USE-9)? Only while
    the session that holds the one-time approval is open; the gate records the answer."""
    now = clock.now()
    with new_uow() as uow:
        session = _open_session(uow, session_id, now)
        evidence = _approval_evidence(session.id)
        approved = any(
            e.kind is ConsentEventKind.ONE_TIME_APPROVAL and e.evidence == evidence
            for e in uow.consent.events(session.customer_id)
        )
    if not approved:
        raise Forbidden("the caller has not given one-time approval in this call session (USE-9)")
    request = Request(Purpose.MARKETING_ON_CALL, reference=f"call session {session.id}")
    return check(new_uow(), clock, actor, session.customer_id, request)


def _approval_evidence(session_id: uuid.UUID) -> str:
    return f"oral approval on call session {session_id}"
