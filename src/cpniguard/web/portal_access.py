"""Getting into the portal: registering the online account with a one-time code sent to a
contact of record (AUTH-5, AUTH-7; for a forgotten password the same way, AMB-5), signing in
with the email address of record and the password, signing out.

Nothing a visitor sees tells whether an email address or telephone number belongs to a
customer: the answer to a contact, to a wrong code and to a failed sign-in is the same for a
known and an unknown one (no account enumeration).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cpniguard.access.web import customer_sign_in, sign_out
from cpniguard.actors import Actor
from cpniguard.auth.codes import CodePurpose
from cpniguard.auth.credentials import normalise_secret
from cpniguard.auth.model import CredentialKind, VerifiedBy
from cpniguard.auth.service import confirm_code, send_code, set_credential
from cpniguard.bootstrap import App
from cpniguard.customers.model import ContactKind, normalise_email, normalise_telephone_number
from cpniguard.customers.service import customer_by_contact_of_record
from cpniguard.errors import DomainError, InvalidInput
from cpniguard.ids import CustomerId
from cpniguard.web.console import session_cookie
from cpniguard.web.pages import Page, portal_page
from cpniguard.web.portal_forms import CODE_REFUSED, check_form_token, reason, signed_out_form
from cpniguard.web.security import PORTAL_COOKIE

router = APIRouter(include_in_schema=False)
PortalPage = Annotated[Page, Depends(portal_page)]
Field = Annotated[str, Form()]

SIGN_IN_REFUSED = "The email address or password is wrong, or signing in is paused after several failures."


@router.get("/portal/sign-in", name="portal_sign_in_form")
def sign_in_form(page: PortalPage, registered: bool = False) -> HTMLResponse:
    done = page._("Your password is set. Sign in with your email address of record.") if registered else None
    return signed_out_form(page, "portal/sign_in.html", done=done)


@router.post("/portal/sign-in", name="portal_sign_in", response_model=None)
def sign_in(request: Request, page: PortalPage, email: Field = "", password: Field = "", csrf: Field = "") -> Response:
    check_form_token(request, csrf)
    address = request.client.host if request.client else "unknown"
    try:
        token, _ = customer_sign_in(page.app.uow, page.app.clock, page.app.auth, email, password, address)
    except DomainError:  # the same words for an unknown email, a wrong password and a pause
        return signed_out_form(page, "portal/sign_in.html", 401, error=page._(SIGN_IN_REFUSED), email=email)
    response = RedirectResponse("/portal", status_code=303)
    session_cookie(response, PORTAL_COOKIE, token)
    return response


@router.post("/portal/sign-out", name="portal_sign_out")
def sign_out_route(page: PortalPage, csrf: Field = "") -> RedirectResponse:
    if page.session is not None:
        page.check_form(csrf)
        sign_out(page.app.uow(), page.app.clock, page.request.cookies.get(PORTAL_COOKIE))
    response = RedirectResponse("/portal/sign-in", status_code=303)
    response.delete_cookie(PORTAL_COOKIE, path="/")
    return response


@router.get("/portal/register", name="portal_register_form")
def register_form(page: PortalPage) -> HTMLResponse:
    return signed_out_form(page, "portal/register.html")


@router.post("/portal/register", name="portal_register")
def register(request: Request, page: PortalPage, contact: Field = "", csrf: Field = "") -> HTMLResponse:
    """Step 1: a code to a contact of record of the account the contact belongs to, if any."""
    check_form_token(request, csrf)
    try:
        given = contact_of_record_form(contact)
    except InvalidInput as exc:
        return signed_out_form(page, "portal/register.html", 422, error=reason(page, exc), contact=contact)
    customer = customer_by_contact(page.app, given)
    if customer is not None:
        actor = Actor("customer", str(customer))
        with suppress(DomainError):  # too many codes this hour: answered like any other contact
            send_code(page.app.uow(), page.app.clock, actor, page.app.auth, customer, CodePurpose.REGISTER_ONLINE)
    return signed_out_form(page, "portal/register_code.html", contact=given[1])


@router.post("/portal/register/confirm", name="portal_register_confirm", response_model=None)
def register_confirm(
    request: Request,
    page: PortalPage,
    contact: Field = "",
    code: Field = "",
    password: Field = "",
    password_again: Field = "",
    csrf: Field = "",
) -> Response:
    """Step 2: the code read back and the password chosen (AUTH-7: verified by one-time code)."""
    check_form_token(request, csrf)
    template = "portal/register_code.html"
    try:
        same_password(password, password_again)
        normalise_secret(CredentialKind.PASSWORD, password)
        customer = customer_by_contact(page.app, contact_of_record_form(contact))
    except InvalidInput as exc:  # checked before the code, so the code is not spent on it
        return signed_out_form(page, template, 422, error=reason(page, exc), contact=contact)
    actor = Actor("customer", str(customer))
    if customer is None or not confirm_code(page.app.uow(), page.app.clock, actor, customer, code):
        return signed_out_form(page, template, 401, error=page._(CODE_REFUSED), contact=contact)
    try:
        set_credential(
            page.app.uow(),
            page.app.clock,
            actor,
            page.app.auth,
            customer,
            CredentialKind.PASSWORD,
            password,
            VerifiedBy.ONE_TIME_CODE,
        )
    except DomainError as exc:  # e.g. a password built from account information (AUTH-7)
        again = page._("Choose another password and ask for a new code.")
        return signed_out_form(page, template, 422, error=f"{reason(page, exc)} {again}", contact=contact)
    return RedirectResponse("/portal/sign-in?registered=true", status_code=303)


def same_password(password: str, again: str) -> None:
    if password != again:
        raise InvalidInput("the two passwords differ")


def contact_of_record_form(text: str) -> tuple[ContactKind, str]:
    """An email address or an E.164 telephone number, normalised; anything else is refused."""
    text = text.strip()
    if not text:
        raise InvalidInput("give the email address or telephone number of your account")
    if "@" in text:
        return ContactKind.EMAIL, normalise_email(text)
    return ContactKind.TELEPHONE, normalise_telephone_number(text)


def customer_by_contact(app: App, given: tuple[ContactKind, str]) -> CustomerId | None:
    """The one customer whose contact of record this is now, or None (a read only)."""
    return customer_by_contact_of_record(app.uow(), app.clock, *given)
