"""`cpniguard sessions ...`: call sessions and the release of call detail (AUTH-2..AUTH-6, AUTH-9)."""

from __future__ import annotations

import uuid
from datetime import date

import typer

from cpniguard.auth.model import CredentialKind
from cpniguard.auth.release import BusinessExemption, Channel, ReleaseRoute, RouteKind
from cpniguard.auth.service import record_exemption
from cpniguard.auth.sessions import (
    CallerSuppliedCall,
    approve_one_time_use,
    close_session,
    open_session,
    release_call_detail,
    session_routes,
    use_on_call,
)
from cpniguard.cli.common import JSON_OPTION, emit, state
from cpniguard.cli.credentials import _photo_id, read_secret
from cpniguard.customers.model import parse_enum
from cpniguard.errors import InvalidInput
from cpniguard.ids import parse_customer_id, parse_uuid
from cpniguard.ports import CallSession
from cpniguard.views import bill_view, cdr_view, decision_view, iso

sessions = typer.Typer(no_args_is_help=True, help="Call sessions: how the caller was verified, what may be released.")


def _route_view(route: ReleaseRoute) -> dict[str, object]:
    return {"route": route.kind.value, "to": route.target, "reason": route.reason}


def _session_view(session: CallSession, routes: list[ReleaseRoute] | None = None) -> dict[str, object]:
    view: dict[str, object] = {
        "id": str(session.id),
        "customer_id": str(session.customer_id),
        "channel": session.channel,
        "proof": session.proof,
        "agent": session.agent,
        "opened_at": iso(session.opened_at),
        "closed_at": iso(session.closed_at),
    }
    if routes is not None:
        view["routes"] = [_route_view(r) for r in routes]
    return view


def _session_id(text: str) -> uuid.UUID:
    return parse_uuid(text, "call session id")


@sessions.command("open")
def open_command(
    ctx: typer.Context,
    customer_id: str = typer.Argument(..., metavar="ID"),
    channel: str = typer.Option("inbound-call", "--channel", help="inbound-call, in-person or online."),
    verify: str | None = typer.Option(None, "--verify", help="Verify a pin or password read from standard input."),
    id_name: str | None = typer.Option(None, "--id-name", help="In person: name on the photo ID (AUTH-6)."),
    id_expires: str | None = typer.Option(None, "--id-expires", help="In person: the photo ID's expiry date."),
    via_representative: bool = typer.Option(False, "--via-representative", help="Through the dedicated rep (AUTH-9)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Open a session for a customer-initiated contact; prints the release routes open."""
    st = state(ctx)
    app = st.app()
    where = parse_enum(Channel, channel, "channel")
    credential = None
    if verify is not None:
        kind = parse_enum(CredentialKind, verify, "credential kind")
        credential = (kind, read_secret(kind.value))
    photo = _photo_id(id_name, id_expires, "drivers-licence")
    customer = parse_customer_id(customer_id)
    session, routes = open_session(
        app.uow, app.clock, st.actor(), app.auth, customer, where, credential, photo, via_representative
    )
    emit(_session_view(session, routes), as_json)


@sessions.command("routes")
def routes_command(
    ctx: typer.Context,
    session_id: str = typer.Argument(..., metavar="SESSION"),
    caller_supplied: bool = typer.Option(False, "--caller-supplied", help="The caller described one call unaided."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The routes by which call detail may be released in this session now."""
    app = state(ctx).app()
    session, routes = session_routes(app.uow(), app.clock, _session_id(session_id), caller_supplied)
    emit(_session_view(session, routes), as_json)


@sessions.command("release")
def release_command(
    ctx: typer.Context,
    session_id: str = typer.Argument(..., metavar="SESSION"),
    route: str = typer.Option(..., "--route", help="discuss, callback, send-email, send-letter or single-call."),
    to: str | None = typer.Option(None, "--to", help="Which contact of record, when several are open."),
    number: str | None = typer.Option(None, "--number", help="single-call: the other party's number the caller gave."),
    on: str | None = typer.Option(None, "--date", help="single-call: the call's date the caller gave."),
    amount: int | None = typer.Option(None, "--amount-cents", help="single-call: the charge the caller gave."),
    limit: int = typer.Option(50, "--limit", min=1, max=5000),
    bills: bool = typer.Option(False, "--bills", help="Release the bills instead of call detail (same rules)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Release call detail (or bills) through an open route (sent ones go through the outbox)."""
    st = state(ctx)
    app = st.app()
    kind = parse_enum(RouteKind, route, "release route")
    described = None
    if number is not None or on is not None:
        if number is None or on is None:
            raise InvalidInput("a single call needs both --number and --date")
        try:
            described = CallerSuppliedCall(number, date.fromisoformat(on), amount)
        except ValueError:
            raise InvalidInput(f"--date must be a date like 2026-03-01, not {on!r}") from None
    done = release_call_detail(
        app.uow, app.clock, st.actor(), app.auth, _session_id(session_id), kind, to, described, limit, bills
    )
    view = {**_route_view(done.route), "notice_id": str(done.notice_id) if done.notice_id else None}
    emit({**view, "records": [cdr_view(r) for r in done.records], "bills": [bill_view(b) for b in done.bills]}, as_json)


@sessions.command("close")
def close_command(
    ctx: typer.Context,
    session_id: str = typer.Argument(..., metavar="SESSION"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Close the session."""
    st = state(ctx)
    app = st.app()
    emit(_session_view(close_session(app.uow(), app.clock, st.actor(), _session_id(session_id))), as_json)


def exemption_command(
    ctx: typer.Context,
    customer_id: str = typer.Argument(..., metavar="ID"),
    representative: str = typer.Option(..., "--representative", help="The dedicated account representative."),
    contract_id: str = typer.Option(..., "--contract", help="The contract that addresses CPNI protection."),
    cpni_clause: bool = typer.Option(False, "--cpni-clause", help="The contract has a CPNI clause (AUTH-9)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a business customer's contractual authentication arrangement (AUTH-9, AMB-14)."""
    st = state(ctx)
    app = st.app()
    exemption = BusinessExemption(representative, contract_id, cpni_clause)
    record_exemption(app.uow(), app.clock, st.actor(), parse_customer_id(customer_id), exemption)
    emit(
        {
            "customer_id": customer_id,
            "representative": representative,
            "contract": contract_id,
            "cpni_clause": cpni_clause,
        },
        as_json,
    )


@sessions.command("approve-one-time-use")
def approve_command(
    ctx: typer.Context,
    session_id: str = typer.Argument(..., metavar="SESSION"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record the caller's oral approval to use their CPNI on this call only (USE-9, NOTICE-11)."""
    st = state(ctx)
    app = st.app()
    approve_one_time_use(app.uow(), app.clock, st.actor(), _session_id(session_id))
    emit({"session": session_id, "one_time_approval": True}, as_json)


@sessions.command("use-on-call")
def use_on_call_command(
    ctx: typer.Context,
    session_id: str = typer.Argument(..., metavar="SESSION"),
    as_json: bool = JSON_OPTION,
) -> None:
    """May the agent use the caller's CPNI to offer services on this call? Asks the gate."""
    st = state(ctx)
    app = st.app()
    decision = use_on_call(app.uow, app.clock, st.actor(), _session_id(session_id))
    emit(decision_view(decision), as_json)
