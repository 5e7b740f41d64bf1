"""Builders the browser journeys share: trained staff with a console password."""

from __future__ import annotations

from datetime import timedelta

from cpniguard.access.web import set_staff_password
from cpniguard.bootstrap import App
from cpniguard.calendar import eastern_date
from cpniguard.campaigns.service import add_user
from cpniguard.privacy_office.staff import record_training
from tests.browser.conftest import ADMIN

PASSWORD = "correct horse battery staple"


def staff(app: App, name: str, *roles: str) -> str:
    """A member of staff, trained (SAFE-2), with roles and the console password PASSWORD."""
    today = eastern_date(app.clock.now())
    record_training(app.uow(), app.clock, ADMIN, name, "CPNI basics", today, today + timedelta(days=365))
    add_user(app.uow(), app.clock, ADMIN, name, frozenset(roles))
    set_staff_password(app.uow(), app.clock, ADMIN, app.auth.hasher, name, PASSWORD)
    return name


def sign_in(page: object, base: str, name: str) -> None:
    page.goto(f"{base}/sign-in")  # type: ignore[attr-defined]
    page.fill("input[name=name]", name)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
