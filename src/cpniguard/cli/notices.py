"""`cpniguard contacts ...`, `cpniguard notifications list` and `cpniguard worker`."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

import typer

from cpniguard.cli.common import JSON_OPTION, emit, state, when
from cpniguard.customers.model import ContactKind, Customer
from cpniguard.customers.service import add_contact, change_contact
from cpniguard.errors import InvalidInput
from cpniguard.ids import parse_customer_id
from cpniguard.jobs.worker import run_worker
from cpniguard.jobs.worker_pool import PoolSpec, WorkerPool
from cpniguard.notifications.service import list_notices
from cpniguard.views import customer_view, notice_view

contacts = typer.Typer(no_args_is_help=True, help="Contacts of record; every change is announced (NOTIFY-1).")
notifications = typer.Typer(no_args_is_help=True, help="Notices to customers and their delivery status.")

ContactChange = Callable[..., Customer]
EMAIL = typer.Option(None, "--email", help="An email address.")
POSTAL = typer.Option(None, "--postal-address", help="A postal address, one line.")
PHONE = typer.Option(None, "--phone", help="A telephone number, E.164 (+12025550123).")
CHANGE_AT = typer.Option(
    None,
    "--at",
    help="When the change took effect (default now): not in the future, at most 24 hours ago, "
    "not before the latest change of this kind (DEF-5).",
)


def _one(email: str | None, postal_address: str | None, phone: str | None) -> tuple[ContactKind, str]:
    given = [
        (kind, value)
        for kind, value in (
            (ContactKind.EMAIL, email),
            (ContactKind.POSTAL, postal_address),
            (ContactKind.TELEPHONE, phone),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise InvalidInput("give exactly one of --email, --postal-address or --phone")
    return given[0]


def _contact_command(use_case: ContactChange, summary: str) -> Callable[..., None]:
    """`contacts add` and `contacts change`: the same options, a different use case."""

    def command(
        ctx: typer.Context,
        customer_id: str = typer.Argument(..., metavar="ID"),
        email: str | None = EMAIL,
        postal_address: str | None = POSTAL,
        phone: str | None = PHONE,
        at: str | None = CHANGE_AT,
        as_json: bool = JSON_OPTION,
    ) -> None:
        st = state(ctx)
        app = st.app()
        kind, value = _one(email, postal_address, phone)
        effective = when(at, app)
        customer = use_case(
            app.uow(), app.clock, st.actor(), parse_customer_id(customer_id), kind, value, effective, app.letterhead
        )
        emit(customer_view(customer, effective), as_json)

    command.__doc__ = summary
    return command


contacts.command("change")(
    _contact_command(
        change_contact,
        "Replace the customer's contacts of one kind; a notice goes to the contacts of record before it.",
    )
)
contacts.command("add")(
    _contact_command(add_contact, "Add a contact point beside the others; the customer is notified as for a change.")
)


@notifications.command("list")
def list_command(
    ctx: typer.Context,
    customer: str | None = typer.Option(None, "--customer", help="Only this customer's notices."),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000),
    as_json: bool = JSON_OPTION,
) -> None:
    """Notices, newest first, with their channel, recipient, text and delivery status."""
    app = state(ctx).app()
    chosen = parse_customer_id(customer) if customer else None
    emit([notice_view(n) for n in list_notices(app.uow(), chosen, limit)], as_json)


def worker(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="Deliver what is due, then stop."),
    batch: int = typer.Option(200, "--batch", min=1, max=10_000, help="Messages claimed per transaction."),
    concurrency: int = typer.Option(
        1, "--concurrency", min=1, max=64, help="Delivery processes; one that dies is started again."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Deliver queued notices: SMTP, the SMS/voice provider, PDF letters (or files when none is set).
    SIGTERM (a service manager stopping it) ends the worker after the batch in hand is recorded."""
    st = state(ctx)
    app = st.app()
    stopping = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    try:
        if concurrency > 1:
            pool = WorkerPool(PoolSpec(st.database_url, once, batch), concurrency)
            totals = pool.run(stop=stopping.is_set, wait=stopping.wait)
        else:
            totals = run_worker(app, once, batch, stop=stopping.is_set, wait=stopping.wait)
    except KeyboardInterrupt:  # Ctrl-C between batches: claimed rows return when their lease ends
        return
    finally:
        signal.signal(signal.SIGTERM, previous)
    emit({"claimed": totals.claimed, "outcomes": totals.outcomes}, as_json)
