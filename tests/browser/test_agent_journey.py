"""An agent verifies a caller and releases call detail, in a real browser: the caller is found
by number, a wrong PIN is refused (AUTH-1), call detail goes to the email of record (AUTH-3,
DEF-5) through the outbox, and the right PIN opens it on the call (AUTH-2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cpniguard.auth.model import CredentialKind, VerifiedBy
from cpniguard.auth.photo_id import PhotoId, PhotoIdKind
from cpniguard.auth.service import set_credential
from cpniguard.bootstrap import App
from cpniguard.calendar import eastern_date
from cpniguard.customers.model import Customer
from cpniguard.customers.records import CallDetailRecord, Direction
from cpniguard.ids import new_id
from cpniguard.notifications.service import list_notices
from tests.browser.conftest import ADMIN
from tests.browser.support import sign_in, staff
from tests.conftest import a_customer
from tests.integration.auth_support import pins_for

PHONE, EMAIL = "+12025550123", "ada@example.com"


def a_caller_with_a_pin(app: App) -> tuple[Customer, str]:
    """An account opened 400 days ago (its email long of record), a PIN set after showing a
    photo ID (AUTH-7), and two calls last week."""
    now = app.clock.now()
    customer = a_customer(app, ADMIN, at=now - timedelta(days=400))
    [pin] = pins_for(customer.id)
    photo = PhotoId(PhotoIdKind.DRIVERS_LICENCE, customer.name, eastern_date(now) + timedelta(days=365))
    set_credential(app.uow(), app.clock, ADMIN, app.auth, customer.id, CredentialKind.PIN, pin, VerifiedBy.PHOTO_ID,
                   photo_id=photo)  # fmt: skip
    calls = [
        CallDetailRecord(new_id(), customer.id, PHONE, now - timedelta(days=d), Direction.OUTBOUND, n, 120, c)
        for d, n, c in ((6, "+13125550199", 21), (7, "+14155550142", 45))
    ]
    with app.uow() as uow:
        uow.cpni.add_call_detail(calls)
        uow.commit()
    return customer, pin


def test_an_agent_verifies_a_caller_and_releases_call_detail_auth_1_auth_2_auth_3(
    browser: Any, live: tuple[App, str], screenshots: Any
) -> None:
    app, base = live
    customer, pin = a_caller_with_a_pin(app)
    staff(app, "ann", "agent")
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    sign_in(page, base, "ann")
    page.click("text=Call screen")
    assert page.locator("h1").inner_text() == "Call screen"
    screenshots(page, "call-screen")

    page.fill("input[name=query]", PHONE)
    page.click("button:has-text('Find the caller')")
    results = page.locator("table.calls-results")
    assert "Ada Lovelace" in results.inner_text()
    assert PHONE not in results.inner_text()  # masked: the last four digits only
    assert "/console/calls/search" in page.url  # the number went in the form, not the address
    screenshots(page, "search-results")

    page.click("button:has-text('Take the call')")
    assert page.locator("#proof").inner_text() == "Not verified"
    screenshots(page, "session-unverified")

    page.fill("input[name=secret]", "000000")
    page.click("button:has-text('Check')")
    assert "The PIN is not correct" in page.locator(".error").inner_text()
    screenshots(page, "wrong-pin")

    page.click(f"button:has-text('Send call detail to {EMAIL}')")
    assert f"Call detail was sent to {EMAIL}" in page.locator(".done").inner_text()
    screenshots(page, "call-detail-sent")
    [sent] = [n for n in list_notices(app.uow(), customer.id) if n.notice.event.value == "call-detail"]
    assert (sent.channel, sent.recipient, sent.status) == ("email", EMAIL, "pending")

    page.fill("input[name=secret]", pin)
    page.click("button:has-text('Check')")
    assert page.locator("#proof").inner_text() == "Verified by PIN"
    assert pin not in page.content()
    page.click("button:has-text('Show call detail to discuss on this call')")
    assert "+13125550199" in page.locator("table.calls-records").inner_text()
    screenshots(page, "verified-call-detail")

    page.click("text=Customer page")
    assert "of record" in page.locator("table.customer-contacts").inner_text()
    assert "The call records you asked for" in page.locator("table.customer-notices").inner_text()
    screenshots(page, "customer-page")
    page.click("text=Back to the call session")

    page.click("button:has-text('End the call and close the session')")
    assert "The call session is closed." in page.locator(".done").inner_text()
    context.close()
