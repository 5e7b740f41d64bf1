"""What the portal's pages share: the form token of a visitor who has not signed in yet, the
customer as the actor the ledger names, and refusals in the visitor's language."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from cpniguard.actors import Actor
from cpniguard.api.errors import status_of
from cpniguard.errors import DomainError
from cpniguard.ids import CustomerId, parse_customer_id
from cpniguard.web import i18n
from cpniguard.web.pages import Page
from cpniguard.web.security import check_csrf

# A visitor who has not signed in has no session to hold a CSRF token, so the sign-in and
# register forms use a double-submit token: a random value in a SameSite=Strict cookie, set
# with the form and compared with the form's hidden field on POST. A page on another site can
# neither read the cookie nor make the browser send it along.
FORM_COOKIE = "cpniguard_portal_form"
FORM_COOKIE_SECONDS = 3600
CODE_REFUSED = "The code is wrong or has expired. Ask for a new code and try again."


def form_token(request: Request) -> str:
    return request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(32)


def keep_form_token(response: Response, token: str) -> Response:
    response.set_cookie(
        FORM_COOKIE, token, max_age=FORM_COOKIE_SECONDS, httponly=True, secure=True, samesite="strict", path="/portal"
    )
    return response


def check_form_token(request: Request, given: str) -> None:
    check_csrf(request.cookies.get(FORM_COOKIE, ""), given)


def signed_out_form(page: Page, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A form for a visitor who has not signed in, with its double-submit token."""
    token = form_token(page.request)
    response = page.render(template, status=status, form_token=token, **values)
    keep_form_token(response, token)
    return response


def customer_of(page: Page) -> tuple[CustomerId, Actor]:
    """The signed-in customer (else a redirect to sign in) and the actor the ledger names."""
    customer = page.customer()
    return parse_customer_id(customer), Actor("customer", customer)


def reason(page: Page, error: DomainError) -> str:
    """The service's one-line reason, in German where the catalogue has it."""
    return i18n.reason(str(error), page.language)


def refuse(page: Page, template: str, error: DomainError, **values: Any) -> HTMLResponse:
    return page.render(template, status=status_of(error)[0], error=reason(page, error), **values)
