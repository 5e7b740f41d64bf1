"""The registry over HTTP: open accounts, find and show them, and the field catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cpniguard.api.auth import Reader, Writer
from cpniguard.api.bodies import CustomerIn
from cpniguard.api.deps import WHEN_HELP, AppDep, moment, parse_moment
from cpniguard.api.errors import ERROR_RESPONSES
from cpniguard.api.responses import CustomerOut, FieldClassOut
from cpniguard.customers.service import add_customer, find_customers, show_customer
from cpniguard.ids import parse_customer_id
from cpniguard.views import customer_view, field_class_views

router = APIRouter(tags=["registry"], responses=ERROR_RESPONSES)


@router.post("/customers", status_code=201)
def open_account(body: CustomerIn, app: AppDep, actor: Writer) -> CustomerOut:
    """Open a customer account with its telephone numbers of record, addresses and services."""
    at = parse_moment(body.at) if body.at is not None else None
    customer = add_customer(app.uow(), app.clock, actor, body.spec(), at=at)
    return CustomerOut.model_validate(customer_view(customer, app.clock.now()))


@router.get("/customers")
def find(
    app: AppDep,
    actor: Reader,
    q: Annotated[str, Query(min_length=1, description="Part of a name, or an exact telephone number or email")],
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> list[CustomerOut]:
    """Find customers by name, telephone number or email."""
    now = app.clock.now()
    return [
        CustomerOut.model_validate(customer_view(c, now)) for c in find_customers(app.uow(), app.clock, actor, q, limit)
    ]


@router.get("/customers/{customer_id}")
def show(
    customer_id: str,
    app: AppDep,
    actor: Reader,
    at: Annotated[str | None, Query(description="Say which contacts were of record then (DEF-5). " + WHEN_HELP)] = None,
) -> CustomerOut:
    """One customer with services and contacts; the viewing is recorded in the audit ledger."""
    of_record_at = moment(at, app)
    customer = show_customer(app.uow(), app.clock, actor, parse_customer_id(customer_id))
    return CustomerOut.model_validate(customer_view(customer, of_record_at))


@router.get("/classification")
def classification(actor: Reader) -> list[FieldClassOut]:
    """Every stored customer field with its class: CPNI, subscriber list information, protected, ..."""
    return [FieldClassOut.model_validate(view) for view in field_class_views()]
