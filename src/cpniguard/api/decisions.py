"""The purpose gate over HTTP: one check (the hot path) and the set-based batch."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from cpniguard.api.auth import Decider
from cpniguard.api.bodies import BatchCheckIn, CheckIn
from cpniguard.api.deps import AppDep, moment, parse_moment
from cpniguard.api.errors import ERROR_RESPONSES
from cpniguard.api.gate_queue import GateQueue
from cpniguard.api.responses import BatchOut, DecisionOut
from cpniguard.decisions.service import Check, check_batch
from cpniguard.ids import CustomerId, parse_customer_id
from cpniguard.views import batch_view, decision_view

router = APIRouter(tags=["decisions"], responses=ERROR_RESPONSES)


# The hot path: many concurrent checks are decided in one transaction (api/gate_queue.py), and
# the answer is written straight to JSON; the response model still documents it in OpenAPI.
@router.post("/customers/{customer_id}/checks", response_model=DecisionOut)
async def check_use(customer_id: str, body: CheckIn, request: Request, actor: Decider) -> Response:
    """May this customer's CPNI be used for this purpose? The decision is in the ledger before the answer."""
    customer = parse_customer_id(customer_id)
    at = parse_moment(body.at) if body.at is not None else None
    queue: GateQueue = request.app.state.gate_queue
    decided_at, decision = await queue.check(Check(actor, customer, body.request(), at))
    return JSONResponse(decision_view(decision, str(customer), decided_at))


@router.post("/checks/batch", response_model_exclude_none=True)
def check_many(body: BatchCheckIn, app: AppDep, actor: Decider) -> BatchOut:
    """Decide for many customers at once (all when `customers` is absent); denials counted by reason."""
    at = moment(body.at, app)
    customers = [CustomerId(c) for c in body.customers] if body.customers is not None else None
    outcome = check_batch(app.uow(), app.clock, actor, body.request(), at=at, customers=customers)
    return BatchOut.model_validate(batch_view(outcome, body.purpose.value, at, body.include_ids))
