"""`cpniguard certification ...`: the annual CPNI certification (CERT-1..CERT-5)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from datetime import date
from pathlib import Path

import typer

from cpniguard.bootstrap import App
from cpniguard.cli.common import JSON_OPTION, emit, state
from cpniguard.delivery.certification_pdf import load_statement, render_certification
from cpniguard.errors import InvalidInput
from cpniguard.ids import parse_uuid
from cpniguard.privacy_office.certification import Carrier
from cpniguard.privacy_office.certification_evidence import CertificationRecord
from cpniguard.privacy_office.certification_service import (
    BuildRequest,
    build_certification,
    certification_pdf,
    certification_record,
    document_of,
    list_certifications,
)
from cpniguard.views import iso

certification = typer.Typer(no_args_is_help=True, help="The annual CPNI certification filed with the FCC.")

OUT = typer.Option(..., "--out", help="The PDF file to write.")


def carrier_of(app: App) -> Carrier:
    s = app.settings
    return Carrier(s.carrier_name, s.form_499_id, s.carrier_address, s.discipline_policy_id)


class StagedPdf:
    """The PDF goes to a hidden file beside --out before the build commits, and takes its name
    after: a PDF that cannot be written records nothing, and a build that fails leaves --out as
    it was. The hidden file is made first, so an unwritable folder is refused before any work."""

    def __init__(self, out: Path) -> None:
        if out.is_dir():
            raise InvalidInput(f"--out {out} is a folder")
        if not out.parent.is_dir():
            raise InvalidInput(f"--out {out}: no folder {out.parent}")
        self.out = out
        try:
            fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
        except OSError as exc:
            raise InvalidInput(f"--out {out}: cannot write the PDF ({exc.strerror or exc})") from None
        os.close(fd)
        self.staged = Path(name)

    def keep(self, pdf: bytes) -> None:
        try:
            with self.staged.open("wb") as handle:
                handle.write(pdf)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise InvalidInput(f"--out {self.out}: cannot write the PDF ({exc.strerror or exc})") from None

    def publish(self) -> None:
        os.replace(self.staged, self.out)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.staged.unlink()


def _filing_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"--filing-date must be a date like 2027-02-26, not {text!r}") from None


@certification.command("build")
def build(
    ctx: typer.Context,
    year: int = typer.Option(..., "--year", help="The reporting year (the calendar year certified)."),
    out: Path = OUT,
    signatory: str | None = typer.Option(None, "--signatory", help="The corporate officer who signs (CERT-1)."),
    filing_date: str | None = typer.Option(None, "--filing-date", help="The date filed; default: the due date."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Build a year's certification from the records; a draft until nothing is missing.

    A draft until a corporate officer signs, the carrier's name and Form 499 Filer ID are set,
    and every control shows evidence for the year (CERT-1, CERT-2, CERT-5)."""
    st = state(ctx)
    app = st.app()
    request = BuildRequest(year, signatory, _filing_date(filing_date))
    statement = load_statement(app.settings.certification_template)
    staged = StagedPdf(out)
    try:
        built = build_certification(
            app.uow(), app.clock, st.actor(), request, carrier_of(app), statement, render_certification, staged.keep
        )
        staged.publish()
    except BaseException:
        staged.discard()
        raise
    emit({**built.document, "pdf": str(out), "pdf_sha256": built.record.pdf_sha256}, as_json)


def _listed(record: CertificationRecord) -> dict[str, object]:
    return {
        "id": str(record.id),
        "year": record.year,
        "built_at": iso(record.built_at),
        "built_by": record.built_by,
        "signatory": record.signatory,
        "draft": record.draft,
        "pdf_sha256": record.pdf_sha256,
    }


@certification.command("list")
def list_command(
    ctx: typer.Context,
    year: int | None = typer.Option(None, "--year", help="Only the builds for this reporting year."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Every certification built, newest first."""
    app = state(ctx).app()
    emit([_listed(r) for r in list_certifications(app.uow(), year)], as_json)


@certification.command("show")
def show(ctx: typer.Context, certification_id: str, as_json: bool = JSON_OPTION) -> None:
    """The recorded document of one build."""
    app = state(ctx).app()
    found = certification_record(app.uow(), parse_uuid(certification_id, "certification"))
    emit({**_listed(found), "document": document_of(found)}, as_json)


@certification.command("pdf")
def pdf(ctx: typer.Context, certification_id: str, out: Path = OUT, as_json: bool = JSON_OPTION) -> None:
    """Print a recorded build again, from what was recorded when it was built."""
    app = state(ctx).app()
    data, matches = certification_pdf(app.uow(), parse_uuid(certification_id, "certification"), render_certification)
    staged = StagedPdf(out)
    try:
        staged.keep(data)
        staged.publish()
    finally:
        staged.discard()
    emit({"certification": certification_id, "pdf": str(out), "matches_recorded_sha256": matches}, as_json)
