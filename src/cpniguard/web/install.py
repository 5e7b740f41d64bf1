"""Puts the console and the portal on the API's FastAPI app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from cpniguard.web import calls, console, customer_page, office, portal
from cpniguard.web.pages import PageRedirect, portal_page, redirect_handler, staff_page
from cpniguard.web.security import FormRefused, SecurityHeaders

STATIC = Path(__file__).parent / "static"


async def forbidden_handler(request: Request, exc: Exception) -> HTMLResponse:
    """A signed-in user without a role the page needs (ROUTE_ROLES): 403, no data shown."""
    page = staff_page(request)
    return page.render("forbidden.html", status=403)


async def form_refused_handler(request: Request, exc: Exception) -> HTMLResponse:
    """A form without its CSRF token (security.check_csrf): a 403 page in the visitor's language."""
    page = portal_page(request) if request.url.path.startswith("/portal") else staff_page(request)
    return page.render("error.html", status=403, error=page._(str(exc)))


def install(api: FastAPI) -> None:
    api.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (console, calls, customer_page, office, portal):
        api.include_router(module.router)
    api.add_exception_handler(PageRedirect, redirect_handler)
    api.add_exception_handler(PermissionError, forbidden_handler)
    api.add_exception_handler(FormRefused, form_refused_handler)
    api.add_middleware(SecurityHeaders)
