"""The staff console: sign-in, the language switch, and the home page with what the user's
roles open. The pages of each task live beside it (call screen, campaigns, breaches, audit)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cpniguard.access.web import IDLE, sign_out, staff_sign_in
from cpniguard.errors import DomainError
from cpniguard.web.i18n import LANGUAGES
from cpniguard.web.pages import Page, staff_page
from cpniguard.web.security import LANG_COOKIE, ROUTE_ROLES, SESSION_COOKIE

router = APIRouter(include_in_schema=False)
StaffPage = Annotated[Page, Depends(staff_page)]

TASKS = (  # (route name, path, label) in the order of the home page
    ("call_screen", "/console/calls", "Call screen"),
    ("campaign_queue", "/console/campaigns", "Campaigns"),
    ("breaches", "/console/breaches", "Breaches"),
    ("audit", "/console/audit", "Audit ledger"),
    ("dashboard", "/console/dashboard", "Dashboard"),
)


def session_cookie(response: Response, name: str, token: str) -> None:
    response.set_cookie(
        name, token, max_age=int(IDLE.total_seconds()) * 40, httponly=True, secure=True, samesite="strict", path="/"
    )


@router.get("/", name="console_home")
def home(page: StaffPage) -> HTMLResponse:
    user = page.require("console_home")
    tasks = [(path, label) for name, path, label in TASKS if user.roles & ROUTE_ROLES[name]]
    return page.render("console/home.html", tasks=tasks)


@router.get("/sign-in")
def sign_in_form(page: StaffPage) -> HTMLResponse:
    return page.render("sign_in.html", action="/sign-in")


@router.post("/sign-in", response_model=None)
def sign_in(
    request: Request, page: StaffPage, name: Annotated[str, Form()], password: Annotated[str, Form()]
) -> Response:
    address = request.client.host if request.client else "unknown"
    try:
        token, _, _ = staff_sign_in(page.app.uow, page.app.clock, page.app.auth.hasher, name, password, address)
    except DomainError as exc:
        return page.refuse("sign_in.html", exc, action="/sign-in", name=name)
    response = RedirectResponse("/", status_code=303)
    session_cookie(response, SESSION_COOKIE, token)
    return response


@router.post("/sign-out")
def sign_out_route(page: StaffPage, csrf: Annotated[str, Form()] = "") -> RedirectResponse:
    if page.session is not None:
        page.check_form(csrf)
        sign_out(page.app.uow(), page.app.clock, page.request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/language/{code}")
def language(code: str, page: StaffPage, next: str = "/") -> RedirectResponse:
    """The switch on every page: remembers the choice, then goes back (to this site only)."""
    target = next if next.startswith("/") and not next.startswith("//") and not urlparse(next).netloc else "/"
    response = RedirectResponse(target, status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, httponly=True, secure=True, samesite="lax")
    return response
