"""A customer's journey through the portal in a real browser, in German: registering with a
one-time code (read here from the outbox in the database, as the SMS would carry it), signing
in, and opting out, acknowledged at once (NOTICE-9)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.consent.service import show_consent
from cpniguard.customers.model import Customer, Language
from cpniguard.notifications.model import NoticeEvent
from cpniguard.notifications.service import list_notices
from cpniguard.privacy_office.policy_service import publish_sample_policy
from tests.browser.conftest import ADMIN
from tests.conftest import a_customer

PHONE = "+12025550123"
EMAIL = "ada@example.com"
PASSWORD = "violet kettle harbour"
TOUR = [  # the other pages, for their screenshots in German
    ("/portal/security", "Passwort, PIN und Sicherheitsantwort"),
    ("/portal/addresses", "Ihre Adressen"),
    ("/portal/write", "An die Datenschutzstelle schreiben"),
    ("/portal/privacy-policy", "Datenschutzerklärung (Beispiel)"),
]


def code_in_the_outbox(app: App, customer: Customer) -> str:
    sent = [r for r in list_notices(app.uow(), customer.id, 20) if r.notice.event is NoticeEvent.ONE_TIME_CODE]
    found = re.search(r"\b(\d{6})\b", max(sent, key=lambda r: r.notice.created_at).notice.body)
    assert found, "no one-time code in the outbox"
    return found.group(1)


def test_a_customer_registers_signs_in_and_opts_out_in_german_notice_9_auth_5(
    browser: Any, live: tuple[App, str], screenshots: Any
) -> None:
    app, base = live
    # On the account for 40 days, so the email address is one of record (DEF-5).
    ada = a_customer(app, ADMIN, language=Language.DE, at=app.clock.now() - timedelta(days=40))
    publish_sample_policy(app.uow(), app.clock, ADMIN, app.letterhead)
    context = browser.new_context(locale="de-DE")
    page = context.new_page()

    page.goto(f"{base}/portal/register")
    assert page.locator("h1").inner_text() == "Passwort festlegen"
    screenshots(page, "register")
    page.fill("input[name=contact]", PHONE)
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Code eingeben"
    screenshots(page, "code")
    page.fill("input[name=code]", code_in_the_outbox(app, ada))
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_again]", PASSWORD)
    page.click("main button[type=submit]")

    assert page.url.endswith("/portal/sign-in?registered=true")
    assert "Ihr Passwort ist festgelegt" in page.locator(".done").inner_text()
    screenshots(page, "sign-in")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")

    assert page.locator("h1").inner_text() == "Ihr Konto"
    assert "Wir haben keine Zustimmung von Ihnen" in page.content()
    screenshots(page, "home")
    page.click("text=Ihre Wahl ansehen oder ändern")
    screenshots(page, "consent")
    page.click("button:has-text('Widersprechen')")

    acknowledgement = page.locator(".done").inner_text()
    assert "Danke: Wir haben Ihren Widerspruch am" in acknowledgement
    assert "Er gilt ab sofort." in acknowledgement
    assert "Sie haben widersprochen." in page.content()
    screenshots(page, "opted-out")
    now = app.clock.now()
    assert show_consent(app.uow(), app.clock, Actor.system(), ada.id, now).state.objection_active(now)
    for path, heading in TOUR:
        page.goto(f"{base}{path}")
        assert page.locator("h1").inner_text() == heading
        screenshots(page, path.rsplit("/", 1)[-1])
    page.click("button:has-text('Abmelden')")
    assert page.url.endswith("/portal/sign-in")
    context.close()
