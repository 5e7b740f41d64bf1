"""The consent ledger over HTTP: record an event, read the approvals at any moment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cpniguard.api.auth import Reader, Writer
from cpniguard.api.bodies import ConsentEventIn
from cpniguard.api.deps import WHEN_HELP, AppDep, moment
from cpniguard.api.errors import ERROR_RESPONSES
from cpniguard.api.responses import ConsentOut, RecordedEventOut
from cpniguard.consent.service import record_event, show_consent
from cpniguard.ids import parse_customer_id
from cpniguard.views import consent_view, recorded_view

router = APIRouter(tags=["consent"], responses=ERROR_RESPONSES)


@router.post("/customers/{customer_id}/consent-events", status_code=201)
def record(customer_id: str, body: ConsentEventIn, app: AppDep, actor: Writer) -> RecordedEventOut:
    """Append a consent event (opt-out notice, opt-out, opt-in, ...); answers the approvals now."""
    customer = parse_customer_id(customer_id)
    at = moment(body.at, app)
    stored, state = record_event(app.uow(), app.clock, actor, customer, body.event, body.channel, at, body.evidence)
    view = recorded_view(stored, state, app.clock.now())
    return RecordedEventOut.model_validate(view)


@router.get("/customers/{customer_id}/consent")
def show(
    customer_id: str,
    app: AppDep,
    actor: Reader,
    at: Annotated[str | None, Query(description=WHEN_HELP)] = None,
) -> ConsentOut:
    """The approvals in force at a moment and the history up to it."""
    view = show_consent(app.uow(), app.clock, actor, parse_customer_id(customer_id), moment(at, app))
    return ConsentOut.model_validate(consent_view(view))
