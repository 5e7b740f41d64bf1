"""`cpniguard breach ...` and `cpniguard calendar ...`: incidents, their clocks, closure days."""

from __future__ import annotations

import mimetypes
import uuid
from dataclasses import asdict
from datetime import date
from pathlib import Path

import typer

from cpniguard.bootstrap import App
from cpniguard.breaches import agency as breach_agency
from cpniguard.breaches import closures as closure_days
from cpniguard.breaches import customer_notices as breach_notices
from cpniguard.breaches import service
from cpniguard.breaches.clocks import ClockFacts, deadlines, parse_rules
from cpniguard.breaches.model import DATA_TYPES, HarmAssessment, Intent, parse_data_types
from cpniguard.breaches.reminders import remind_due
from cpniguard.breaches.views import deadlines_view, event_view, incident_view
from cpniguard.calendar import add_business_days, federal_holidays
from cpniguard.cli.common import JSON_OPTION, emit, state, when
from cpniguard.customers.model import parse_enum
from cpniguard.errors import InvalidInput
from cpniguard.ids import parse_customer_id, parse_uuid

breach = typer.Typer(no_args_is_help=True, help="Breach incidents on the regulator's clock (BREACH-*, BREACH23-*).")
calendar = typer.Typer(no_args_is_help=True, help="The business calendar: federal holidays and closure days (CAL-*).")

INCIDENT = typer.Argument(..., help="The incident's id (see `cpniguard breach list`).")
RULES = typer.Option(None, "--rules", help="2007, 2023 or strictest; default CPNIGUARD_BREACH_RULES (strictest).")


def _day(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{what} must be an ISO date (YYYY-MM-DD), not {text!r}") from None


def _closures(app: App) -> set[date]:
    with app.uow() as uow:
        return set(uow.calendar.closures())


@breach.command("deadlines")
def deadlines_command(
    ctx: typer.Context,
    determined: str = typer.Option(..., "--determined", help="When the breach was reasonably determined (AMB-13)."),
    notified: str | None = typer.Option(None, "--law-enforcement-notified", help="When USSS/FBI were notified."),
    rules: str | None = RULES,
    as_json: bool = JSON_OPTION,
) -> None:
    """The legal dates and internal targets of a breach, from its determination (CAL-7)."""
    app = state(ctx).app()
    version = parse_rules(rules or app.settings.breach_rules)
    facts = ClockFacts(version, when(determined, app), when(notified, app) if notified else None)
    if notified and facts.law_enforcement_notified_at and facts.law_enforcement_notified_at < facts.determined_at:
        raise InvalidInput("law enforcement cannot be notified before the determination")
    emit(deadlines_view(deadlines(facts, _closures(app))), as_json)


@breach.command("open")
def open_command(
    ctx: typer.Context,
    title: str = typer.Option(..., "--title"),
    discovered: str = typer.Option(..., "--discovered", help="When the incident was discovered."),
    intent: str = typer.Option(..., "--intent", help="intentional, inadvertent or good-faith (BREACH-7, BREACH23-1)."),
    data_type: list[str] = typer.Option(
        ...,
        "--data-type",
        help="Repeatable: " + ", ".join(sorted(DATA_TYPES)) + ".",
    ),
    circumstances: str = typer.Option(..., "--circumstances"),
    cpni: str = typer.Option("", "--cpni", help="A detailed description of the CPNI involved (BREACH-6)."),
    other_data: str = typer.Option("", "--other-data", help="Other personal data involved (BREACH23-2)."),
    method: str = typer.Option("", "--method", help="The method of compromise (BREACH23-4)."),
    start: str | None = typer.Option(None, "--start", help="First day of the incident."),
    end: str | None = typer.Option(None, "--end", help="Last day of the incident."),
    good_faith_reason: str | None = typer.Option(None, "--good-faith-reason"),
    financial_loss: str = typer.Option("", "--financial-loss", help="An estimate, or none, or unknown."),
    urgent_need: bool = typer.Option(
        False, "--urgent-need", help="An urgent need to tell customers sooner (BREACH-3)."
    ),
    rules: str | None = RULES,
    as_json: bool = JSON_OPTION,
) -> None:
    """Open an incident with the facts its record must hold (BREACH-6)."""
    st = state(ctx)
    app = st.app()
    new = service.NewIncident(
        title,
        when(discovered, app),
        parse_enum(Intent, intent, "intent"),
        parse_data_types(data_type),
        circumstances,
        cpni,
        other_data,
        method,
        _day(start, "--start"),
        _day(end, "--end"),
        good_faith_reason,
        financial_loss,
        urgent_need,
        parse_rules(rules) if rules else None,
    )
    incident = service.open_incident(app.uow(), app.clock, st.actor(), new, parse_rules(app.settings.breach_rules))
    emit(incident_view(incident), as_json)


def _id(text: str) -> uuid.UUID:
    return parse_uuid(text, "breach incident")


@breach.command("determine")
def determine_command(
    ctx: typer.Context,
    incident: str = INCIDENT,
    at: str = typer.Option(..., "--at", help="When the breach became more likely than not."),
    by: str = typer.Option(..., "--by", help="Who made the determination."),
    reason: str = typer.Option(..., "--reason", help="Why (BREACH23-11)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record the reasonable determination: every clock starts here (AMB-13)."""
    st = state(ctx)
    app = st.app()
    found = service.record_determination(app.uow(), app.clock, st.actor(), _id(incident), when(at, app), by, reason)
    emit(incident_view(found), as_json)


@breach.command("note")
def note_command(
    ctx: typer.Context,
    incident: str = INCIDENT,
    text: str = typer.Option(..., "--text"),
    at: str | None = typer.Option(None, "--at"),
    likely_breach: bool = typer.Option(False, "--likely-breach", help="The note finds a breach more likely than not."),
) -> None:
    """A triage note; one calling the breach likely before the determination flags a review."""
    st = state(ctx)
    app = st.app()
    service.record_triage_note(app.uow(), app.clock, st.actor(), _id(incident), when(at, app), text, likely_breach)
    emit({"recorded": True}, False)


@breach.command("harm")
def harm_command(
    ctx: typer.Context,
    incident: str = INCIDENT,
    likely: bool = typer.Option(..., "--likely/--not-likely", help="Is harm to customers reasonably likely?"),
    reasoning: str = typer.Option("", "--reasoning"),
    decided_by: str = typer.Option(..., "--decided-by"),
    evidence: str = typer.Option("", "--evidence", help="References to the evidence."),
    encrypted: bool = typer.Option(False, "--encrypted"),
    key_compromised: str = typer.Option("unknown", "--key-compromised", help="yes, no or unknown."),
    encryption_rationale: bool = typer.Option(False, "--encryption-rationale"),
    as_json: bool = JSON_OPTION,
) -> None:
    """The harm assessment with its reasoning (BREACH23-8)."""
    st = state(ctx)
    app = st.app()
    assessment = HarmAssessment(
        likely,
        reasoning.strip(),
        decided_by.strip(),
        evidence.strip(),
        encrypted,
        key_compromised,
        encryption_rationale,
    )
    emit(incident_view(service.record_harm(app.uow(), app.clock, st.actor(), _id(incident), assessment)), as_json)


@breach.command("affected")
def affected_command(
    ctx: typer.Context,
    incident: str = INCIDENT,
    count: int | None = typer.Option(None, "--count", help="How many customers; leave out when unknown."),
    basis: str = typer.Option(..., "--basis", help="How the number was determined (BREACH23-10)."),
    customer: list[str] = typer.Option([], "--customer", help="An affected customer's id (repeatable)."),
    customers_file: Path | None = typer.Option(None, "--customers-file", help="A file of customer ids, one per line."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The affected customers: their number (or unknown) with its basis, and who they are."""
    st = state(ctx)
    app = st.app()
    ids = list(customer)
    if customers_file is not None:
        try:
            ids += [line.strip() for line in customers_file.read_text().splitlines() if line.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read {customers_file}: {exc}") from None
    parsed = [parse_customer_id(text) for text in ids]
    found = service.record_affected(app.uow(), app.clock, st.actor(), _id(incident), count, basis, parsed)
    emit(incident_view(found), as_json)


@breach.command("agency-notice")
def agency_notice_command(
    ctx: typer.Context,
    incident: str = INCIDENT,
    submitted: str | None = typer.Option(None, "--submitted", help="Record the submission, made at this time."),
    recipient: list[str] = typer.Option([], "--recipient", help="USSS, FBI, FCC (repeatable)."),
    reference: str = typer.Option("", "--reference", help="The reporting facility's reference."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Without --submitted: the notice to submit (BREACH23-4). With it: record the submission."""
    st = state(ctx)
    app = st.app()
    if submitted is None:
        notice = breach_agency.draft_agency_notice(app.uow(), _id(incident), app.carrier_contact)
        emit({**asdict(notice), "missing": notice.missing()}, as_json)
        return
    found = breach_agency.record_agency_notice(
        app.uow(),
        app.clock,
        st.actor(),
        _id(incident),
        when(submitted, app),
        tuple(recipient),
        reference,
        app.carrier_contact,
    )
    emit(incident_view(found), as_json)


@breach.command("consult")
def consult_command(
    ctx: typer.Context,
    incident: str = INCIDENT,
    agency: str = typer.Option(..., "--agency"),
    person: str = typer.Option(..., "--person", help="Who at the agency was consulted."),
    at: str | None = typer.Option(None, "--at"),
    notes: str = typer.Option("", "--notes"),
) -> None:
    """BREACH-3: the consultation that lets urgent customer notice go before the hold ends."""
    st = state(ctx)
    app = st.app()
    breach_agency.record_consultation(
        app.uow(), app.clock, st.actor(), _id(incident), when(at, app), agency, person, notes
    )
    emit({"recorded": True}, False)


@breach.command("direction")
def direction_command(
    ctx: typer.Context,
    incident: str = INCIDENT,
    kind: str = typer.Option(..., "--kind", help="directed, extended or ended (the all-clear)."),
    agency: str = typer.Option(..., "--agency"),
    document: Path = typer.Option(..., "--document", help="The written direction as received (BREACH-4)."),
    received: str | None = typer.Option(None, "--received"),
    days: int | None = typer.Option(None, "--days", help="How long notice is delayed, in calendar days."),
    until: str | None = typer.Option(None, "--until", help="The last day of the delay."),
    as_json: bool = JSON_OPTION,
) -> None:
    """An agency's written direction to delay customer notice, its extension or its end."""
    st = state(ctx)
    app = st.app()
    try:
        content = document.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {document}: {exc.strerror}") from None
    media = mimetypes.guess_type(document.name)[0] or "application/octet-stream"
    breach_agency.record_direction(
        app.uow(),
        app.clock,
        st.actor(),
        _id(incident),
        kind,
        when(received, app),
        agency,
        (document.name, media, content),
        days,
        _day(until, "--until"),
    )
    _show(app, _id(incident), as_json)


@breach.command("notify-customers")
def notify_command(
    ctx: typer.Context,
    incident: str = INCIDENT,
    monitoring: str = typer.Option("", "--monitoring", help="Credit monitoring the carrier offers, in one sentence."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Queue the notice to every listed customer; refused while a hold stands (BREACH-2..4)."""
    st = state(ctx)
    app = st.app()
    emit(
        breach_notices.send_customer_notices(
            app.uow(), app.clock, st.actor(), _id(incident), app.letterhead, monitoring
        ),
        as_json,
    )


def _show(app: App, incident: uuid.UUID, as_json: bool) -> None:
    found = service.status(app.uow(), app.clock, incident)
    emit(
        {
            **incident_view(found.incident),
            "deadlines": deadlines_view(found.deadlines) if found.deadlines else None,
            "overdue": found.overdue,
            "review_flags": found.review_flags,
            "affected_listed": found.affected_listed,
            "timeline": [event_view(e) for e in found.events],
        },
        as_json,
    )


@breach.command("show")
def show_command(ctx: typer.Context, incident: str = INCIDENT, as_json: bool = JSON_OPTION) -> None:
    """An incident with its deadlines, what is overdue, and its timeline."""
    _show(state(ctx).app(), _id(incident), as_json)


@breach.command("list")
def list_command(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Every incident, with its next legal dates and what is overdue."""
    app = state(ctx).app()
    rows = [
        {**incident_view(i), "deadlines": deadlines_view(d) if d else None, "overdue": late}
        for i, d, late in service.list_incidents(app.uow(), app.clock)
    ]
    emit(rows, as_json)


@breach.command("close")
def close_incident_command(
    ctx: typer.Context,
    incident: str = INCIDENT,
    at: str | None = typer.Option(None, "--at"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Close the investigation; refused while a notice the rules require is not on record."""
    st = state(ctx)
    app = st.app()
    emit(
        incident_view(
            breach_notices.close_investigation(app.uow(), app.clock, st.actor(), _id(incident), when(at, app))
        ),
        as_json,
    )


@breach.command("annual-summary")
def summary_command(ctx: typer.Context, year: int = typer.Option(..., "--year"), as_json: bool = JSON_OPTION) -> None:
    """BREACH23-5: the year's breaches under 500 customers with no harm reasonably likely."""
    app = state(ctx).app()
    found = service.annual_summary(app.uow(), year)
    rows = [
        {**incident_view(i), "affected_count_basis": i.affected_count_basis, "harm_reasoning": i.harm_reasoning}
        for i in found
    ]
    emit({"year": year, "incidents": rows}, as_json)


@breach.command("remind")
def remind_command(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Queue the reminders now due to the privacy office (the worker does this every minute)."""
    st = state(ctx)
    app = st.app()
    s = app.settings
    sent = remind_due(app.uow(), app.clock, st.actor(), s.privacy_office_email, s.breach_reminder_business_days)
    emit({"reminders": sent, "to": s.privacy_office_email}, as_json)


@calendar.command("closures")
def closures_command(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """The closure days on file."""
    app = state(ctx).app()
    emit([{"day": d.isoformat(), "reason": r} for d, r in closure_days.closures(app.uow()).items()], as_json)


@calendar.command("close")
def close_command(
    ctx: typer.Context,
    day: str = typer.Option(..., "--day"),
    reason: str = typer.Option(..., "--reason", help="For example an executive order closing federal offices."),
) -> None:
    """Add a day the Commission is closed; every business-day clock skips it (CAL-3)."""
    st = state(ctx)
    app = st.app()
    closure_days.add_closure(app.uow(), app.clock, st.actor(), _required_day(day), reason)
    emit({"added": day}, False)


@calendar.command("reopen")
def reopen_command(ctx: typer.Context, day: str = typer.Option(..., "--day")) -> None:
    """Remove a closure day entered by mistake."""
    st = state(ctx)
    app = st.app()
    closure_days.remove_closure(app.uow(), app.clock, st.actor(), _required_day(day))
    emit({"removed": day}, False)


@calendar.command("holidays")
def holidays_command(ctx: typer.Context, year: int = typer.Option(..., "--year"), as_json: bool = JSON_OPTION) -> None:
    """The federal holidays and observed days of a year, generated by rule (CAL-1, CAL-2, CAL-6)."""
    if not 1900 <= year <= 2999:
        raise InvalidInput("the year must lie between 1900 and 2999")
    emit([d.isoformat() for d in sorted(federal_holidays(year))], as_json)


@calendar.command("add-business-days")
def add_command(
    ctx: typer.Context,
    start: str = typer.Option(..., "--from"),
    count: int = typer.Option(..., "--count"),
    as_json: bool = JSON_OPTION,
) -> None:
    """The COUNT-th business day after a date, not counting the date itself (CAL-4)."""
    app = state(ctx).app()
    emit(
        {
            "from": start,
            "count": count,
            "day": add_business_days(_required_day(start), count, _closures(app)).isoformat(),
        },
        as_json,
    )


def _required_day(text: str) -> date:
    day = _day(text, "the day")
    assert day is not None
    return day
