"""`cpniguard consent ...`, `cpniguard check` and `cpniguard check-batch`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from cpniguard.calendar import EASTERN
from cpniguard.cli.common import AT_OPTION, JSON_OPTION, emit, state, when
from cpniguard.consent.failures import record_opt_out_failure
from cpniguard.consent.model import Channel, ConsentEventKind
from cpniguard.consent.notices import notices_due, send_opt_out_notices
from cpniguard.consent.retention import KEPT_FOREVER, purge
from cpniguard.consent.service import rebuild_state, record_event, show_consent
from cpniguard.customers.model import ServiceCategory, parse_enum
from cpniguard.decisions.model import Request, parse_purpose
from cpniguard.decisions.service import check, check_batch
from cpniguard.errors import InvalidInput
from cpniguard.ids import CustomerId, parse_customer_id
from cpniguard.views import batch_view, consent_view, decision_view, recorded_view

consent = typer.Typer(no_args_is_help=True, help="The consent ledger: record events, read approvals.")

RECORDABLE = [k.value for k in ConsentEventKind]


@consent.command("record")
def record(
    ctx: typer.Context,
    customer_id: str = typer.Argument(..., metavar="ID"),
    event: str = typer.Argument(..., metavar="EVENT", help=f"One of: {', '.join(RECORDABLE)}."),
    channel: str = typer.Option(..., "--channel", help="email, mail, web, phone, sms or in-person."),
    evidence: str = typer.Option("", "--evidence", help="Where the proof is (message id, recording, form)."),
    at: str | None = AT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Append a consent event; the derived approvals are printed."""
    st = state(ctx)
    app = st.app()
    kind = parse_enum(ConsentEventKind, event, "consent event")
    stored, derived = record_event(
        app.uow(),
        app.clock,
        st.actor(),
        parse_customer_id(customer_id),
        kind,
        parse_enum(Channel, channel, "channel"),
        at=when(at, app),
        evidence=evidence,
    )
    now = app.clock.now()
    emit(recorded_view(stored, derived, now), as_json)


@consent.command("show")
def show(
    ctx: typer.Context,
    customer_id: str = typer.Argument(..., metavar="ID"),
    at: str | None = AT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The approvals in force at a moment (now by default) and the history up to it."""
    app = state(ctx).app()
    emit(
        consent_view(
            show_consent(app.uow(), app.clock, state(ctx).actor(), parse_customer_id(customer_id), when(at, app))
        ),
        as_json,
    )


@consent.command("rebuild")
def rebuild(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Re-derive the current-state table from the events; reports rows that differed."""
    st = state(ctx)
    app = st.app()
    emit({"differed": rebuild_state(app.uow(), app.clock, st.actor())}, as_json)


def _request(purpose: str, reference: str | None, offer: str | None) -> Request:
    category = parse_enum(ServiceCategory, offer, "offer category") if offer else None
    return Request(parse_purpose(purpose), reference, category)


def check_command(
    ctx: typer.Context,
    customer_id: str = typer.Argument(..., metavar="ID"),
    purpose: str = typer.Option(..., "--purpose", help="provide-service, billing, marketing-communications, ..."),
    reference: str | None = typer.Option(None, "--reference", help="legal-process: the order or subpoena."),
    offer: str | None = typer.Option(None, "--offer", help="marketing-subscribed: the service category offered."),
    at: str | None = AT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """May CPNI of this customer be used for this purpose? Recorded in the audit ledger."""
    st = state(ctx)
    app = st.app()
    moment = when(at, app)
    decision = check(
        app.uow(), app.clock, st.actor(), parse_customer_id(customer_id), _request(purpose, reference, offer), at=moment
    )
    emit(decision_view(decision, customer_id, moment), as_json)


def check_batch_command(
    ctx: typer.Context,
    purpose: str = typer.Option(..., "--purpose"),
    reference: str | None = typer.Option(None, "--reference"),
    offer: str | None = typer.Option(None, "--offer"),
    ids_file: Path | None = typer.Option(None, "--ids-file", help="One customer id a line; all customers if absent."),
    with_ids: bool = typer.Option(False, "--with-ids", help="List the allowed customers too."),
    at: str | None = AT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Decide for many customers at once (set-based); counts denials by reason."""
    st = state(ctx)
    app = st.app()
    moment = when(at, app)
    customers = _read_ids(ids_file) if ids_file else None
    request = _request(purpose, reference, offer)
    outcome = check_batch(app.uow(), app.clock, st.actor(), request, at=moment, customers=customers)
    emit(batch_view(outcome, request.purpose.value, moment, with_ids), as_json)


def _read_ids(path: Path) -> list[CustomerId]:
    try:
        lines = path.read_text().split()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    return [parse_customer_id(line) for line in lines]


@consent.command("notices-due")
def notices_due_command(
    ctx: typer.Context,
    at: str | None = AT_OPTION,
    include_never: bool = typer.Option(False, "--include-never", help="Also customers never sent a notice."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The biennial re-notice report (NOTICE-7): customers whose opt-out notice is due."""
    app = state(ctx).app()
    due = notices_due(app.uow(), when(at, app), include_never)
    emit({"due": len(due), "customers": [str(c) for c in due]}, as_json)


@consent.command("send-notices")
def send_notices_command(
    ctx: typer.Context,
    customer: list[str] = typer.Option([], "--customer", help="A customer to send the notice to (repeatable)."),
    due: bool = typer.Option(False, "--due", help="Every customer whose re-notice is due now."),
    include_never: bool = typer.Option(False, "--include-never", help="With --due: also those never sent one."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Queue individual opt-out notices (email of record, else a letter); the worker sends them.
    A customer whose notice is queued and not yet delivered is skipped."""
    st = state(ctx)
    app = st.app()
    if bool(customer) == due:
        raise InvalidInput("give --due or one or more --customer, not both")
    chosen = notices_due(app.uow(), app.clock.now(), include_never) if due else [parse_customer_id(c) for c in customer]
    run = send_opt_out_notices(app.uow(), app.clock, st.actor(), app.letterhead, app.opt_out_addresses, chosen)
    emit({"queued": len(run.queued), "skipped": run.skipped}, as_json)


@consent.command("opt-out-failure")
def opt_out_failure_command(
    ctx: typer.Context,
    mechanisms: str = typer.Option(..., "--mechanisms", help="The opt-out mechanisms that failed, e.g. email reply."),
    problem: str = typer.Option(..., "--problem", help="What went wrong, and for how many customers."),
    found: str | None = typer.Option(None, "--found", help="The day it was found (default today, Eastern)."),
    remedy: str = typer.Option("", "--remedy", help="The remedy, and when it was or will be in place."),
    as_json: bool = JSON_OPTION,
) -> None:
    """SAFE-5: record an opt-out failure; creates the FCC letter task due in 5 business days."""
    st = state(ctx)
    app = st.app()
    found_on = when(found, app).astimezone(EASTERN).date() if found else None
    task = record_opt_out_failure(
        app.uow(),
        app.clock,
        st.actor(),
        mechanisms,
        problem,
        found_on,
        remedy,
        app.settings.carrier_name,
        app.carrier_contact,
    )
    emit(
        {
            "task": task.id,
            "found_on": task.found_on.isoformat(),
            "due_on": task.due_on.isoformat(),
            "letter": asdict(task.letter),
        },
        as_json,
    )


def purge_command(
    ctx: typer.Context,
    before: str = typer.Option(..., "--before", help="Purge working data older than this (at least a year ago)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete expired working data; refuses anything younger than a year (AMB-8). Records the
    rules name (ledgers, campaign events, disclosures, deliveries) are never deleted."""
    st = state(ctx)
    app = st.app()
    counts = purge(app.uow(), app.clock, st.actor(), when(before, app))
    emit({"purged": counts, "kept_forever": list(KEPT_FOREVER)}, as_json)
