"""Use cases of the annual certification: build it from the year's records, list the builds,
print one again (CERT-1..CERT-5).

A build reads the year's evidence, assembles the document, renders its statement and PDF, and
records the build with its ledger entry in one unit of work. The PDF is handed to `keep_pdf`
before the commit, so a PDF that cannot be written leaves no record behind.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.calendar import eastern_date
from cpniguard.clock import Clock
from cpniguard.errors import InvalidInput, NotFound
from cpniguard.ids import new_id
from cpniguard.ports import UnitOfWork
from cpniguard.privacy_office.certification import (
    Carrier,
    Certification,
    assemble,
    check_reporting_year,
    month_bounds,
    to_json,
)
from cpniguard.privacy_office.certification_evidence import CertificationRecord, Signatory
from cpniguard.privacy_office.certification_statement import render_statement

PdfPrinter = Callable[[Mapping[str, Any], str], bytes]  # (document, statement text) -> PDF


@dataclass(frozen=True, slots=True)
class BuildRequest:
    year: int
    signatory: str | None = None
    filing_date: date | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    """The carrier's template text and where it came from (for error messages)."""

    template: str
    source: str


@dataclass(frozen=True, slots=True)
class Built:
    record: CertificationRecord
    document: dict[str, Any]
    pdf: bytes


def build_certification(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    request: BuildRequest,
    carrier: Carrier,
    statement: Statement,
    print_pdf: PdfPrinter,
    keep_pdf: Callable[[bytes], None] = lambda pdf: None,
) -> Built:
    """Builds, records and returns the certification for `request.year`; a draft, listing what
    is missing, unless an officer signs and every control shows evidence."""
    now = clock.now()
    year = check_reporting_year(request.year, eastern_date(now))
    with uow:
        signatory = _signatory(uow, request.signatory)
        evidence = uow.evidence.year(year, month_bounds(year))
        closures = uow.evidence.closure_days(date(year + 1, 2, 1), date(year + 1, 3, 31))
        cert = assemble(evidence, carrier, signatory, now, request.filing_date, closures)
        cid = new_id()
        document = {"id": str(cid), **to_json(cert)}
        text = render_statement(statement.template, document, statement.source)
        pdf = print_pdf(document, text)
        record = CertificationRecord(
            cid, year, now, actor.label, request.signatory, cert.draft, _content(document, text), _sha256(pdf)
        )
        uow.evidence.add_certification(record)
        uow.audit.add(AuditEntry.of("privacy:certification:built", actor, now, details=_ledger_details(record, cert)))
        keep_pdf(pdf)
        uow.commit()
    return Built(record, document, pdf)


def list_certifications(uow: UnitOfWork, year: int | None) -> list[CertificationRecord]:
    """Every build, newest first; those of `year` when given."""
    with uow:
        return uow.evidence.certifications(year)


def certification_record(uow: UnitOfWork, certification_id: uuid.UUID) -> CertificationRecord:
    with uow:
        record = uow.evidence.certification(certification_id)
    if record is None:
        raise NotFound(f"unknown certification: {certification_id}")
    return record


def certification_pdf(uow: UnitOfWork, certification_id: uuid.UUID, print_pdf: PdfPrinter) -> tuple[bytes, bool]:
    """The PDF of a recorded build, printed again from what was recorded (the statement text
    as rendered then, not today's template); True when it matches the recorded SHA-256."""
    record = certification_record(uow, certification_id)
    content = json.loads(record.content)
    text = content.pop("statement")
    pdf = print_pdf(content, text)
    return pdf, _sha256(pdf) == record.pdf_sha256


def document_of(record: CertificationRecord) -> dict[str, Any]:
    """The recorded JSON document without the statement's text."""
    content: dict[str, Any] = json.loads(record.content)
    content.pop("statement", None)
    return content


def _signatory(uow: UnitOfWork, name: str | None) -> Signatory | None:
    if name is None:
        return None
    found = uow.evidence.signatory(name)
    if found is None:
        raise InvalidInput(f"unknown signatory: {name!r} (add the officer with `cpniguard users add`)")
    return found


def _content(document: Mapping[str, Any], text: str) -> str:
    # Key order kept: the months of a chart are in calendar order, and a reprint must match.
    return json.dumps({**document, "statement": text}, ensure_ascii=False)


def _sha256(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


def _ledger_details(record: CertificationRecord, cert: Certification) -> dict[str, object]:
    return {
        "certification": str(record.id),
        "year": record.year,
        "signatory": record.signatory,
        "draft": record.draft,
        "missing": len(cert.missing),
        "pdf_sha256": record.pdf_sha256,
    }
