"""What every page shares for safety: security headers, the session cookie, CSRF tokens on
every form, and the table of which staff role may open which console page.

Cookies are Secure, HttpOnly and SameSite=Strict; a session ends after 15 idle minutes
(access/web.py). CPNI never appears in a URL: customers are named by id, searches go by POST.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cpniguard.errors import Forbidden

SESSION_COOKIE = "cpniguard_session"
PORTAL_COOKIE = "cpniguard_portal"
LANG_COOKIE = "lang"

HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    """Adds the headers to the pages (not to the API, whose clients are programs, nor to /docs,
    whose Swagger UI runs inline scripts)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_page(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def is_page(path: str) -> bool:
    return path == "/" or path.startswith(("/console", "/portal", "/static", "/sign-in", "/sign-out"))


class FormRefused(Forbidden):
    """A form without the session's CSRF token: answered with a 403 page, not the API's JSON."""


def check_csrf(expected: str, given: str | None) -> None:
    """Every form carries the session's token; a form from elsewhere does not have it."""
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise FormRefused("the form has expired or did not come from this site: reload the page and try again")


# Which roles may open each console page (the route's name). Tested route by route, role by role.
ROUTE_ROLES: dict[str, frozenset[str]] = {
    "console_home": frozenset({"agent", "marketing", "cro", "supervisor", "privacy-officer", "auditor", "admin"}),
    "call_screen": frozenset({"agent", "supervisor"}),
    "customer_page": frozenset({"agent", "supervisor", "privacy-officer"}),
    "campaign_queue": frozenset({"marketing", "cro", "supervisor"}),
    "breaches": frozenset({"privacy-officer"}),
    "audit": frozenset({"auditor", "privacy-officer", "admin"}),
    "dashboard": frozenset({"privacy-officer", "cro", "supervisor", "auditor", "admin"}),
}
