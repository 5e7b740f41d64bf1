"""The annual CPNI certification: due dates, the header, what keeps it a draft, and the
document itself as plain data (CERT-1..CERT-5, AMB-10). No I/O: the evidence comes in."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cpniguard.calendar import is_business_day, start_of_day
from cpniguard.errors import InvalidInput
from cpniguard.privacy_office.certification_controls import Finding, assess
from cpniguard.privacy_office.certification_evidence import (
    COMPLAINT_CATEGORIES,
    BreachRecord,
    BrokerProceeding,
    Signatory,
    YearEvidence,
)

DOCKET = "EB Docket No. 06-36"
FIRST_YEAR = 2000
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def check_reporting_year(year: int, today: date) -> int:
    """A year the carrier can certify: from 2000 to next year."""
    if not FIRST_YEAR <= year <= today.year + 1:
        raise InvalidInput(f"reporting year must be between {FIRST_YEAR} and {today.year + 1}, not {year}")
    return year


def first_of_march_after(year: int) -> date:
    """CERT-4: the certification covering `year` is due on 1 March of the next year."""
    return date(year + 1, 3, 1)


def legal_due(year: int, closures: Collection[date] = ()) -> date:
    """CERT-4, CAL-5: 1 March, or the next business day when the FCC is closed that day
    (a weekend, a holiday, a closure), as 47 CFR 1.4 computes filing deadlines."""
    day = first_of_march_after(year)
    while not is_business_day(day, closures):
        day += timedelta(days=1)
    return day


def internal_due(year: int, closures: Collection[date] = ()) -> date:
    """AMB-10: the carrier files by the last business day on or before 1 March, so the filing
    never depends on the roll-forward of 47 CFR 1.4 (its wording here is unverified)."""
    day = first_of_march_after(year)
    while not is_business_day(day, closures):
        day -= timedelta(days=1)
    return day


def month_bounds(year: int) -> list[tuple[datetime, datetime]]:
    """CERT-3: the twelve months of `year` in Eastern time, as UTC instants [start, end)."""
    starts = [date(year, month, 1) for month in range(1, 13)] + [date(year + 1, 1, 1)]
    return [(start_of_day(a), start_of_day(b)) for a, b in itertools.pairwise(starts)]


@dataclass(frozen=True, slots=True)
class Carrier:
    """The carrier's facts from settings (CERT-5)."""

    name: str
    form_499_id: str
    address: str = ""
    discipline_policy_id: str = ""


def header_gaps(carrier: Carrier, signatory: Signatory | None) -> list[str]:
    """CERT-1, CERT-5: what the header lacks before an officer can sign and file it."""
    gaps = []
    if signatory is None:
        gaps.append("CERT-1: no signatory named (a corporate officer signs the certificate)")
    elif not signatory.corporate_officer:
        gaps.append(f"CERT-1: {signatory.name} is not a corporate officer and cannot sign")
    if not carrier.name.strip():
        gaps.append("CERT-5: the carrier's name is not set (CPNIGUARD_CARRIER_NAME)")
    if not carrier.form_499_id.strip():
        gaps.append("CERT-5: the Form 499 Filer ID is not set (CPNIGUARD_FORM_499_ID)")
    return gaps


def opt_out_rates(opt_outs: Sequence[int], customers: Sequence[int]) -> list[float]:
    """Opt-outs in each month per hundred accounts open at its end."""
    return [round(100.0 * n / c, 3) if c else 0.0 for n, c in zip(opt_outs, customers, strict=True)]


@dataclass(frozen=True, slots=True)
class Certification:
    """The certificate, its accompanying statement and the CERT-3 information, as facts."""

    year: int
    filing_date: date
    due: date
    legal_due: date
    carrier: Carrier
    signatory: Signatory | None
    findings: tuple[Finding, ...]
    evidence: YearEvidence
    missing: tuple[str, ...]
    built_at: datetime

    @property
    def draft(self) -> bool:
        return bool(self.missing)


def assemble(
    evidence: YearEvidence,
    carrier: Carrier,
    signatory: Signatory | None,
    built_at: datetime,
    filing_date: date | None = None,
    closures: Collection[date] = (),
) -> Certification:
    """The certification for `evidence.year`; a draft while anything in `missing` is open."""
    year = evidence.year
    due = internal_due(year, closures)
    filed = filing_date or due
    if filed < date(year + 1, 1, 1):
        raise InvalidInput(f"the filing date {filed} is before the reporting year {year} has ended")
    findings = assess(evidence, carrier.discipline_policy_id)
    missing = header_gaps(carrier, signatory) + [gap for f in findings for gap in f.gaps]
    return Certification(
        year, filed, due, legal_due(year, closures), carrier, signatory, findings, evidence, tuple(missing), built_at
    )


def to_json(cert: Certification) -> dict[str, Any]:
    """The same facts as the PDF, machine-readable; the template reads these names too."""
    ev = cert.evidence
    return {
        "year": cert.year,
        "due": cert.due.isoformat(),
        "legal_due": cert.legal_due.isoformat(),
        "legal_due_rolled": cert.legal_due != first_of_march_after(cert.year),
        "filing_date": cert.filing_date.isoformat(),
        "built_at": cert.built_at.isoformat(),
        "draft": cert.draft,
        "missing": list(cert.missing),
        "header": _header(cert),
        "controls": [_finding(f) for f in cert.findings],
        "complaints": {category: ev.complaints.get(category, 0) for category in COMPLAINT_CATEGORIES},
        "complaints_total": sum(ev.complaints.get(category, 0) for category in COMPLAINT_CATEGORIES),
        "complaints_per_month": dict(zip(MONTHS, ev.complaints_by_month, strict=True)),
        "opt_outs_per_month": dict(zip(MONTHS, ev.opt_outs_by_month, strict=True)),
        "opt_out_rate_per_month": dict(
            zip(MONTHS, opt_out_rates(ev.opt_outs_by_month, ev.customers_by_month), strict=True)
        ),
        "data_broker_actions": [_broker(a) for a in ev.broker_actions],
        "pretexting": _pretexting(ev),
        "breaches": [_breach(b) for b in ev.breaches],
    }


def _header(cert: Certification) -> dict[str, Any]:
    s = cert.signatory
    return {
        "reporting_year": cert.year,
        "filing_date": cert.filing_date.isoformat(),
        "company_name": cert.carrier.name,
        "form_499_filer_id": cert.carrier.form_499_id,
        "carrier_address": cert.carrier.address,
        "signatory_name": s.name if s else "",
        "signatory_title": s.title if s else "",
        "signatory_is_officer": bool(s and s.corporate_officer),
        "docket": DOCKET,
        "discipline_policy_id": cert.carrier.discipline_policy_id,
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "id": f.control,
        "title": f.title,
        "citation": f.citation,
        "in_place": f.in_place,
        "evidence": list(f.evidence),
        "gaps": list(f.gaps),
    }


def _broker(a: BrokerProceeding) -> dict[str, Any]:
    return {"taken_on": a.taken_on.isoformat(), "forum": a.forum, "broker": a.broker, "description": a.description}


def _breach(b: BreachRecord) -> dict[str, Any]:
    def day(at: datetime | None) -> str | None:
        return at.date().isoformat() if at else None

    return {
        "title": b.title,
        "discovered_on": day(b.discovered_at),
        "determined_on": day(b.determined_at),
        "law_enforcement_notified_on": day(b.law_enforcement_notified_at),
        "customers_notified_on": day(b.customer_notices_at),
        "affected_count": b.affected_count,
        "intent": b.intent,
    }


def _pretexting(ev: YearEvidence) -> dict[str, Any]:
    """CERT-3: what the records show of attempts to get CPNI by pretence."""
    return {
        "alerts": dict(sorted(ev.alerts.items())),
        "suspected_pretexting_alerts": ev.alerts.get("pretexting-suspected", 0),
        "lockouts": ev.ledger_count("auth:", ":locked"),
        "failed_authentications": ev.ledger_count("auth:", ":failed"),
        "intentional_breaches": sum(1 for b in ev.breaches if b.intent == "intentional"),
    }
