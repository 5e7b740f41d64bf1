"""Opt-out notices over HTTP: the biennial re-notice report and the runs that queue notices
(NOTICE-2, NOTICE-7), and the SAFE-5 task when opt-out mechanisms fail.

Included by `api.campaigns`' router, so the app mounts it with the campaign workflow.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date

from fastapi import APIRouter
from pydantic import Field

from cpniguard.api.auth import Reader, Writer
from cpniguard.api.bodies import Body
from cpniguard.api.deps import AppDep, parse_moment
from cpniguard.api.errors import ERROR_RESPONSES
from cpniguard.api.responses import Out
from cpniguard.consent.failures import record_opt_out_failure
from cpniguard.consent.notices import notices_due, send_opt_out_notices
from cpniguard.ids import CustomerId

router = APIRouter(tags=["opt-out notices"], responses=ERROR_RESPONSES)


class NoticeRunIn(Body):
    customers: list[uuid.UUID] | None = Field(default=None, description="These customers; or all that are due")
    include_never: bool = Field(default=False, description="With no customers: also those never sent a notice")


class NoticeRunOut(Out):
    queued: int
    skipped: dict[str, str] = Field(description="Customer id: why no notice was queued (one already waits, say)")


class DueOut(Out):
    due: int
    customers: list[str]


class FailureIn(Body):
    mechanisms: str = Field(max_length=500)
    problem: str = Field(max_length=4000)
    found_on: date | None = None
    remedy: str = Field(default="", max_length=4000)


@router.get("/opt-out-notices/due")
def due_notices(app: AppDep, actor: Reader, at: str | None = None, include_never: bool = False) -> DueOut:
    """The biennial re-notice report (NOTICE-7)."""
    moment = parse_moment(at) if at else app.clock.now()
    due = notices_due(app.uow(), moment, include_never)
    return DueOut(due=len(due), customers=[str(c) for c in due])


@router.post("/opt-out-notices")
def send_notices(body: NoticeRunIn, app: AppDep, actor: Writer) -> NoticeRunOut:
    """Queue individual opt-out notices (NOTICE-2): email of record with a letter as fallback, or a
    letter; a customer whose notice is queued and not yet delivered is skipped."""
    chosen = (
        [CustomerId(c) for c in body.customers]
        if body.customers is not None
        else notices_due(app.uow(), app.clock.now(), body.include_never)
    )
    run = send_opt_out_notices(app.uow(), app.clock, actor, app.letterhead, app.opt_out_addresses, chosen)
    return NoticeRunOut(queued=len(run.queued), skipped=run.skipped)


@router.post("/opt-out-failures", status_code=201)
def opt_out_failure(body: FailureIn, app: AppDep, actor: Writer) -> dict[str, object]:
    """SAFE-5: an opt-out failure; the FCC letter task is due on the fifth business day."""
    task = record_opt_out_failure(
        app.uow(),
        app.clock,
        actor,
        body.mechanisms,
        body.problem,
        body.found_on,
        body.remedy,
        app.settings.carrier_name,
        app.carrier_contact,
    )
    return {
        "task": task.id,
        "found_on": task.found_on.isoformat(),
        "due_on": task.due_on.isoformat(),
        "letter": asdict(task.letter),
    }
