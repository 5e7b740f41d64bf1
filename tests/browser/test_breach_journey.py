"""A privacy officer records a breach in a real browser and sees its deadlines: the legal date
seven business days after the determination, the day itself not counted (BREACH-1, AMB-2),
and the internal target before it; then records the affected count and, once the carrier's
contact is set, the agency notice's submission on the incident page (BREACH23-4, BREACH23-3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from cpniguard.bootstrap import App
from cpniguard.calendar import add_business_days, eastern_date, is_business_day
from cpniguard.web.i18n import when
from tests.browser.support import sign_in, staff


def test_breach_1_a_privacy_officer_records_a_breach_and_sees_its_deadlines(
    browser: Any, live: tuple[App, str], screenshots: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, base = live
    staff(app, "pat", "privacy-officer")
    determined = eastern_date(app.clock.now()) - timedelta(days=3)
    while not is_business_day(determined):
        determined -= timedelta(days=1)
    discovered = determined - timedelta(days=1)
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    sign_in(page, base, "pat")
    page.click("text=Breaches")
    assert page.locator("h1").inner_text() == "Breach incidents"
    screenshots(page, "breaches-empty")
    page.fill("input[name=title]", "Call records disclosed to a pretexter")
    page.fill("input[name=discovered_at]", f"{discovered.isoformat()}T09:00")
    page.select_option("select[name=intent]", "intentional")
    page.check("input[name=data_types][value=call-detail]")
    page.fill("textarea[name=circumstances]", "A caller posing as the customer obtained call records")
    page.fill("textarea[name=cpni_description]", "Call detail records of one month")
    page.fill("input[name=method_of_compromise]", "pretexting by telephone")
    page.fill("input[name=incident_start]", discovered.isoformat())
    page.fill("input[name=incident_end]", discovered.isoformat())
    page.fill("input[name=financial_loss]", "unknown")
    page.fill("input[name=determined_at]", f"{determined.isoformat()}T10:00")
    page.fill("textarea[name=determination_reason]", "The call recording confirms the disclosure")
    screenshots(page, "breach-form")
    page.click("button:has-text('Record the incident')")
    legal = add_business_days(determined, 7)
    target = add_business_days(determined, 6)
    row = page.locator("table.deadlines tr.agency-notice")
    assert row.locator("td.legal").inner_text() == when(legal, "en")
    assert row.locator("td.target").inner_text() == when(target, "en")
    assert "FCC, USSS, FBI" in row.inner_text()
    assert page.locator(".missing").inner_text().endswith(": carrier_contact")  # BREACH23-4: still to fill in
    screenshots(page, "incident")
    page.click("text=Back to the incidents")
    assert page.locator("table.incidents td.legal").inner_text() == when(legal, "en")
    screenshots(page, "breaches-listed")
    page.click("text=Dashboard")
    assert when(legal, "en") in page.locator("table.upcoming").inner_text()
    screenshots(page, "dashboard")
    page.click("text=Breaches")
    page.click("text=Call records disclosed to a pretexter")
    incident = page.url
    page.fill("#affected-form input[name=count]", "1")
    page.fill("#affected-form textarea[name=basis]", "The call recording names one account")
    page.click("#affected-form button[type=submit]")
    assert page.url == incident
    assert page.locator("dd.affected-count").inner_text().startswith("1 (0 listed): The call recording")
    screenshots(page, "affected-recorded")
    # The carrier sets its name and address (CPNIGUARD_CARRIER_NAME, _ADDRESS); the server reads
    # them per request through App.carrier_contact.
    carrier = replace(app.settings, carrier_name="Acme Telephone", carrier_address="1 Main St, Springfield, IL")
    monkeypatch.setattr(app, "settings", carrier)
    page.reload()
    assert page.locator(".missing").count() == 0
    page.fill("#agency-notice-form input[name=submitted_at]", f"{determined.isoformat()}T15:00")
    page.fill("#agency-notice-form input[name=reference]", "CRF-2041")
    screenshots(page, "agency-notice-form")
    page.click("#agency-notice-form button[type=submit]")
    assert page.url == incident
    assert page.locator("#agency-notice-form").count() == 0
    assert page.locator("table.deadlines tr.agency-notice").inner_text().count("sent") == 1
    screenshots(page, "agency-notice-recorded")
    page.click("text=Dashboard")
    assert "Agency notice" not in page.locator("table.upcoming").inner_text()  # nothing owed to the agencies
    context.close()
