"""The purpose gate over HTTP: one check (the hot path) and the set-based batch."""

from __future__ import annotations

from fastapi import APIRouter

from cpniguard.api.auth import Decider
from cpniguard.api.bodies import BatchCheckIn, CheckIn
from cpniguard.api.deps import AppDep, moment
from cpniguard.api.errors import ERROR_RESPONSES
from cpniguard.api.responses import BatchOut, DecisionOut
from cpniguard.decisions.service import check, check_batch
from cpniguard.ids import CustomerId, parse_customer_id
from cpniguard.views import batch_view, decision_view

router = APIRouter(tags=["decisions"], responses=ERROR_RESPONSES)


# The hot path runs on the event loop, calling the sync service directly: every check appends to
# the ledger, whose head is one lock (SQLite's write lock, PostgreSQL's head row), so threads
# would only queue for it. Measured with wrk, one uvicorn worker on SQLite: about 25 % more
# checks per second than a threadpool endpoint, and none of the multi-second tails that SQLite's
# busy handler gives competing threads. The other routes stay `def`: a verification may take
# seconds and must not stall the loop.
@router.post("/customers/{customer_id}/checks")
async def check_use(customer_id: str, body: CheckIn, app: AppDep, actor: Decider) -> DecisionOut:
    """May this customer's CPNI be used for this purpose? The decision is in the ledger before the answer."""
    customer = parse_customer_id(customer_id)
    at = moment(body.at, app)
    decision = check(app.uow(), app.clock, actor, customer, body.request(), at=at)
    return DecisionOut.model_validate(decision_view(decision, str(customer), at))


@router.post("/checks/batch", response_model_exclude_none=True)
def check_many(body: BatchCheckIn, app: AppDep, actor: Decider) -> BatchOut:
    """Decide for many customers at once (all when `customers` is absent); denials counted by reason."""
    at = moment(body.at, app)
    customers = [CustomerId(c) for c in body.customers] if body.customers is not None else None
    outcome = check_batch(app.uow(), app.clock, actor, body.request(), at=at, customers=customers)
    return BatchOut.model_validate(batch_view(outcome, body.purpose.value, at, body.include_ids))
