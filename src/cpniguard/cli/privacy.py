"""`cpniguard policies|complaints|brokers|training ...`: the privacy office."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from cpniguard.cli.common import AT_OPTION, JSON_OPTION, emit, state, when
from cpniguard.errors import InvalidInput
from cpniguard.ids import parse_uuid
from cpniguard.privacy_office import views
from cpniguard.privacy_office.policies import PolicyDraft, policy_text
from cpniguard.privacy_office.policy_service import list_policies, policy_in_force, publish_policy
from cpniguard.privacy_office.service import (
    NewBrokerAction,
    NewComplaint,
    close_complaint,
    complaint_counts,
    list_broker_actions,
    list_complaints,
    record_broker_action,
    record_complaint,
)
from cpniguard.privacy_office.staff import due_training, list_training, record_training

policies = typer.Typer(no_args_is_help=True, help="The carrier's privacy policy: versions per language.")
complaints = typer.Typer(no_args_is_help=True, help="Complaints about the release of CPNI (CERT-3).")
brokers = typer.Typer(no_args_is_help=True, help="Actions taken against data brokers (CERT-3).")
training = typer.Typer(no_args_is_help=True, help="CPNI training of staff (SAFE-2).")

YEAR_OPTION = typer.Option(None, "--year", help="A calendar year (1 January to 31 December, Eastern).")


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{option} must be a date, YYYY-MM-DD: {text!r}") from None


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {file}: {exc.strerror}") from None


@policies.command("publish")
def publish(
    ctx: typer.Context,
    version: str = typer.Option(..., "--version", help="The version label, such as 2.0."),
    language: str = typer.Option(..., "--language", help="en or de."),
    effective: str = typer.Option(..., "--effective", help="YYYY-MM-DD the version takes effect."),
    file: Path = typer.Option(..., "--file", help="The policy text in Markdown, UTF-8."),
    summary: str = typer.Option(..., "--summary", help="What changed, for the notice and the portal."),
    material: bool = typer.Option(False, "--material", help="Email every customer of the language about it."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Publish a version of the privacy policy; a material one queues an email to each customer."""
    st = state(ctx)
    app = st.app()
    text = policy_text(_read(file))
    draft = PolicyDraft(version, language, _day(effective, "--effective"), text, summary, material)
    done = publish_policy(app.uow(), app.clock, st.actor(), app.letterhead, draft)
    counts = {"notices_queued": done.notices_queued, "customers_without_email": done.customers_without_email}
    emit({**views.policy_view(done.version), **counts}, as_json)


@policies.command("list")
def policies_list(
    ctx: typer.Context,
    language: str | None = typer.Option(None, "--language", help="en or de; both when absent."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Every published version, oldest effective date first."""
    app = state(ctx).app()
    emit([views.policy_view(v) for v in list_policies(app.uow(), language)], as_json)


@policies.command("show")
def show(
    ctx: typer.Context,
    language: str = typer.Option("en", "--language", help="en or de."),
    at: str | None = AT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The version in force (now, or at --at), with its text."""
    app = state(ctx).app()
    emit(views.policy_view(policy_in_force(app.uow(), language, when(at, app)), with_text=True), as_json)


@complaints.command("add")
def complaints_add(
    ctx: typer.Context,
    category: str = typer.Option(
        ..., "--category", help="employee-access, unauthorized-disclosure, online-access, other."
    ),
    channel: str = typer.Option(..., "--channel", help="phone, email, mail, web, in-person, regulator, other."),
    summary: str = typer.Option(..., "--summary", help="What the customer complains of."),
    customer: str | None = typer.Option(None, "--customer", help="The customer's id, when known."),
    received: str | None = typer.Option(None, "--received", help="When it was received (default: now)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a complaint about the release of CPNI (CERT-3)."""
    st = state(ctx)
    app = st.app()
    customer_id = parse_uuid(customer, "customer") if customer else None
    new = NewComplaint(category, channel, summary, customer_id, when(received, app) if received else None)
    emit(views.complaint_view(record_complaint(app.uow(), app.clock, st.actor(), new)), as_json)


@complaints.command("close")
def complaints_close(
    ctx: typer.Context,
    complaint_id: str = typer.Argument(..., metavar="ID"),
    resolution: str = typer.Option(..., "--resolution", help="How it was resolved."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Close an open complaint with its resolution."""
    st = state(ctx)
    app = st.app()
    closed = close_complaint(app.uow(), app.clock, st.actor(), parse_uuid(complaint_id, "complaint"), resolution)
    emit(views.complaint_view(closed), as_json)


@complaints.command("list")
def complaints_list(
    ctx: typer.Context,
    year: int | None = YEAR_OPTION,
    category: str | None = typer.Option(None, "--category", help="Only this category."),
    counts: bool = typer.Option(False, "--counts", help="Counts per category and month instead (needs --year)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Complaints received, oldest first; with --counts, the CERT-3 summary of a year."""
    app = state(ctx).app()
    if counts:
        if year is None:
            raise InvalidInput("--counts needs --year")
        emit(views.counts_view(complaint_counts(app.uow(), year)), as_json)
        return
    emit([views.complaint_view(c) for c in list_complaints(app.uow(), year, category)], as_json)


@brokers.command("add")
def brokers_add(
    ctx: typer.Context,
    taken_on: str = typer.Option(..., "--date", help="YYYY-MM-DD the action was taken."),
    forum: str = typer.Option(..., "--forum", help="state-commission, court, fcc, other."),
    broker: str = typer.Option(..., "--broker", help="The data broker's name."),
    description: str = typer.Option(..., "--description", help="What was filed or instituted, and why."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record an action taken against a data broker (CERT-3)."""
    st = state(ctx)
    app = st.app()
    new = NewBrokerAction(_day(taken_on, "--date"), forum, broker, description)
    emit(views.broker_action_view(record_broker_action(app.uow(), app.clock, st.actor(), new)), as_json)


@brokers.command("list")
def brokers_list(ctx: typer.Context, year: int | None = YEAR_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Actions against data brokers, oldest first."""
    app = state(ctx).app()
    emit([views.broker_action_view(a) for a in list_broker_actions(app.uow(), year)], as_json)


@training.command("add")
def training_add(
    ctx: typer.Context,
    staff: str = typer.Option(..., "--name", help="The member of staff, by user name."),
    course: str = typer.Option(..., "--course", help="The course completed."),
    completed: str = typer.Option(..., "--completed", help="YYYY-MM-DD it was completed."),
    expires: str = typer.Option(..., "--expires", help="YYYY-MM-DD it no longer counts."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record completed CPNI training (SAFE-2)."""
    st = state(ctx)
    app = st.app()
    done, ends = _day(completed, "--completed"), _day(expires, "--expires")
    emit(views.training_view(record_training(app.uow(), app.clock, st.actor(), staff, course, done, ends)), as_json)


@training.command("list")
def training_list(
    ctx: typer.Context,
    staff: str | None = typer.Option(None, "--name", help="Only this member of staff."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The training on record, with the disciplinary policy reference (SAFE-2)."""
    app = state(ctx).app()
    emit(views.training_list_view(list_training(app.uow(), staff), app.settings.discipline_policy_id), as_json)


@training.command("due")
def training_due(
    ctx: typer.Context,
    within: int = typer.Option(30, "--within", help="Days ahead: training that ends by then is due."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Staff whose CPNI training is missing, expired, or ends within --within days."""
    app = state(ctx).app()
    emit([views.due_view(d) for d in due_training(app.uow(), app.clock, within)], as_json)
