"""Call sessions and the release of call detail over HTTP (AUTH-2..AUTH-6, AUTH-9), and the
account-change side of the registry: contact changes and the notices they queue (NOTIFY-*)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from cpniguard.api.auth import Reader, Writer
from cpniguard.api.bodies import Body, When
from cpniguard.api.customer_auth import PhotoIdIn, SecretIn
from cpniguard.api.deps import AppDep, parse_moment
from cpniguard.api.errors import ERROR_RESPONSES
from cpniguard.api.responses import CustomerOut, DecisionOut, Out, Time
from cpniguard.auth.model import CredentialKind
from cpniguard.auth.release import Channel, ReleaseRoute, RouteKind
from cpniguard.auth.sessions import (
    CallerSuppliedCall,
    approve_one_time_use,
    close_session,
    open_session,
    release_call_detail,
    session_routes,
    use_on_call,
)
from cpniguard.customers.model import ContactKind
from cpniguard.customers.service import add_contact, change_contact
from cpniguard.ids import parse_customer_id, parse_uuid
from cpniguard.notifications.service import list_notices
from cpniguard.ports import CallSession
from cpniguard.views import bill_view, cdr_view, customer_view, decision_view, iso, notice_view

router = APIRouter(responses=ERROR_RESPONSES)


class ContactChangeIn(Body):
    kind: ContactKind
    value: str = Field(max_length=400, examples=["ada@example.org"])
    at: When = Field(
        default=None,
        description="When the change took effect (default now): not in the future, at most 24 hours ago, "
        "and not before the customer's latest change of this kind (DEF-5)",
    )


class NoticeOut(Out):
    id: str
    customer_id: str
    event: str
    channel: str
    recipient: str
    subject: str
    body: str
    language: str
    status: str
    attempts: int
    created_at: Time
    delivered_at: Time | None
    last_error: str | None
    route: list[dict[str, str]]
    attachment: str | None


class CredentialProofIn(SecretIn):
    kind: CredentialKind


class SessionIn(Body):
    customer_id: uuid.UUID
    channel: Channel = Channel.INBOUND_CALL
    verify: CredentialProofIn | None = Field(default=None, description="A PIN or password the caller gave")
    photo_id: PhotoIdIn | None = Field(default=None, description="In person: the photo ID shown (AUTH-6)")
    via_representative: bool = Field(default=False, description="Through the dedicated representative (AUTH-9)")


class RouteOut(Out):
    route: str
    to: str | None
    reason: str


class SessionOut(Out):
    id: str
    customer_id: str
    channel: str
    proof: str
    agent: str
    opened_at: Time
    closed_at: Time | None
    routes: list[RouteOut] | None = None


class CallIn(Body):
    number: str = Field(max_length=30, description="The other party's number, as the caller gave it")
    date: date
    amount_cents: int | None = Field(default=None, ge=-(10**12), le=10**12)


class ReleaseIn(Body):
    route: RouteKind
    to: str | None = Field(default=None, description="Which contact of record, when several are open")
    call: CallIn | None = Field(default=None, description="single-call: what the caller described unaided (AUTH-4)")
    limit: int = Field(default=50, ge=1, le=5000)
    bills: bool = Field(default=False, description="Release the bills instead of call detail (same rules)")


class CallOut(Out):
    id: str
    started_at: Time
    direction: str
    service_number: str
    other_party_number: str
    duration_seconds: int
    charge_cents: int
    location: str | None


class BillOut(Out):
    id: str
    period: str
    account_number: str
    total_cents: int
    local_charges_cents: int
    long_distance_charges_cents: int
    directory_assistance_charges_cents: int
    feature_charges_cents: int
    minutes_used: int


class ReleaseOut(Out):
    route: str
    to: str | None
    reason: str
    notice_id: str | None
    records: list[CallOut]
    bills: list[BillOut] = Field(default_factory=list)


def _route(route: ReleaseRoute) -> RouteOut:
    return RouteOut(route=route.kind.value, to=route.target, reason=route.reason)


def _session(session: CallSession, routes: list[ReleaseRoute] | None = None) -> SessionOut:
    return SessionOut(
        id=str(session.id),
        customer_id=str(session.customer_id),
        channel=session.channel,
        proof=session.proof,
        agent=session.agent,
        opened_at=session.opened_at.isoformat(),
        closed_at=iso(session.closed_at),
        routes=None if routes is None else [_route(r) for r in routes],
    )


@router.post("/customers/{customer_id}/contacts", status_code=201, tags=["registry"])
def add_contact_point(customer_id: str, body: ContactChangeIn, app: AppDep, actor: Writer) -> CustomerOut:
    """Add a contact point; the customer is told at the contacts of record before it (NOTIFY-1)."""
    at = parse_moment(body.at) if body.at is not None else None
    customer = add_contact(
        app.uow(), app.clock, actor, parse_customer_id(customer_id), body.kind, body.value, at, app.letterhead
    )
    return CustomerOut.model_validate(customer_view(customer, app.clock.now()))


@router.post("/customers/{customer_id}/contacts/change", tags=["registry"])
def change_contact_point(customer_id: str, body: ContactChangeIn, app: AppDep, actor: Writer) -> CustomerOut:
    """Replace the contacts of one kind; the notice goes to the old contact of record (NOTIFY-5)."""
    at = parse_moment(body.at) if body.at is not None else None
    customer = change_contact(
        app.uow(), app.clock, actor, parse_customer_id(customer_id), body.kind, body.value, at, app.letterhead
    )
    return CustomerOut.model_validate(customer_view(customer, app.clock.now()))


@router.get("/notifications", tags=["notices"])
def notifications(
    app: AppDep,
    actor: Reader,
    customer: Annotated[str | None, Query(description="Only this customer's notices")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[NoticeOut]:
    """Notices, newest first, with channel, recipient, text and delivery status."""
    chosen = parse_customer_id(customer) if customer else None
    return [NoticeOut.model_validate(notice_view(n)) for n in list_notices(app.uow(), chosen, limit)]


@router.post("/sessions", status_code=201, tags=["call sessions"])
def open_call_session(body: SessionIn, app: AppDep, actor: Writer) -> SessionOut:
    """Open a session for a customer-initiated contact; answers the release routes open."""
    credential = (body.verify.kind, body.verify.secret) if body.verify else None
    photo = body.photo_id.photo_id() if body.photo_id else None
    session, routes = open_session(
        app.uow,
        app.clock,
        actor,
        app.auth,
        parse_customer_id(str(body.customer_id)),
        body.channel,
        credential,
        photo,
        body.via_representative,
    )
    return _session(session, routes)


@router.get("/sessions/{session_id}/routes", tags=["call sessions"])
def routes(
    session_id: str,
    app: AppDep,
    actor: Reader,
    caller_supplied: Annotated[bool, Query(description="The caller described one call unaided (AUTH-4)")] = False,
) -> SessionOut:
    """The routes by which call detail may be released in this session now."""
    session, found = session_routes(app.uow(), app.clock, parse_uuid(session_id, "call session"), caller_supplied)
    return _session(session, found)


@router.post("/sessions/{session_id}/releases", tags=["call sessions"])
def release(session_id: str, body: ReleaseIn, app: AppDep, actor: Writer) -> ReleaseOut:
    """Release call detail through an open route; sent ones go out through the outbox."""
    described = CallerSuppliedCall(body.call.number, body.call.date, body.call.amount_cents) if body.call else None
    done = release_call_detail(
        app.uow,
        app.clock,
        actor,
        app.auth,
        parse_uuid(session_id, "call session"),
        body.route,
        body.to,
        described,
        body.limit,
        body.bills,
    )
    return ReleaseOut(
        route=done.route.kind.value,
        to=done.route.target,
        reason=done.route.reason,
        notice_id=str(done.notice_id) if done.notice_id else None,
        records=[CallOut.model_validate(cdr_view(r)) for r in done.records],
        bills=[BillOut.model_validate(bill_view(b)) for b in done.bills],
    )


@router.post("/sessions/{session_id}/close", tags=["call sessions"])
def close(session_id: str, app: AppDep, actor: Writer) -> SessionOut:
    """Close the session."""
    return _session(close_session(app.uow(), app.clock, actor, parse_uuid(session_id, "call session")))


@router.post("/sessions/{session_id}/one-time-approval", status_code=201, tags=["call sessions"])
def approve(session_id: str, app: AppDep, actor: Writer) -> dict[str, bool]:
    """The caller agreed, after oral notice, to the use of their CPNI on this call only (USE-9)."""
    approve_one_time_use(app.uow(), app.clock, actor, parse_uuid(session_id, "call session"))
    return {"one_time_approval": True}


@router.post("/sessions/{session_id}/use-on-call", tags=["call sessions"])
def on_call(session_id: str, app: AppDep, actor: Writer) -> DecisionOut:
    """May the agent use the caller's CPNI to offer services on this call? The gate answers."""
    decision = use_on_call(app.uow, app.clock, actor, parse_uuid(session_id, "call session"))
    return DecisionOut.model_validate(decision_view(decision, None, app.clock.now()))
