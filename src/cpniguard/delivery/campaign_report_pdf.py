"""The SAFE-3 campaign report as PDF, for the CLI (`campaigns report --pdf`) and the API."""

from __future__ import annotations

from datetime import datetime

from cpniguard.calendar import EASTERN
from cpniguard.campaigns.report import REPORT_COLUMNS
from cpniguard.delivery.report_pdf import table_pdf

TITLE = "CPNI marketing campaigns (SAFE-3)"


# What fits a landscape page; the CSV has every column (the campaign id, offer category, segment).
PDF_COLUMNS = [c for c in REPORT_COLUMNS if c not in ("campaign", "offer_category", "segment")]


def campaign_report_pdf(rows: list[dict[str, str]], made_at: datetime) -> bytes:
    """One row per campaign, made at `made_at` shown in Eastern time."""
    columns = PDF_COLUMNS
    body = [[row[c] for c in columns] for row in rows]
    return table_pdf(TITLE, made_at.astimezone(EASTERN), columns, body)
