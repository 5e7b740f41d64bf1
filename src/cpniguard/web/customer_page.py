"""The customer page: the account with its services, contacts of record and their history,
consent history and state, and the notices sent with their delivery records.

Every view passes the gate first and is in the ledger (SAFE-1). An agent opens it from the call
session that authenticated the caller (customer care, AUTH-2..AUTH-4). The privacy office opens
it for a case: an investigation of fraud or abuse, a complaint or a breach (USE-8), or an order
or subpoena (USE-13), named by its reference. The case is POSTed, so it stays out of URLs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse

from cpniguard.auth.sessions import session_routes
from cpniguard.calendar import eastern_date
from cpniguard.consent.service import show_consent
from cpniguard.customers.model import ADDRESS_OF_RECORD_TENURE, Contact, ContactKind, Customer
from cpniguard.customers.service import show_customer
from cpniguard.decisions.model import Purpose, Request
from cpniguard.decisions.service import check
from cpniguard.errors import DomainError, Forbidden, InvalidInput
from cpniguard.ids import CustomerId, parse_customer_id, parse_uuid
from cpniguard.notifications.service import list_notices
from cpniguard.web.pages import Page, staff_page

router = APIRouter(include_in_schema=False)
StaffPage = Annotated[Page, Depends(staff_page)]
FormText = Annotated[str, Form()]
TEMPLATE = "calls/customer.html"
# What the privacy office may open an account for, without a call session (USE-8, USE-13).
CASE_PURPOSES = (Purpose.FRAUD_PROTECTION, Purpose.LEGAL_PROCESS)
CASE_ROLE = "privacy-officer"


@dataclass(frozen=True, slots=True)
class ContactRow:
    """A contact as its history reads: on the account since, of record since or from when."""

    contact: Contact
    of_record: bool
    of_record_from: date | None  # DEF-5: an address counts 30 days after it was added


def contact_rows(customer: Customer, now: datetime) -> list[ContactRow]:
    rows = []
    for c in sorted(customer.contacts, key=lambda c: (c.kind.value, c.added_at)):
        tenure = timedelta(0) if c.kind is ContactKind.TELEPHONE else ADDRESS_OF_RECORD_TENURE
        rows.append(ContactRow(c, c.of_record(now), eastern_date(c.added_at) + tenure))
    return rows


def _case_form(page: Page) -> bool:
    user = page.user
    return user is not None and CASE_ROLE in user.roles


@router.get("/console/customers/{customer_id}", name="customer_page")
def customer_page(customer_id: str, page: StaffPage, session: str = "") -> HTMLResponse:
    """Customer care passes the gate with the call session that authenticated the customer;
    without one the gate refuses and only its reason is shown (and, to the privacy office, the
    form that names a case)."""
    page.require("customer_page")
    try:
        customer = parse_customer_id(customer_id)
        reference = _session_reference(page, customer, session) if session else None
    except DomainError as exc:
        return page.refuse("calls/refused.html", exc)
    return _shown(page, customer, Request(Purpose.CUSTOMER_CARE, reference=reference), session)


@router.post("/console/customers/{customer_id}/case", name="customer_page")
def customer_case(
    customer_id: str, page: StaffPage, purpose: FormText = "", reference: FormText = "", csrf: FormText = ""
) -> HTMLResponse:
    """The privacy office names its case; the gate decides for that purpose and records it."""
    page.require("customer_page")
    try:
        page.check_form(csrf)
        if not _case_form(page):
            raise Forbidden(page._("Only the privacy office opens an account for a case."))
        customer = parse_customer_id(customer_id)
        chosen = next((p for p in CASE_PURPOSES if p.value == purpose), None)
        case = " ".join(reference.split())
        if chosen is None:
            raise InvalidInput(page._("Choose why the account is opened: an investigation or an order."))
        if not 3 <= len(case) <= 200:
            raise InvalidInput(page._("Name the case: its reference, 3 to 200 characters."))
    except DomainError as exc:
        return page.refuse("calls/refused.html", exc)
    return _shown(page, customer, Request(chosen, reference=f"privacy office case: {case}"), "")


def _shown(page: Page, customer: CustomerId, request: Request, session: str) -> HTMLResponse:
    app, staff = page.app, page.require("customer_page").actor()
    try:
        gate = check(app.uow(), app.clock, staff, customer, request)
        if not gate.allowed:
            return page.render(
                TEMPLATE, 403, gate=gate, customer=None, session_id=session, customer_id=str(customer),
                case_form=_case_form(page), case_purposes=CASE_PURPOSES,
            )  # fmt: skip
        found = show_customer(app.uow(), app.clock, staff, customer)
        consent = show_consent(app.uow(), app.clock, staff, customer, app.clock.now())
        notices = list_notices(app.uow(), customer)
    except DomainError as exc:
        return page.refuse("calls/refused.html", exc)
    now = app.clock.now()
    return page.render(
        TEMPLATE, gate=gate, customer=found, contacts=contact_rows(found, now), consent=consent,
        notices=notices, now=now, session_id=session,
    )  # fmt: skip


def _session_reference(page: Page, customer: CustomerId, session_id: str) -> str:
    """The open call session of this very customer, else no reference (and the gate refuses)."""
    session, _ = session_routes(page.app.uow(), page.app.clock, parse_uuid(session_id, "call session"))
    if session.customer_id != customer:
        raise Forbidden(page._("That call session is for another customer."))
    return f"call session {session.id}, customer page"
