"""`cpniguard users ...` and `cpniguard campaigns ...`: staff and the campaign workflow."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import typer

from cpniguard.access.model import User
from cpniguard.access.web import set_staff_password
from cpniguard.campaigns.model import CampaignChannel, Recipient
from cpniguard.campaigns.service import (
    EXPORT_COLUMNS,
    CampaignSpec,
    add_user,
    build_audience,
    create_campaign,
    export_audience,
    export_row,
    review_campaign,
    submit_campaign,
)
from cpniguard.cli.common import AT_OPTION, JSON_OPTION, emit, progress, state, when
from cpniguard.cli.credentials import read_secret
from cpniguard.customers.model import ServiceCategory, parse_enum
from cpniguard.decisions.model import parse_purpose
from cpniguard.errors import InvalidInput
from cpniguard.ids import parse_uuid
from cpniguard.privacy_office.staff import grant_role
from cpniguard.views import campaign_view, iso

users = typer.Typer(no_args_is_help=True, help="Staff users and their roles.")
campaigns = typer.Typer(no_args_is_help=True, help="Marketing campaigns: review by the CRO, audiences, exports.")

BY = typer.Option(..., "--by", help="The staff user acting (see `cpniguard users add`).")


def campaign_id_of(text: str) -> uuid.UUID:
    return parse_uuid(text, "campaign")


def _user_view(user: User) -> dict[str, object]:
    return {
        "id": str(user.id),
        "name": user.name,
        "roles": sorted(user.roles),
        "corporate_officer": user.corporate_officer,
        "title": user.title,
        "created_at": iso(user.created_at),
    }


@users.command("add")
def users_add(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="The person's name as the ledger records it."),
    role: list[str] = typer.Option(
        ..., "--role", help="agent, marketing, cro, supervisor, privacy-officer, auditor, admin."
    ),
    officer: bool = typer.Option(False, "--officer", help="A corporate officer: may sign the certificate (CERT-1)."),
    title: str = typer.Option("", "--title", help="Their title, as the certificate names it (CERT-5)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a member of staff with one or more roles; roles that open CPNI need current training (SAFE-2)."""
    st = state(ctx)
    app = st.app()
    emit(_user_view(add_user(app.uow(), app.clock, st.actor(), name, frozenset(role), officer, title)), as_json)


@users.command("grant")
def users_grant(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name", help="The member of staff."),
    role: str = typer.Option(..., "--role", help="The role to add; one that opens CPNI needs current training."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Give a member of staff one more role (SAFE-2: CPNI roles only with current training)."""
    st = state(ctx)
    app = st.app()
    emit(_user_view(grant_role(app.uow(), app.clock, st.actor(), name, role)), as_json)


@users.command("list")
def users_list(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Every member of staff and their roles."""
    app = state(ctx).app()
    with app.uow() as uow:
        found = uow.users.all()
    emit([_user_view(u) for u in found], as_json)


@users.command("password")
def users_password(ctx: typer.Context, name: str = typer.Option(..., "--name")) -> None:
    """Set the console password of a member of staff, read from standard input (12 characters or more)."""
    st = state(ctx)
    app = st.app()
    set_staff_password(app.uow(), app.clock, st.actor(), app.auth.hasher, name, read_secret("console password"))
    emit({"user": name, "password": "set"}, False)


@campaigns.command("create")
def create(
    ctx: typer.Context,
    name: str = typer.Option(..., "--name"),
    purpose: str = typer.Option(
        ..., "--purpose", help="marketing-subscribed, marketing-communications, marketing-third-party."
    ),
    offer: str = typer.Option(..., "--offer", help="The product or service offered."),
    category: str | None = typer.Option(None, "--offer-category", help="Its service category (marketing-subscribed)."),
    not_communications: bool = typer.Option(
        False, "--non-communications", help="The offer is not communications-related."
    ),
    cpni: list[str] = typer.Option([], "--cpni", help="CPNI used: services, call-detail, usage, bills, location."),
    recipient: list[str] = typer.Option(
        [], "--recipient", help="carrier, affiliate, agent, joint-venture, third-party."
    ),
    channel: str = typer.Option("email", "--channel", help="How customers are reached: email, mail, phone, sms."),
    asks_for_approval: bool = typer.Option(
        False, "--asks-for-approval", help="An outbound request for the customers' approval (SAFE-4)."
    ),
    description: str = typer.Option("", "--description", help="What the campaign is, in a sentence or two."),
    segment: str | None = typer.Option(None, "--segment", help="Audience criterion: customers who subscribe to it."),
    by: str = BY,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a draft campaign."""
    app = state(ctx).app()
    spec = CampaignSpec(
        name,
        parse_purpose(purpose),
        offer,
        parse_enum(ServiceCategory, category, "service category") if category else None,
        not not_communications,
        tuple(cpni) or ("services",),
        tuple(parse_enum(Recipient, r, "recipient") for r in recipient) or (Recipient.CARRIER,),
        parse_enum(CampaignChannel, channel, "channel"),
        asks_for_approval,
        description,
        parse_enum(ServiceCategory, segment, "service category") if segment else None,
    )
    emit(campaign_view(create_campaign(app.uow(), app.clock, spec, by)), as_json)


@campaigns.command("submit")
def submit(
    ctx: typer.Context, campaign_id: str = typer.Argument(..., metavar="ID"), by: str = BY, as_json: bool = JSON_OPTION
) -> None:
    """Submit for review; prints the approval each customer needs. An unlawful design is refused."""
    app = state(ctx).app()
    campaign, needed = submit_campaign(app.uow(), app.clock, campaign_id_of(campaign_id), by)
    emit({**campaign_view(campaign), "customer_approval_needed": needed.value}, as_json)


def _review(ctx: typer.Context, campaign_id: str, by: str, reason: str, approve: bool, as_json: bool) -> None:
    app = state(ctx).app()
    emit(
        campaign_view(review_campaign(app.uow(), app.clock, campaign_id_of(campaign_id), by, approve, reason)), as_json
    )


@campaigns.command("approve")
def approve(
    ctx: typer.Context,
    campaign_id: str = typer.Argument(..., metavar="ID"),
    by: str = BY,
    reason: str = typer.Option(..., "--reason"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Approve a submitted campaign: a CRO or supervisor who did not submit it (SAFE-4)."""
    _review(ctx, campaign_id, by, reason, True, as_json)


@campaigns.command("reject")
def reject(
    ctx: typer.Context,
    campaign_id: str = typer.Argument(..., metavar="ID"),
    by: str = BY,
    reason: str = typer.Option(..., "--reason"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Reject a submitted campaign, with the reason."""
    _review(ctx, campaign_id, by, reason, False, as_json)


@campaigns.command("audience")
def audience(
    ctx: typer.Context,
    campaign_id: str = typer.Argument(..., metavar="ID"),
    at: str | None = AT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Build and freeze the audience of an approved campaign: included, and excluded by reason."""
    st = state(ctx)
    app = st.app()
    with progress("deciding for every customer", None):  # an indeterminate bar: one SQL statement
        outcome = build_audience(
            app.uow(), app.clock, st.actor(), campaign_id_of(campaign_id), when(at, app) if at else None
        )
    emit({"campaign": campaign_id, "included": outcome.included, "excluded": outcome.denied}, as_json)


@campaigns.command("export")
def export(
    ctx: typer.Context,
    campaign_id: str = typer.Argument(..., metavar="ID"),
    out: Path = typer.Option(..., "--out", help="The CSV file to write."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write the audience, re-checked against consent now, as CSV; records third-party disclosures."""
    st = state(ctx)
    app = st.app()
    if out.exists() and out.is_dir():
        raise InvalidInput(f"--out {out} is a folder")
    if not out.parent.is_dir():  # refused before the export records disclosures no file would hold
        raise InvalidInput(f"--out {out}: no folder {out.parent}")
    done = export_audience(app.uow(), app.clock, st.actor(), campaign_id_of(campaign_id))
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows(export_row(campaign_id, row) for row in done.rows)
    result = {"export": str(done.export_id), "customers": len(done.customers), "removed_since_build": done.removed}
    emit({**result, "disclosures": done.disclosures, "file": str(out)}, as_json)
