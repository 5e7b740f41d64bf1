"""What the system's own records say about a reporting year: the facts the annual certification
is assembled from (CERT-2, CERT-3). Plain values; `EvidenceReader` reads them set-based."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

# CERT-3: the FCC template counts complaints about improper employee access, disclosure to
# unauthorised individuals and online access; the register adds "other" for the rest.
COMPLAINT_CATEGORIES = ("employee-access", "unauthorized-disclosure", "online-access", "other")


@dataclass(frozen=True, slots=True)
class Signatory:
    """The member of staff who signs (CERT-1: must be a corporate officer)."""

    name: str
    title: str
    corporate_officer: bool


@dataclass(frozen=True, slots=True)
class BreachRecord:
    """One incident discovered in the year, as the breach records keep it (BREACH-6)."""

    title: str
    discovered_at: datetime
    determined_at: datetime | None
    law_enforcement_notified_at: datetime | None
    law_enforcement_pending_reason: str
    customer_notices_at: datetime | None
    affected_count: int | None
    intent: str


@dataclass(frozen=True, slots=True)
class BrokerProceeding:
    """A proceeding or petition against a data broker (CERT-3)."""

    taken_on: date
    forum: str
    broker: str
    description: str


@dataclass(frozen=True, slots=True)
class TrainingCoverage:
    """SAFE-2: training records that counted during the year, and the people they cover."""

    records: int = 0
    people_trained: int = 0
    current_at_year_end: int = 0


def _twelve() -> tuple[int, ...]:
    return (0,) * 12


@dataclass(frozen=True, slots=True)
class YearEvidence:
    """Counts for 1 January to 31 December of `year`, Eastern time. Months are January first."""

    year: int
    ledger: Mapping[str, int] = field(default_factory=dict)  # audit action -> entries
    notices: Mapping[str, int] = field(default_factory=dict)  # outbox event -> messages queued
    notices_delivered: Mapping[str, int] = field(default_factory=dict)  # outbox event -> delivered
    complaints: Mapping[str, int] = field(default_factory=dict)  # category -> complaints received
    complaints_by_month: tuple[int, ...] = field(default_factory=_twelve)
    opt_outs_by_month: tuple[int, ...] = field(default_factory=_twelve)
    customers_by_month: tuple[int, ...] = field(default_factory=_twelve)  # accounts open at month end
    training: TrainingCoverage = field(default_factory=TrainingCoverage)
    campaign_events: Mapping[str, int] = field(default_factory=dict)  # status reached -> transitions
    disclosures: int = 0
    breaches: tuple[BreachRecord, ...] = ()
    broker_actions: tuple[BrokerProceeding, ...] = ()
    alerts: Mapping[str, int] = field(default_factory=dict)  # alert kind -> raised

    def ledger_count(self, prefix: str, suffix: str = "") -> int:
        """Entries whose action starts with `prefix` (and ends with `suffix`)."""
        return sum(n for action, n in self.ledger.items() if action.startswith(prefix) and action.endswith(suffix))


@dataclass(frozen=True, slots=True)
class CertificationRecord:
    """One build of the certification as recorded (the `certifications` table)."""

    id: uuid.UUID
    year: int
    built_at: datetime
    built_by: str
    signatory: str | None
    draft: bool
    content: str  # the JSON document, with the rendered statement text
    pdf_sha256: str
