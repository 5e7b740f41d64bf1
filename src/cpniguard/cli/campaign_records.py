"""`cpniguard campaigns show|list|complete|archive|disclosures|report`: a campaign's record, the
end of its life, and the SAFE-3 records (registered on the `campaigns` group in `main`)."""

from __future__ import annotations

import csv
from pathlib import Path

import typer

from cpniguard.campaigns.closing import archive_campaign, complete_campaign
from cpniguard.campaigns.report import (
    DISCLOSURE_COLUMNS,
    REPORT_COLUMNS,
    campaign_disclosures,
    campaign_report,
    disclosure_row,
)
from cpniguard.campaigns.review_queue import campaign_record
from cpniguard.cli.campaigns import BY, campaign_id_of
from cpniguard.cli.common import JSON_OPTION, emit, state
from cpniguard.delivery.campaign_report_pdf import campaign_report_pdf
from cpniguard.errors import InvalidInput
from cpniguard.views import campaign_view, record_view

CAMPAIGN_ID = typer.Argument(..., metavar="ID")
REASON = typer.Option("", "--reason", help="Why, in a sentence (kept with the transition).")


def show(ctx: typer.Context, campaign_id: str = CAMPAIGN_ID, as_json: bool = JSON_OPTION) -> None:
    """A campaign with its history, its audience counts (excluded by reason) and its disclosures."""
    app = state(ctx).app()
    emit(record_view(campaign_record(app.uow(), campaign_id_of(campaign_id))), as_json)


def list_command(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Every campaign."""
    app = state(ctx).app()
    with app.uow() as uow:
        found = uow.campaigns.all()
    emit([campaign_view(c) for c in found], as_json)


def complete(
    ctx: typer.Context, campaign_id: str = CAMPAIGN_ID, by: str = BY, reason: str = REASON, as_json: bool = JSON_OPTION
) -> None:
    """Complete a running campaign; its records are kept at least a year from now (SAFE-3, AMB-8)."""
    app = state(ctx).app()
    emit(campaign_view(complete_campaign(app.uow(), app.clock, campaign_id_of(campaign_id), by, reason)), as_json)


def archive(
    ctx: typer.Context, campaign_id: str = CAMPAIGN_ID, by: str = BY, reason: str = REASON, as_json: bool = JSON_OPTION
) -> None:
    """Archive a draft, rejected, approved (never run) or completed campaign; its records stay."""
    app = state(ctx).app()
    emit(campaign_view(archive_campaign(app.uow(), app.clock, campaign_id_of(campaign_id), by, reason)), as_json)


def disclosures(
    ctx: typer.Context,
    campaign_id: str = CAMPAIGN_ID,
    csv_out: Path | None = typer.Option(None, "--csv", help="Also write them as CSV here."),
    as_json: bool = JSON_OPTION,
) -> None:
    """SAFE-3: every disclosure of CPNI to a third party by this campaign's exports."""
    app = state(ctx).app()
    _writable(csv_out)
    rows = [disclosure_row(d) for d in campaign_disclosures(app.uow(), campaign_id_of(campaign_id))]
    if csv_out is not None:
        _write_csv(csv_out, DISCLOSURE_COLUMNS, rows)
    emit(rows, as_json)


def report(
    ctx: typer.Context,
    csv_out: Path | None = typer.Option(None, "--csv", help="Write the report as CSV here."),
    pdf_out: Path | None = typer.Option(None, "--pdf", help="Write the report as PDF here."),
    as_json: bool = JSON_OPTION,
) -> None:
    """SAFE-3: every campaign with its CPNI used, offer, reviews, audience, exclusions and disclosures."""
    app = state(ctx).app()
    _writable(csv_out)
    _writable(pdf_out)
    rows = campaign_report(app.uow())
    if csv_out is not None:
        _write_csv(csv_out, REPORT_COLUMNS, rows)
    if pdf_out is not None:
        pdf_out.write_bytes(campaign_report_pdf(rows, app.clock.now()))
    emit(rows, as_json)


def _writable(out: Path | None) -> None:
    if out is None:
        return
    if out.is_dir():
        raise InvalidInput(f"{out} is a folder")
    if not out.parent.is_dir():
        raise InvalidInput(f"no such folder: {out.parent}")


def _write_csv(out: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
