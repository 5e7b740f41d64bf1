"""The customer portal at /portal: the home page with the customer's CPNI choice and any
material change of the privacy policy, the policy itself, and writing to the privacy office.
Signing in and registering (portal_access), the CPNI choice and the addresses (portal_account)
and the secrets (portal_security) live beside it; their routes are included here."""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse
from markdown_it import MarkdownIt
from markupsafe import Markup

from cpniguard.consent.service import show_consent
from cpniguard.errors import DomainError, InvalidInput, NotFound
from cpniguard.ids import parse_customer_id
from cpniguard.privacy_office.policy_service import policy_in_force, policy_notice
from cpniguard.privacy_office.service import NewComplaint, record_complaint
from cpniguard.web import portal_access, portal_account, portal_security
from cpniguard.web.pages import Page, portal_page
from cpniguard.web.portal_account import standing
from cpniguard.web.portal_forms import customer_of, refuse

router = APIRouter(include_in_schema=False)
PortalPage = Annotated[Page, Depends(portal_page)]
Field = Annotated[str, Form()]

# What a customer may write about, in their words, and the CERT-3 category each is counted in.
TOPICS = {
    "staff-looked": "employee-access",
    "given-to-someone": "unauthorized-disclosure",
    "online-account": "online-access",
    "something-else": "other",
}


@router.get("/portal", name="portal_home")
def home(page: PortalPage) -> HTMLResponse:
    customer, actor = customer_of(page)
    now = page.app.clock.now()
    view = show_consent(page.app.uow(), page.app.clock, actor, customer, now)
    notice = policy_notice(page.app.uow(), page.language, now)
    return page.render("portal/home.html", standing=standing(view.state, now), notice=notice)


@router.get("/portal/privacy-policy", name="portal_privacy_policy")
def privacy_policy(page: PortalPage) -> HTMLResponse:
    """The version in force in the page's language, else in the signed-in customer's own
    language (open to everyone, signed in or not)."""
    version = None
    for language in dict.fromkeys([page.language, *customer_language(page)]):
        with suppress(NotFound):
            version = policy_in_force(page.app.uow(), language, page.app.clock.now())
            break
    if version is None:
        return page.render("portal/policy.html", status=404, version=None)
    text = Markup(MarkdownIt("commonmark", {"html": False}).render(version.text))  # noqa: S704 - raw HTML is off
    return page.render("portal/policy.html", version=version, text=text)


def customer_language(page: Page) -> list[str]:
    """The language of record of the signed-in customer (none for a visitor); a read only."""
    if page.session is None:
        return []
    with page.app.uow() as uow:
        found = uow.customers.get(parse_customer_id(page.session.subject))
    return [found.language.value] if found else []


@router.get("/portal/write", name="portal_write")
def write(page: PortalPage) -> HTMLResponse:
    customer_of(page)
    return page.render("portal/write.html")


@router.post("/portal/write", name="portal_write_send")
def send(page: PortalPage, topic: Field = "", message: Field = "", csrf: Field = "") -> HTMLResponse:
    """Recorded as a complaint received on the web (CERT-3), in the category of the topic."""
    customer, actor = customer_of(page)
    page.check_form(csrf)
    try:
        if topic not in TOPICS:
            raise InvalidInput("choose what your message is about")
        new = NewComplaint(TOPICS[topic], "web", message, customer)
        complaint = record_complaint(page.app.uow(), page.app.clock, actor, new)
    except DomainError as exc:
        return refuse(page, "portal/write.html", exc, topic=topic, message=message)
    return page.render("portal/write.html", sent=complaint)


for part in (portal_access, portal_account, portal_security):
    router.include_router(part.router)
