"""Reports as PDF: a title, when it was made, and a table (fpdf2, core fonts, landscape)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fpdf import FPDF

from cpniguard.delivery.letters import latin1


def table_pdf(title: str, made_at: datetime, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """One table, columns sized by their content; long cells wrap within their column."""
    pdf = FPDF(orientation="landscape", unit="mm", format="letter")
    pdf.set_creation_date(made_at)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 6, latin1(f"Made {made_at.isoformat(timespec='seconds')}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 7)
    with pdf.table(text_align="LEFT", line_height=3.5) as table:
        table.row([latin1(h) for h in headers])
        for row in rows:
            table.row([latin1(str(cell)) for cell in row])
    return bytes(pdf.output())
