"""The CRO approves a campaign in a real browser (SAFE-4, CONSENT-4): the review queue, the
campaign with its audience counted by exclusion reason, the approval with a reason."""

from __future__ import annotations

from typing import Any

from cpniguard.bootstrap import App
from cpniguard.campaigns.model import Recipient
from cpniguard.campaigns.service import CampaignSpec, create_campaign, submit_campaign
from cpniguard.consent.model import Channel, ConsentEventKind
from cpniguard.consent.service import record_event
from cpniguard.decisions.model import Purpose
from tests.browser.conftest import ADMIN
from tests.browser.support import sign_in, staff
from tests.conftest import a_customer


def _submitted(app: App) -> None:
    staff(app, "mia", "marketing")
    opted_in = a_customer(app, ADMIN, name="Opted In")
    a_customer(app, ADMIN, name="No Approval", telephone_numbers=("+12025550177",))
    record_event(app.uow(), app.clock, ADMIN, opted_in.id, ConsentEventKind.OPT_IN, Channel.WEB)
    spec = CampaignSpec(
        "Partner TV",
        Purpose.MARKETING_THIRD_PARTY,
        "Streaming bundle",
        recipients=(Recipient.THIRD_PARTY,),
        cpni=("services",),
        description="Bundle offer with a streaming partner",
    )
    campaign = create_campaign(app.uow(), app.clock, spec, "mia")
    submit_campaign(app.uow(), app.clock, campaign.id, "mia")


def test_safe_4_the_cro_approves_a_campaign_after_counting_its_audience(
    browser: Any, live: tuple[App, str], screenshots: Any
) -> None:
    app, base = live
    _submitted(app)
    staff(app, "carl", "cro")
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    sign_in(page, base, "carl")
    page.click("text=Campaigns")
    assert page.locator("h1").inner_text() == "Campaign review"
    row = page.locator("table.queue tbody tr")
    assert row.count() == 1 and "Bundle offer with a streaming partner" in row.inner_text()
    assert "opt-in" in row.inner_text()
    screenshots(page, "queue")
    page.click("text=Partner TV")
    assert page.locator(".status").inner_text() == "submitted"
    screenshots(page, "campaign")
    page.click("button:has-text('Count the audience')")
    audience = page.locator("table.audience").inner_text()
    assert "Would be reached\t1" in audience and "Excluded: opt-in required\t1" in audience
    screenshots(page, "audience-counted")
    page.fill("textarea[name=reason]", "Partner contract and opt-in basis checked")
    page.click("button[value=approve]")
    assert page.locator(".done").inner_text() == "The campaign is approved."
    assert page.locator(".status").inner_text() == "approved"
    assert "Partner contract and opt-in basis checked" in page.locator("table.history").inner_text()
    screenshots(page, "approved")
    page.click("button:has-text('Build the audience')")
    assert "Would be reached\t1" in page.locator("table.audience").inner_text()
    screenshots(page, "audience-built")
    context.close()


def test_safe_4_a_cro_cannot_approve_a_campaign_of_their_own(
    browser: Any, live: tuple[App, str], screenshots: Any
) -> None:
    app, base = live
    staff(app, "carl", "cro")
    spec = CampaignSpec("Own offer", Purpose.MARKETING_COMMUNICATIONS, "Faster internet", description="Upgrade")
    campaign = create_campaign(app.uow(), app.clock, spec, "carl")
    submit_campaign(app.uow(), app.clock, campaign.id, "carl")
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    sign_in(page, base, "carl")
    page.goto(f"{base}/console/campaigns/{campaign.id}")
    page.fill("textarea[name=reason]", "looks fine to me")
    page.click("button[value=approve]")
    assert "SAFE-4" in page.locator(".error").inner_text()
    assert page.locator(".status").inner_text() == "submitted"
    screenshots(page, "self-approval-refused")
    context.close()
