"""Signing in to the console in a real browser: the language follows the browser until the
visitor switches it, a wrong password is refused, a page outside the roles answers 403."""

from __future__ import annotations

from typing import Any

from cpniguard.bootstrap import App
from tests.browser.support import sign_in, staff


def test_an_agent_signs_in_in_german_and_switches_to_english(
    browser: Any, live: tuple[App, str], screenshots: Any
) -> None:
    app, base = live
    staff(app, "ann", "agent")
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    page.goto(f"{base}/sign-in")
    assert page.locator("h1").inner_text() == "Mitarbeiterkonsole"
    screenshots(page, "sign-in-de")
    page.fill("input[name=name]", "ann")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert page.locator(".error").is_visible()
    sign_in(page, base, "ann")
    assert "Angemeldet als ann" in page.content()
    screenshots(page, "home-de")
    page.click("text=English")
    assert "Signed in as ann" in page.content()
    page.goto(f"{base}/console/breaches")
    assert page.locator("h1").inner_text() == "Not allowed"
    screenshots(page, "forbidden")
    page.click("button:has-text('Sign out')")
    assert page.url.endswith("/sign-in")
    context.close()
