"""The annual CPNI certification over HTTP (CERT-1..CERT-5).

A build answers with the same JSON document as `cpniguard certification build --json` and a
link to its PDF; the PDF is printed again on request from what the build recorded.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import Field

from cpniguard.api.auth import Reader, Writer
from cpniguard.api.bodies import Body
from cpniguard.api.deps import AppDep, YearQuery
from cpniguard.api.errors import ERROR_RESPONSES, json_refusals
from cpniguard.api.responses import Out
from cpniguard.bootstrap import App
from cpniguard.calendar import EARLIEST_YEAR, LATEST_YEAR
from cpniguard.delivery.certification_pdf import load_statement, render_certification
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

router = APIRouter(tags=["certification"], responses=ERROR_RESPONSES)


class CertificationIn(Body):
    year: int = Field(
        ge=EARLIEST_YEAR,
        le=LATEST_YEAR,
        description="The reporting year (the calendar year certified)",
        examples=[2026],
    )
    signatory: str | None = Field(default=None, max_length=200, description="The corporate officer who signs")
    filing_date: date | None = Field(default=None, description="The date filed; the due date when absent")


class CertificationListed(Out):
    id: str
    year: int
    built_at: str | None
    built_by: str
    signatory: str | None
    draft: bool
    pdf_sha256: str
    pdf: str


def _carrier(app: App) -> Carrier:
    s = app.settings
    return Carrier(s.carrier_name, s.form_499_id, s.carrier_address, s.discipline_policy_id)


def _links(certification_id: str) -> dict[str, str]:
    return {"self": f"/certifications/{certification_id}", "pdf": f"/certifications/{certification_id}/pdf"}


def _listed(r: CertificationRecord) -> CertificationListed:
    return CertificationListed(
        id=str(r.id),
        year=r.year,
        built_at=iso(r.built_at),
        built_by=r.built_by,
        signatory=r.signatory,
        draft=r.draft,
        pdf_sha256=r.pdf_sha256,
        pdf=_links(str(r.id))["pdf"],
    )


@router.post("/certifications", status_code=201)
def build(body: CertificationIn, app: AppDep, actor: Writer) -> dict[str, Any]:
    """Build the certification for a year from the records and record the build. It is a draft,
    listing what is `missing`, until an officer signs (CERT-1), the carrier's name and Form 499
    Filer ID are set (CERT-5) and every control of the inventory shows evidence (CERT-2)."""
    request = BuildRequest(body.year, body.signatory, body.filing_date)
    statement = load_statement(app.settings.certification_template)
    built = build_certification(app.uow(), app.clock, actor, request, _carrier(app), statement, render_certification)
    cid = str(built.record.id)
    return {**built.document, "pdf_sha256": built.record.pdf_sha256, "links": _links(cid)}


@router.get("/certifications")
def list_builds(app: AppDep, actor: Reader, year: YearQuery = None) -> list[CertificationListed]:
    """Every certification built, newest first; those of one reporting year with `year`."""
    return [_listed(r) for r in list_certifications(app.uow(), year)]


@router.get("/certifications/{certification_id}")
def show(certification_id: str, app: AppDep, actor: Reader) -> dict[str, Any]:
    """The JSON document a build recorded."""
    record = certification_record(app.uow(), parse_uuid(certification_id, "certification"))
    return {**document_of(record), "pdf_sha256": record.pdf_sha256, "links": _links(str(record.id))}


@router.get(
    "/certifications/{certification_id}/pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The certification as PDF"},
        **json_refusals(),
    },
)
def pdf(certification_id: str, app: AppDep, actor: Reader) -> Response:
    """The PDF of a build, printed again from what it recorded. `X-Matches-Recorded` says
    whether its SHA-256 is the one recorded when it was built."""
    cid = parse_uuid(certification_id, "certification")
    data, matches = certification_pdf(app.uow(), cid, render_certification)
    headers = {
        "Content-Disposition": f'attachment; filename="cpni-certification-{cid}.pdf"',
        "X-Matches-Recorded": "true" if matches else "false",
    }
    return Response(data, media_type="application/pdf", headers=headers)
