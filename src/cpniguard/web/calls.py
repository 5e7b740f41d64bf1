"""The call screen and the customer page: an agent finds the caller, opens a call session,
verifies the caller, sees what the gate allows and which release routes are open, and releases
call detail only through one of them (AUTH-1..AUTH-4, USE-9, DEF-5, DEF-6).

Every read of CPNI goes through a service function that passes the gate or writes the ledger.
Searches are POSTed and customers and sessions are named by id, so no CPNI reaches a URL.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cpniguard.actors import Actor
from cpniguard.api.errors import status_of
from cpniguard.auth.model import CredentialKind
from cpniguard.auth.release import Channel, RouteKind, SessionProof
from cpniguard.auth.service import Verification
from cpniguard.auth.sessions import (
    CallerSuppliedCall,
    approve_one_time_use,
    close_session,
    open_session,
    release_call_detail,
    session_routes,
    use_on_call,
    verify_in_session,
)
from cpniguard.customers.model import parse_enum
from cpniguard.customers.service import find_customers, show_customer
from cpniguard.decisions.model import Purpose, Request
from cpniguard.decisions.service import check
from cpniguard.errors import DomainError, Forbidden, InvalidInput
from cpniguard.ids import parse_customer_id, parse_uuid
from cpniguard.web import i18n
from cpniguard.web.pages import Page, staff_page

# Every route of the call screen carries the name of its row in ROUTE_ROLES, `call_screen`, so
# the permission table covers its forms too (tests/e2e/test_web_permissions.py).
router = APIRouter(include_in_schema=False)
StaffPage = Annotated[Page, Depends(staff_page)]
FormText = Annotated[str, Form()]  # every field optional to FastAPI, so a bad form gets a page, not JSON
VERIFIABLE = (CredentialKind.PIN, CredentialKind.PASSWORD)  # AUTH-2: what the caller may say


def masked(number: str) -> str:
    """Enough of a number for the caller to confirm it, not enough to learn it."""
    return "•" * max(len(number) - 4, 0) + number[-4:]


def _acting(page: Page, route: str) -> Actor:
    """ROUTE_ROLES: signed out goes to sign in, a role that does not open the page gets 403."""
    return page.require(route).actor()


def _bad_form(page: Page, csrf: str) -> HTMLResponse | None:
    """Every form carries the session's CSRF token; one without it is refused (403)."""
    try:
        page.check_form(csrf)
    except Forbidden as exc:
        return _refused(page, exc)
    return None


def _refused(page: Page, error: DomainError) -> HTMLResponse:
    return page.refuse("calls/refused.html", error)


@router.get("/console/calls", name="call_screen")
def call_screen(page: StaffPage) -> HTMLResponse:
    _acting(page, "call_screen")
    return page.render("calls/screen.html")


@router.post("/console/calls/search", name="call_screen")
def search(page: StaffPage, query: FormText = "", csrf: FormText = "") -> HTMLResponse:
    """By telephone number or name; the results show names and masked numbers only."""
    actor = _acting(page, "call_screen")
    if (bad := _bad_form(page, csrf)) is not None:
        return bad
    try:
        text = query.strip()
        if len(text) < 2 or len(text) > 200:
            raise InvalidInput(page._("Enter 2 to 200 characters of a name or a telephone number."))
        found = find_customers(page.app.uow(), page.app.clock, actor, text)
    except DomainError as exc:
        return page.refuse("calls/screen.html", exc, query=query)
    now = page.app.clock.now()
    rows = [(c, [masked(n) for n in c.telephone_numbers_of_record(now)]) for c in found]
    return page.render("calls/screen.html", query=text, results=rows, searched=True)


@router.post("/console/calls/open", name="call_screen", response_model=None)
def open_call(page: StaffPage, customer_id: FormText = "", csrf: FormText = "") -> Response:
    """Choosing the caller opens a call session, unverified until the caller gives a secret."""
    actor = _acting(page, "call_screen")
    if (bad := _bad_form(page, csrf)) is not None:
        return bad
    app = page.app
    try:
        customer = parse_customer_id(customer_id)
        session, _ = open_session(app.uow, app.clock, actor, app.auth, customer, Channel.INBOUND_CALL)
    except DomainError as exc:
        return _refused(page, exc)
    return RedirectResponse(f"/console/calls/{session.id}", status_code=303)


@router.get("/console/calls/{session_id}", name="call_screen")
def session_page(session_id: str, page: StaffPage) -> HTMLResponse:
    actor = _acting(page, "call_screen")
    return _session_page(page, actor, session_id)


def _session_page(page: Page, actor: Actor, session_id: str, status: int = 200, **values: Any) -> HTMLResponse:
    """The session as the agent works it: the proof, the gate's answer, the open routes."""
    app = page.app
    try:
        session, routes = session_routes(app.uow(), app.clock, parse_uuid(session_id, "call session"))
        customer = show_customer(app.uow(), app.clock, actor, session.customer_id)
        request = Request(Purpose.CUSTOMER_CARE, reference=f"call session {session.id}")
        gate = check(app.uow(), app.clock, actor, session.customer_id, request)
    except DomainError as exc:
        return _refused(page, exc)
    discuss = any(r.kind is RouteKind.DISCUSS for r in routes)
    values.setdefault("records", None)
    return page.render(
        "calls/session.html", status, session=session, customer=customer, routes=routes, gate=gate,
        discuss=discuss, verified=session.proof != SessionProof.NONE.value, **values,
    )  # fmt: skip


@router.post("/console/calls/{session_id}/verify", name="call_screen", response_model=None)
def verify(
    session_id: str, page: StaffPage, kind: FormText = "pin", secret: FormText = "", csrf: FormText = ""
) -> Response:
    """AUTH-1, AUTH-2: the secret the caller gave, checked within the session (it counts towards
    the lockout); a wrong one, or a locked channel, leaves the caller unverified and says so."""
    actor = _acting(page, "call_screen")
    if (bad := _bad_form(page, csrf)) is not None:
        return bad
    app = page.app
    try:
        chosen = parse_enum(CredentialKind, kind, "credential kind")
        if chosen not in VERIFIABLE or not secret:
            raise InvalidInput(page._("Enter the PIN or the password the caller gave."))
        sid = parse_uuid(session_id, "call session")
        verification, _ = verify_in_session(app.uow, app.clock, actor, app.auth, sid, chosen, secret[:200])
    except DomainError as exc:
        return _session_page(page, actor, session_id, status_of(exc)[0], error=i18n.reason(str(exc), page.language))
    if not verification.verified:
        return _session_page(page, actor, session_id, 403, error=_not_verified(page, verification, chosen))
    return RedirectResponse(f"/console/calls/{sid}", status_code=303)


def _not_verified(page: Page, verification: Verification, kind: CredentialKind) -> str:
    """Staff are told of a lock (AUTH-1) so they stop asking; the caller is never told why."""
    if verification.locked and verification.locked_until is not None:
        text = page._("Locked after repeated failed attempts until %(until)s: do not discuss call detail.")
        return text % {"until": i18n.when(verification.locked_until, page.language)}
    if kind is CredentialKind.PIN:
        return page._("The PIN is not correct. The caller is not verified.")
    return page._("The password is not correct. The caller is not verified.")


@router.post("/console/calls/{session_id}/release", name="call_screen")
def release(
    session_id: str,
    page: StaffPage,
    route: FormText = "",
    to: FormText = "",
    number: FormText = "",
    on: FormText = "",
    amount_cents: FormText = "",
    csrf: FormText = "",
) -> HTMLResponse:
    """AUTH-2..AUTH-4: through an open route only; sent call detail goes out through the outbox."""
    actor = _acting(page, "call_screen")
    if (bad := _bad_form(page, csrf)) is not None:
        return bad
    app = page.app
    try:
        kind = parse_enum(RouteKind, route, "release route")
        described = _described(page, number, on, amount_cents) if kind is RouteKind.SINGLE_CALL else None
        sid = parse_uuid(session_id, "call session")
        done = release_call_detail(app.uow, app.clock, actor, app.auth, sid, kind, to or None, described)
    except DomainError as exc:
        return _session_page(page, actor, session_id, status_of(exc)[0], error=i18n.reason(str(exc), page.language))
    if done.notice_id is not None:
        sent = page._("Call detail was sent to %(to)s. It goes out with the next delivery run.")
        return _session_page(page, actor, session_id, done=sent % {"to": done.route.target})
    return _session_page(page, actor, session_id, records=done.records, released=done.route)


def _described(page: Page, number: str, on: str, amount_cents: str) -> CallerSuppliedCall:
    """AUTH-4: what the caller said unaided about one call."""
    try:
        day = date.fromisoformat(on.strip())
        cents = int(amount_cents) if amount_cents.strip() else None
    except ValueError:
        raise InvalidInput(page._("Give the date as 2026-03-01 and the amount in cents.")) from None
    if not number.strip():
        raise InvalidInput(page._("Give the other party's number the caller said."))
    return CallerSuppliedCall(number.strip()[:30], day, cents)


@router.post("/console/calls/{session_id}/one-time-approval", name="call_screen")
def one_time_approval(session_id: str, page: StaffPage, csrf: FormText = "") -> HTMLResponse:
    """USE-9: the caller agreed, after the oral notice, to the use of their CPNI on this call."""
    actor = _acting(page, "call_screen")
    if (bad := _bad_form(page, csrf)) is not None:
        return bad
    try:
        approve_one_time_use(page.app.uow(), page.app.clock, actor, parse_uuid(session_id, "call session"))
    except DomainError as exc:
        return _session_page(page, actor, session_id, status_of(exc)[0], error=i18n.reason(str(exc), page.language))
    done = page._("One-time approval recorded: it holds for this call only and ends when the session closes.")
    return _session_page(page, actor, session_id, done=done)


@router.post("/console/calls/{session_id}/use-on-call", name="call_screen")
def may_offer(session_id: str, page: StaffPage, csrf: FormText = "") -> HTMLResponse:
    """USE-9: may the agent use the caller's CPNI to offer services on this call? The gate says."""
    actor = _acting(page, "call_screen")
    if (bad := _bad_form(page, csrf)) is not None:
        return bad
    try:
        decision = use_on_call(page.app.uow, page.app.clock, actor, parse_uuid(session_id, "call session"))
    except DomainError as exc:
        return _session_page(page, actor, session_id, status_of(exc)[0], error=i18n.reason(str(exc), page.language))
    return _session_page(page, actor, session_id, on_call=decision)


@router.post("/console/calls/{session_id}/close", name="call_screen")
def close(session_id: str, page: StaffPage, csrf: FormText = "") -> HTMLResponse:
    """The session ends, and a one-time approval given in it with it (USE-9)."""
    actor = _acting(page, "call_screen")
    if (bad := _bad_form(page, csrf)) is not None:
        return bad
    try:
        close_session(page.app.uow(), page.app.clock, actor, parse_uuid(session_id, "call session"))
    except DomainError as exc:
        return _refused(page, exc)
    return page.render("calls/screen.html", done=page._("The call session is closed."))
