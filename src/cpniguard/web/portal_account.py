"""The customer's own choices in the portal: the CPNI approval (opt out or opt in, effective
at once: NOTICE-9's always-available, free opt-out, CONSENT-1's electronic approval) and the
email and postal addresses of the account (announced at the old contacts of record, NOTIFY-5)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse

from cpniguard.api.errors import status_of
from cpniguard.consent.acknowledged import record_acknowledged_opt_out
from cpniguard.consent.model import Channel, ConsentEventKind, ConsentState
from cpniguard.consent.service import record_event, show_consent
from cpniguard.customers.model import ContactKind
from cpniguard.customers.service import add_contact, change_contact, show_customer
from cpniguard.errors import DomainError, InvalidInput
from cpniguard.web.pages import Page, portal_page
from cpniguard.web.portal_forms import customer_of, reason

router = APIRouter(include_in_schema=False)
PortalPage = Annotated[Page, Depends(portal_page)]
Field = Annotated[str, Form()]
CHOICES = {"opt-out": ConsentEventKind.OPT_OUT, "opt-in": ConsentEventKind.OPT_IN}
ADDRESS_KINDS = {"email": ContactKind.EMAIL, "postal": ContactKind.POSTAL}


def standing(state: ConsentState, at: datetime) -> str:
    """The approval in force, as one of the sentences the pages say it in."""
    if state.objection_active(at):
        return "opted-out"
    if state.opt_in_active(at):
        return "opted-in"
    if state.opt_out_approval_presumed(at):  # AMB-3: 30 days after the notice, no objection
        return "presumed"
    return "none"


def consent_page(page: Page, status: int = 200, **values: object) -> HTMLResponse:
    customer, actor = customer_of(page)
    now = page.app.clock.now()
    view = show_consent(page.app.uow(), page.app.clock, actor, customer, now)
    return page.render("portal/consent.html", status=status, standing=standing(view.state, now), **values)


@router.get("/portal/consent", name="portal_consent")
def consent(page: PortalPage) -> HTMLResponse:
    return consent_page(page)


@router.post("/portal/consent", name="portal_consent_change")
def change_consent(page: PortalPage, choice: Field = "", csrf: Field = "") -> HTMLResponse:
    customer, actor = customer_of(page)
    page.check_form(csrf)
    if choice not in CHOICES:
        return consent_page(page, 422, error=page._("Choose to opt out or to opt in."))
    app = page.app
    if CHOICES[choice] is ConsentEventKind.OPT_OUT:  # NOTICE-9: acknowledged to the contacts of record too
        event, _ = record_acknowledged_opt_out(
            app.uow(), app.clock, actor, app.letterhead, customer, Channel.WEB, evidence="customer portal"
        )
    else:
        event, _ = record_event(
            app.uow(), app.clock, actor, customer, CHOICES[choice], Channel.WEB, evidence="customer portal"
        )
    return consent_page(page, recorded=choice, recorded_at=event.recorded_at)


def addresses_page(page: Page, status: int = 200, **values: object) -> HTMLResponse:
    customer, actor = customer_of(page)
    now = page.app.clock.now()
    found = show_customer(page.app.uow(), page.app.clock, actor, customer)
    current = {
        name: [c.value for c in found.contacts if c.kind is kind and c.on_account(now)]
        for name, kind in ADDRESS_KINDS.items()
    }
    return page.render("portal/addresses.html", status=status, current=current, **values)


@router.get("/portal/addresses", name="portal_addresses")
def addresses(page: PortalPage) -> HTMLResponse:
    return addresses_page(page)


@router.post("/portal/addresses/{kind}", name="portal_address_change")
def change_address(kind: str, page: PortalPage, value: Field = "", keep: Field = "", csrf: Field = "") -> HTMLResponse:
    """Replaces the addresses of the kind, or adds one beside them (`keep`); either way the
    notice goes to the contacts of record before the change, never the new one (NOTIFY-5)."""
    customer, actor = customer_of(page)
    page.check_form(csrf)
    app = page.app
    try:
        if kind not in ADDRESS_KINDS:
            raise InvalidInput("only the email and the postal address can be changed here")
        use = add_contact if keep else change_contact
        use(app.uow(), app.clock, actor, customer, ADDRESS_KINDS[kind], value, letterhead=app.letterhead)
    except DomainError as exc:
        return addresses_page(page, status_of(exc)[0], error=reason(page, exc))
    return addresses_page(page, done=page._("Your address is changed. We sent a notice to your contact of record."))
