"""Changing the password, the PIN and the backup answer in the portal.

A signed-in customer proves it is them again with a one-time code sent to a contact of record
(AUTH-7; the password alone is not a way to set a new secret), and every change is announced
at the contacts of record (NOTIFY-1). The new secret is checked in full before the code is
read, so a refused secret does not spend the code and writes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse

from cpniguard.auth.codes import CodePurpose
from cpniguard.auth.model import CredentialKind, VerifiedBy
from cpniguard.auth.service import check_new_secret, confirm_code, send_code, set_credential
from cpniguard.bootstrap import App
from cpniguard.errors import DomainError, InvalidInput, Unauthorized
from cpniguard.ids import CustomerId
from cpniguard.web.pages import Page, portal_page
from cpniguard.web.portal_forms import CODE_REFUSED, customer_of, refuse

router = APIRouter(include_in_schema=False)
PortalPage = Annotated[Page, Depends(portal_page)]
Field = Annotated[str, Form()]
TEMPLATE = "portal/security.html"
DONE = {
    CredentialKind.PASSWORD: "Your password is changed. We sent a notice to your contact of record.",
    CredentialKind.PIN: "Your PIN is changed. We sent a notice to your contact of record.",
    CredentialKind.BACKUP_ANSWER: "Your backup question and answer are changed. "
    "We sent a notice to your contact of record.",
}
SENT = {
    "sms": "We sent a code by text message to the telephone number of your account.",
    "email": "We sent a code to your email address of record.",
    "letter": "We are sending a code by letter to your postal address of record.",
}


@router.get("/portal/security", name="portal_security")
def security(page: PortalPage) -> HTMLResponse:
    customer_of(page)
    return page.render(TEMPLATE)


@router.post("/portal/security/code", name="portal_security_code")
def security_code(page: PortalPage, csrf: Field = "") -> HTMLResponse:
    customer, actor = customer_of(page)
    page.check_form(csrf)
    try:
        sent = send_code(page.app.uow(), page.app.clock, actor, page.app.auth, customer, CodePurpose.SET_CREDENTIAL)
    except DomainError as exc:  # e.g. three codes already this hour
        return refuse(page, TEMPLATE, exc)
    return page.render(TEMPLATE, done=page._(SENT[sent.channel]))


@router.post("/portal/security/{kind}", name="portal_security_change")
def change_secret(
    kind: str,
    page: PortalPage,
    code: Field = "",
    secret: Field = "",
    secret_again: Field = "",
    question: Field = "",
    csrf: Field = "",
) -> HTMLResponse:
    customer, actor = customer_of(page)
    page.check_form(csrf)
    app = page.app
    try:
        chosen = credential_kind(kind)
        if secret != secret_again:
            raise InvalidInput("the two entries differ")
        asked = check_secret(app, customer, chosen, secret, question)
        if not confirm_code(app.uow(), app.clock, actor, customer, code):
            raise Unauthorized(CODE_REFUSED)
        set_credential(app.uow(), app.clock, actor, app.auth, customer, chosen, secret, VerifiedBy.ONE_TIME_CODE, asked)
    except DomainError as exc:
        return refuse(page, TEMPLATE, exc, question=question)
    return page.render(TEMPLATE, done=page._(DONE[chosen]))


def credential_kind(text: str) -> CredentialKind:
    try:
        return CredentialKind(text)
    except ValueError:
        raise InvalidInput("only the password, the PIN and the backup answer can be changed here") from None


def check_secret(app: App, customer: CustomerId, kind: CredentialKind, secret: str, question: str) -> str | None:
    """The checks `set_credential` makes (AUTH-7, AUTH-8), made first; the question, if any."""
    return check_new_secret(app.uow(), app.clock, customer, kind, secret, question)
