"""The annual certification as PDF (fpdf2, core fonts): the statement's rendered lines, the
charts drawn with fpdf2's own lines and rectangles, and a DRAFT mark on every page of a draft.

The same document and text give the same bytes (the creation date is the build's), so a build
printed again can be checked against the SHA-256 recorded when it was built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from fpdf import FPDF

from cpniguard.delivery.letters import latin1
from cpniguard.privacy_office.certification_service import Statement
from cpniguard.privacy_office.certification_statement import SHIPPED_TEMPLATE, TemplateProblem, chart_name

MARGIN = 20.0
CHART_HEIGHT = 55.0
GREY, BAR, RED = (120, 120, 120), (52, 101, 164), (200, 30, 30)


def load_statement(path: str) -> Statement:
    """The carrier's template (the `certification_template` setting), else the shipped one."""
    if not path.strip():
        shipped = resources.files("cpniguard.privacy_office").joinpath("templates", SHIPPED_TEMPLATE)
        return Statement(shipped.read_text(encoding="utf-8"), f"(shipped {SHIPPED_TEMPLATE})")
    try:
        return Statement(Path(path).read_text(encoding="utf-8"), path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise TemplateProblem(f"the certification template {path} cannot be read: {reason}") from None


class _Pages(FPDF):
    def __init__(self, document: Mapping[str, Any]) -> None:
        super().__init__(orientation="portrait", unit="mm", format="letter")
        self.document = document

    def header(self) -> None:
        if not self.document.get("draft"):
            return
        # A draft cannot pass for a filing: the mark is on every page, not only the first.
        with self.local_context(text_color=RED):
            self.set_font("Helvetica", "B", 11)
            self.set_xy(MARGIN, 8)
            missing = len(self.document.get("missing", ()))
            items = "1 item" if missing == 1 else f"{missing} items"
            self.cell(0, 5, latin1(f"DRAFT - not for filing: {items} missing"), align="C")
            self.set_font("Helvetica", "B", 90)
            with self.local_context(fill_opacity=0.12), self.rotation(45, self.w / 2, self.h / 2):
                self.text(self.w / 2 - 70, self.h / 2 + 12, "DRAFT")
        self.set_y(MARGIN)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("Helvetica", "", 8)
        with self.local_context(text_color=GREY):
            docket = self.document.get("header", {}).get("docket", "")
            self.cell(0, 5, latin1(f"{docket} - reporting year {self.document.get('year')}"), align="L")
            self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")


def render_certification(document: Mapping[str, Any], statement: str) -> bytes:
    """The PDF of a certification document and its rendered statement text."""
    pdf = _Pages(document)
    pdf.set_creation_date(datetime.fromisoformat(str(document["built_at"])))
    pdf.set_title(latin1(f"CPNI certification {document.get('year')}"))
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    lines = [line.rstrip() for line in statement.splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("#") and pdf.will_page_break(_room_after(lines[index + 1 :])):
            pdf.add_page()  # a heading stays with what follows it, a chart included
        _line(pdf, document, line)
    return bytes(pdf.output())


def _room_after(following: Sequence[str]) -> float:
    """The height a heading needs below it: a chart of its section, or a few lines."""
    for line in following[:4]:
        if line.startswith("#"):
            break
        if chart_name(line) is not None:
            return CHART_HEIGHT + 30
    return 25


def _line(pdf: FPDF, document: Mapping[str, Any], line: str) -> None:
    chart = chart_name(line)
    if chart is not None:
        _chart(pdf, document, chart)
    elif line.strip() == "[[page-break]]":
        pdf.add_page()
    elif line.startswith("# "):
        _write(pdf, line[2:], size=15, style="B", height=8, gap=2)
    elif line.startswith("## "):
        _write(pdf, line[3:], size=11.5, style="B", height=6, gap=1, before=3)
    elif line.lstrip().startswith("- "):
        _write(pdf, "- " + line.lstrip()[2:], size=10, indent=5)
    elif line.strip():
        _write(pdf, line, size=10)
    else:
        pdf.ln(3)


def _write(
    pdf: FPDF,
    text: str,
    size: float,
    style: str = "",
    height: float = 5,
    gap: float = 0.5,
    indent: float = 0,
    before: float = 0,
) -> None:
    pdf.ln(before)
    pdf.set_font("Helvetica", style, size)
    pdf.set_x(MARGIN + indent)
    pdf.multi_cell(pdf.epw - indent, height, latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(gap)


def _chart(pdf: FPDF, document: Mapping[str, Any], name: str) -> None:
    series: Mapping[str, float] = document[name]
    title = "Complaints received per month" if name == "complaints_per_month" else "Opt-outs per 100 accounts, by month"
    decimals = 0 if name == "complaints_per_month" else 2
    if pdf.will_page_break(CHART_HEIGHT + 14):
        pdf.add_page()
    _write(pdf, title, size=9.5, style="B", gap=1)
    _bars(pdf, list(series), [float(v) for v in series.values()], decimals)


def _bars(pdf: FPDF, labels: Sequence[str], values: Sequence[float], decimals: int) -> None:
    """A bar per month on a baseline, each labelled with its value."""
    left, top, width = MARGIN + 8, pdf.get_y() + 4, pdf.epw - 8
    base = top + CHART_HEIGHT - 10
    highest = max(values, default=0) or 1
    slot = width / max(len(values), 1)
    pdf.set_draw_color(*GREY)
    pdf.line(left, base, left + width, base)
    pdf.line(left, top, left, base)
    pdf.set_font("Helvetica", "", 7)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * slot + slot * 0.2
        height = (base - top - 6) * value / highest
        with pdf.local_context(fill_color=BAR):
            if height > 0:
                pdf.rect(x, base - height, slot * 0.6, height, style="F")
        pdf.text(x, base - height - 1.2, f"{value:.{decimals}f}")
        pdf.text(x, base + 4, label)
    pdf.set_y(base + 8)
