"""Rendering a page: the Jinja2 environment with Babel's gettext, the visitor's language, the
signed-in user or customer, and the permission check of ROUTE_ROLES."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cpniguard.access.model import User
from cpniguard.access.web import WebSession, session_for
from cpniguard.api.deps import app_of
from cpniguard.api.errors import status_of
from cpniguard.bootstrap import App
from cpniguard.errors import DomainError
from cpniguard.web import i18n
from cpniguard.web.security import LANG_COOKIE, PORTAL_COOKIE, ROUTE_ROLES, SESSION_COOKIE, check_csrf

TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def environment(language: str) -> Environment:
    """One environment per language, its translations installed once. A shared one whose
    translations were swapped per render mixed languages: Jinja caches a template imported with
    `{% from ... import %}` together with the gettext of its first render, so the macros kept
    the first visitor's language for the process's life (and threads rendering at once raced)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = i18n.when
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    return env


class PageRedirect(Exception):
    """Sends the visitor elsewhere (to sign in); answered by `redirect_handler`."""

    def __init__(self, to: str) -> None:
        self.to = to


async def redirect_handler(request: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, PageRedirect)
    return RedirectResponse(exc.to, status_code=303)


@dataclass
class Page:
    """What a route knows about the visitor."""

    request: Request
    app: App
    language: str
    session: WebSession | None = None
    user: User | None = None
    notices: list[str] = field(default_factory=list)

    def _(self, text: str) -> str:
        return i18n.translations(self.language).gettext(text)

    def require(self, route: str) -> User:
        """ROUTE_ROLES: sign in first; then a role that opens the page, else 403."""
        if self.user is None:
            raise PageRedirect("/sign-in")
        if not self.user.roles & ROUTE_ROLES[route]:
            raise PermissionError(route)
        return self.user

    def customer(self) -> str:
        if self.session is None or self.session.kind != "customer":
            raise PageRedirect("/portal/sign-in")
        return self.session.subject

    def check_form(self, token: str | None) -> None:
        check_csrf(self.session.csrf if self.session else "", token)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = (
            environment(self.language)
            .get_template(template)
            .render(
                page=self,
                lang=self.language,
                user=self.user,
                csrf=self.session.csrf if self.session else "",
                path=self.request.url.path,
                **values,
            )
        )
        return HTMLResponse(html, status_code=status)

    def refuse(self, template: str, error: DomainError, **values: Any) -> HTMLResponse:
        """The form again, with the reason in the visitor's words where we have them (4xx)."""
        return self.render(template, status=status_of(error)[0], error=i18n.reason(str(error), self.language), **values)


def staff_page(request: Request) -> Page:
    return _page(request, SESSION_COOKIE, "staff")


def portal_page(request: Request) -> Page:
    return _page(request, PORTAL_COOKIE, "customer")


def _page(request: Request, cookie: str, kind: str) -> Page:
    app = app_of(request)
    language = i18n.choose(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    session = session_for(app.uow(), app.clock, request.cookies.get(cookie))
    if session is not None and session.kind != kind:
        session = None
    user = None
    if session is not None and kind == "staff":
        with app.uow() as uow:
            user = uow.users.by_name(session.subject)
    return Page(request, app, language, session, user)
