"""`cpniguard customers ...` and `cpniguard classification`."""

from __future__ import annotations

import typer

from cpniguard.cli.common import AT_OPTION, JSON_OPTION, emit, state, when
from cpniguard.customers.model import CustomerKind, Language, ListingStatus, ServiceCategory, parse_enum
from cpniguard.customers.service import NewCustomer, add_customer, find_customers, show_customer
from cpniguard.ids import parse_customer_id
from cpniguard.views import customer_view, field_class_views

customers = typer.Typer(no_args_is_help=True, help="The registry: customers, services, contacts of record.")


@customers.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="Customer or business name."),
    phone: list[str] = typer.Option(..., "--phone", help="Telephone number of record, E.164 (+12025550123)."),
    email: list[str] = typer.Option([], "--email", help="Email address (of record after 30 days, DEF-5)."),
    postal_address: list[str] = typer.Option([], "--postal-address", help="Postal address, one line."),
    service: list[str] = typer.Option([], "--service", help="Service category subscribed (repeatable)."),
    business: bool = typer.Option(False, "--business", help="A business customer."),
    language: str = typer.Option("en", "--language", help="Preferred language: en or de."),
    listing: str = typer.Option("non-published", "--listing", help="published, non-published or unlisted."),
    at: str | None = AT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Open a customer account; prints the new customer with its id."""
    st = state(ctx)
    app = st.app()
    spec = NewCustomer(
        name=name,
        telephone_numbers=tuple(phone),
        emails=tuple(email),
        postal_addresses=tuple(postal_address),
        services=tuple(parse_enum(ServiceCategory, s, "service category") for s in service),
        kind=CustomerKind.BUSINESS if business else CustomerKind.RESIDENTIAL,
        language=parse_enum(Language, language, "language"),
        listing_status=parse_enum(ListingStatus, listing, "listing status"),
    )
    effective = when(at, app)
    customer = add_customer(app.uow(), app.clock, st.actor(), spec, at=effective)
    emit(customer_view(customer, app.clock.now()), as_json)


@customers.command("show")
def show(
    ctx: typer.Context,
    customer_id: str = typer.Argument(..., metavar="ID"),
    at: str | None = typer.Option(None, "--at", help="Say which contacts were of record at this moment (DEF-5)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a customer with services and contacts (the viewing is recorded in the ledger)."""
    st = state(ctx)
    app = st.app()
    customer = show_customer(app.uow(), app.clock, st.actor(), parse_customer_id(customer_id))
    emit(customer_view(customer, when(at, app)), as_json)


@customers.command("find")
def find(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="Part of a name, or an exact telephone number or email."),
    limit: int = typer.Option(20, "--limit", min=1, max=500),
    as_json: bool = JSON_OPTION,
) -> None:
    """Find customers by name, telephone number or email."""
    app = state(ctx).app()
    now = app.clock.now()
    emit(
        [customer_view(c, now) for c in find_customers(app.uow(), app.clock, state(ctx).actor(), text, limit)], as_json
    )


def classification(as_json: bool = JSON_OPTION) -> None:
    """List every stored customer field with its class: CPNI, SLI, protected, account, not CPNI."""
    emit(field_class_views(), as_json)
