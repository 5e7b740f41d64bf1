"""Postal letters as PDF files in a daily print batch. The address block sits where a US #10
window envelope shows it, so the print shop folds and stuffs without addressing anything by hand.
Core PDF fonts keep the files the same on every machine; they cover Latin-1, which holds English
and German, and anything beyond it is transliterated rather than dropped."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.errors import FPDFException

from cpniguard.clock import Clock
from cpniguard.delivery.folder import file_stem, write_atomically
from cpniguard.ports import DeliveryFailed, Envelope


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle on the page, in inches from the top-left corner."""

    left: float
    top: float
    width: float
    height: float


# US Letter, folded in thirds into a #10 window envelope (window 4.5in x 1.125in).
PAGE_WIDTH, PAGE_HEIGHT = 8.5, 11.0
RETURN_ADDRESS = Box(left=0.5, top=0.5, width=3.5, height=1.0)
ADDRESS_WINDOW = Box(left=0.875, top=2.0, width=4.5, height=1.125)
ADDRESS_LINE_HEIGHT = 0.17  # 10pt text: six lines fit the window
TEXT_TOP, MARGIN = 3.5, 0.875
_MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"),
}  # fmt: skip
_ENCLOSURE = {"en": "Enclosure", "de": "Anlage"}
_TYPOGRAPHY = str.maketrans({"„": '"', "“": '"', "”": '"', "‚": "'", "‘": "'", "’": "'", "–": "-", "—": "-",
                             "…": "...", "€": "EUR", "•": "*"})  # fmt: skip


class PdfLetterPrinter:
    """Writes each letter once to `<folder>/<YYYY-MM-DD>/<idempotency_key>.pdf` (the day's batch)."""

    def __init__(self, folder: Path, return_address: str, clock: Clock) -> None:
        self._folder = Path(folder)
        self._return_address = return_address
        self._clock = clock

    def send(self, envelope: Envelope) -> str:
        stem = file_stem(envelope.idempotency_key)
        if printed := self._already_printed(stem):  # a retry, perhaps on a later day: never a second letter
            return str(printed)
        at = self._clock.now()
        data = render_letter(envelope, self._return_address, at)
        path = self._folder / at.date().isoformat() / f"{stem}.pdf"
        try:
            write_atomically(path, data)
        except OSError as exc:
            raise DeliveryFailed(
                f"could not write the letter to {path.parent}: {exc.strerror}", transient=True
            ) from exc
        return str(path)

    def _already_printed(self, stem: str) -> Path | None:
        return next(self._folder.glob(f"*/{stem}.pdf"), None)  # one lookup per batch folder


def render_letter(envelope: Envelope, return_address: str, at: datetime) -> bytes:
    """The letter as PDF bytes; DeliveryFailed (permanent) if the address cannot fit the window."""
    pdf = FPDF(orientation="portrait", unit="in", format="letter")
    pdf.set_creation_date(at)  # the same letter renders to the same bytes
    pdf.set_margins(left=MARGIN, top=0.75, right=MARGIN)
    pdf.set_auto_page_break(auto=True, margin=0.75)
    pdf.add_page()
    try:
        _return_address(pdf, return_address)
        _address_block(pdf, envelope.recipient)
        _letter_text(pdf, envelope, at.date())
        _enclosure(pdf, envelope)
    except FPDFException as exc:
        raise DeliveryFailed(f"letter cannot be laid out: {exc}", transient=False) from None
    return bytes(pdf.output())


def _return_address(pdf: FPDF, return_address: str) -> None:
    pdf.set_font("Helvetica", size=8)
    pdf.set_xy(RETURN_ADDRESS.left, RETURN_ADDRESS.top)
    pdf.multi_cell(RETURN_ADDRESS.width, 0.14, latin1(return_address), align="L")


def _address_block(pdf: FPDF, recipient: str) -> None:
    lines = [latin1(line.strip()) for line in recipient.splitlines() if line.strip()]
    if not lines or len(lines) * ADDRESS_LINE_HEIGHT > ADDRESS_WINDOW.height:
        raise DeliveryFailed("postal address must have 1 to 6 lines to show in the envelope window", transient=False)
    pdf.set_font("Helvetica", size=10)
    if max(pdf.get_string_width(line) for line in lines) + 2 * pdf.c_margin > ADDRESS_WINDOW.width:
        raise DeliveryFailed("a postal address line is wider than the envelope window", transient=False)
    pdf.set_xy(ADDRESS_WINDOW.left, ADDRESS_WINDOW.top)
    for line in lines:  # one cell per line: nothing wraps out of the window
        pdf.cell(ADDRESS_WINDOW.width, ADDRESS_LINE_HEIGHT, line, new_x=XPos.LEFT, new_y=YPos.NEXT)


def _letter_text(pdf: FPDF, envelope: Envelope, day: date) -> None:
    pdf.set_xy(MARGIN, TEXT_TOP)
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 0.2, letter_date(day, envelope.language), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(0.2)
    pdf.set_font("Helvetica", style="B", size=11)
    pdf.multi_cell(0, 0.2, latin1(envelope.subject), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(0.15)
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 0.18, latin1(envelope.body), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _enclosure(pdf: FPDF, envelope: Envelope) -> None:
    if envelope.attachment is None:
        return
    name = latin1(envelope.attachment_name or "attachment")
    pdf.ln(0.2)
    pdf.cell(0, 0.18, f"{_ENCLOSURE.get(envelope.language, 'Enclosure')}: {name}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    try:
        text = envelope.attachment.decode("utf-8")
    except UnicodeDecodeError:
        return  # not text: named as enclosed, printed by whoever handles such enclosures
    pdf.add_page()
    pdf.set_font("Courier", size=8)
    pdf.multi_cell(0, 0.13, latin1(text), align="L", wrapmode=WrapMode.CHAR)


def letter_date(day: date, language: str) -> str:
    """`March 2, 2026` or `2. März 2026`, without depending on the machine's locale."""
    if language == "de":
        return f"{day.day}. {_MONTHS['de'][day.month - 1]} {day.year}"
    return f"{_MONTHS['en'][day.month - 1]} {day.day}, {day.year}"


def latin1(text: str) -> str:
    """What the core fonts can print: typographic marks made plain, accents stripped from letters
    outside Latin-1 (ő -> o), and `?` for the rest."""
    return "".join(ch if ord(ch) < 256 else _plain(ch) for ch in text.translate(_TYPOGRAPHY))


def _plain(ch: str) -> str:
    kept = "".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) < 256 and not unicodedata.combining(c))
    return kept or "?"
