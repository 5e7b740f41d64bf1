"""The audit ledger page (search by action, customer id and date range; the chain verified on
request; the last signed checkpoint) and the privacy office dashboard (charts drawn as SVG)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse

from cpniguard.audit.service import verify
from cpniguard.errors import DomainError, InvalidInput
from cpniguard.privacy_office.dashboard import SEARCH_LIMIT, Dashboard, dashboard, ledger_state, search_ledger
from cpniguard.web.office_charts import Series, bar_chart, line_chart
from cpniguard.web.pages import Page, staff_page

router = APIRouter(include_in_schema=False)
StaffPage = Annotated[Page, Depends(staff_page)]
AUDIT, DASHBOARD = "audit", "dashboard"


def _customer(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip()) if text.strip() else None
    except ValueError:
        raise InvalidInput(f"a customer id is a UUID: {text.strip()[:40]!r} is not one") from None


def _date(text: str, what: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        raise InvalidInput(f"{what} is not a date (YYYY-MM-DD)") from None


def _before(text: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit() or len(text.strip()) > 19:
        raise InvalidInput(f"a page starts below an entry number: {text.strip()[:40]!r} is not one")
    return int(text.strip())


@router.get("/console/audit", name=AUDIT)
def audit(
    page: StaffPage, action: str = "", customer: str = "", first: str = "", last: str = "", before: str = ""
) -> HTMLResponse:
    """Query parameters carry no CPNI: an action tag, a customer's id, two dates and the entry
    number the page starts below (keyset paging: `SEARCH_LIMIT` entries a page)."""
    page.require(AUDIT)
    query = {"action": action, "customer": customer, "first": first, "last": last}
    try:
        entries = search_ledger(
            page.app.uow(),
            _customer(customer),
            action.strip() or None,
            _date(first, "the start of the range"),
            _date(last, "the end of the range"),
            before=_before(before),
        )
    except DomainError as exc:
        return page.refuse("office/audit.html", exc, query=query, entries=[], state=ledger_state(page.app.uow()))
    older = entries[-1].seq if len(entries) == SEARCH_LIMIT else None
    return page.render(
        "office/audit.html", query=query, entries=entries, state=ledger_state(page.app.uow()), older=older,
        paged=bool(before.strip()),
    )  # fmt: skip


@router.post("/console/audit/verify", name=AUDIT)
def verify_ledger(page: StaffPage, csrf: Annotated[str, Form()] = "") -> HTMLResponse:
    """Re-hashes the whole chain and checks the signed checkpoints (it reads, writes nothing)."""
    page.require(AUDIT)
    page.check_form(csrf)
    result = verify(page.app.uow(), page.app.verifier)
    query = {"action": "", "customer": "", "first": "", "last": ""}
    entries = search_ledger(page.app.uow(), None, None, None, None)
    return page.render(
        "office/audit.html", query=query, entries=entries, state=ledger_state(page.app.uow()), verification=result
    )


@router.get("/console/dashboard", name=DASHBOARD)
def dashboard_page(page: StaffPage) -> HTMLResponse:
    page.require(DASHBOARD)
    found = dashboard(page.app.uow(), page.app.clock)
    return page.render("office/dashboard.html", board=found, **charts(found, page.language))


def charts(board: Dashboard, language: str) -> dict[str, Any]:
    labels = [m.month.strftime("%m/%y") for m in board.months]
    rates = line_chart(
        labels,
        [
            Series("opt-out", tuple(round(m.opt_out_rate, 2) for m in board.months)),
            Series("opt-in", tuple(round(m.opt_in_rate, 2) for m in board.months)),
        ],
        unit="%",
    )
    auth = bar_chart(
        labels,
        [
            Series("failures", tuple(float(m.auth_failures) for m in board.months)),
            Series("lockouts", tuple(float(m.lockouts) for m in board.months)),
        ],
    )
    notice_labels = [f"{channel} · {status}" for channel, status, _ in board.notices]
    notices = bar_chart(notice_labels, [Series("notices", tuple(float(n) for _, _, n in board.notices))])
    return {"rates": rates, "auth": auth, "notices_chart": notices}
