"""A breach incident: what happened, what was determined and by whom, and what is overdue.

An incident is saved only with the facts the records must hold (BREACH-6, BREACH23-10):
when it was discovered, what data was involved and the circumstances. Its clocks start at the
reasonable determination, a separate fact with its time, its author and its reason (AMB-13).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from cpniguard.breaches.clocks import AgencyDelay, ClockFacts, Deadlines, RuleVersion
from cpniguard.calendar import add_days, eastern_date, start_of_day
from cpniguard.errors import Conflict, InvalidInput


class Intent(StrEnum):
    INTENTIONAL = "intentional"  # BREACH-7: the 2007 text covers only these
    INADVERTENT = "inadvertent"  # BREACH23-1: covered by the 2023 text
    GOOD_FAITH = "good-faith"  # BREACH23-1: an employee's good-faith acquisition, no further use


# AMB-11: the categories are data, so counsel can change them. CPNI (DEF-1) and the PII of
# BREACH23-2; IDENTITY_THEFT names those whose exposure calls for the credit-bureau block.
CPNI_TYPES = frozenset({"call-detail", "bills", "services", "usage", "location"})
PII_TYPES = frozenset({"name", "government-id", "account-credentials", "biometric", "financial", "contact"})
DATA_TYPES = CPNI_TYPES | PII_TYPES
IDENTITY_THEFT = frozenset({"government-id", "financial"})
KEY_STATES = ("yes", "no", "unknown")


def parse_data_types(values: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(v.strip().lower() for v in values if v.strip()))
    unknown = sorted(set(chosen) - DATA_TYPES)
    if unknown or not chosen:
        raise InvalidInput(
            f"unknown or no data type: {', '.join(unknown) or '-'} (one of: {', '.join(sorted(DATA_TYPES))})"
        )
    return chosen


@dataclass(frozen=True, slots=True)
class Incident:
    id: uuid.UUID
    title: str
    rules: RuleVersion
    discovered_at: datetime
    intent: Intent
    data_types: tuple[str, ...]
    cpni_description: str
    other_data_description: str
    circumstances: str
    created_by: str
    created_at: datetime
    method_of_compromise: str = ""
    incident_start: date | None = None
    incident_end: date | None = None
    good_faith_reason: str | None = None
    determined_at: datetime | None = None
    determined_by: str | None = None
    determination_reason: str | None = None
    investigation_closed_at: datetime | None = None
    affected_count: int | None = None
    affected_count_basis: str = ""
    harm_likely: bool | None = None
    harm_reasoning: str = ""
    harm_decided_by: str | None = None
    harm_evidence: str = ""
    encrypted: bool = False
    key_compromised: str = "unknown"
    financial_loss: str = ""
    urgent_need: bool = False
    law_enforcement_notified_at: datetime | None = None
    law_enforcement_pending_reason: str = "not yet sent"
    customer_notices_at: datetime | None = None
    last_notice_at: datetime | None = None
    records_kept_until: date | None = None

    @property
    def involves_cpni(self) -> bool:
        return bool(set(self.data_types) & CPNI_TYPES)

    @property
    def covered_2007(self) -> bool:
        """BREACH-7: someone intentionally gained access to, used or disclosed CPNI."""
        return self.intent is Intent.INTENTIONAL and self.involves_cpni

    @property
    def covered_2023(self) -> bool:
        """BREACH23-1, BREACH23-2: CPNI or PII, inadvertent included, the good-faith exception not."""
        return self.intent is not Intent.GOOD_FAITH

    def facts(self, consulted_at: datetime | None = None, delay: AgencyDelay | None = None) -> ClockFacts:
        if self.determined_at is None:
            raise Conflict("the incident has no reasonable determination yet: its clocks have not started (AMB-13)")
        return ClockFacts(
            self.rules,
            self.determined_at,
            self.law_enforcement_notified_at,
            self.covered_2007,
            self.covered_2023,
            self.affected_count,
            self.harm_likely,
            consulted_at if self.urgent_need else None,  # BREACH-3: both the statement and the consultation
            delay,
            self.last_notice_at,
        )


def check_new(incident: Incident) -> None:
    """BREACH-6: discovery, a description of the data and the circumstances are required."""
    if not (incident.cpni_description or incident.other_data_description):
        raise InvalidInput("describe the data involved: the CPNI, other personal data, or both (BREACH-6)")
    if incident.involves_cpni and not incident.cpni_description:
        raise InvalidInput("the data types include CPNI: describe the CPNI involved (BREACH-6)")
    if incident.intent is Intent.GOOD_FAITH and not incident.good_faith_reason:
        raise InvalidInput("the good-faith exception needs its justification (BREACH23-1)")
    if incident.incident_start and incident.incident_end and incident.incident_end < incident.incident_start:
        raise InvalidInput("the incident cannot end before it started")


def determine(incident: Incident, at: datetime, by: str, reason: str) -> Incident:
    """AMB-13, BREACH23-11: the moment a breach became more likely than not, who said so, why."""
    if incident.determined_at is not None:
        raise Conflict(f"the determination was recorded already ({incident.determined_at.isoformat()})")
    if at < incident.discovered_at:
        raise InvalidInput("a determination cannot precede the discovery (AMB-13)")
    if not reason:
        raise InvalidInput("say why the breach is now more likely than not (BREACH23-11)")
    return replace(incident, determined_at=at, determined_by=by, determination_reason=reason)


@dataclass(frozen=True, slots=True)
class HarmAssessment:
    """BREACH23-8: whether harm to customers is reasonably likely, and on what grounds."""

    harm_likely: bool
    reasoning: str
    decided_by: str
    evidence: str = ""
    encrypted: bool = False
    key_compromised: str = "unknown"
    encryption_rationale: bool = False  # the no-harm finding rests on the data being encrypted


def assess_harm(incident: Incident, assessment: HarmAssessment) -> Incident:
    a = assessment
    if a.key_compromised not in KEY_STATES:
        raise InvalidInput(f"key compromised must be one of {', '.join(KEY_STATES)}")
    if not a.harm_likely and not (a.reasoning and a.decided_by and a.evidence):
        raise InvalidInput("a no-harm determination needs its reasoning, who decided and the evidence (BREACH23-8)")
    if a.encryption_rationale and not (a.encrypted and a.key_compromised == "no"):
        raise InvalidInput(
            "the encryption rationale needs encrypted data and clear evidence the key was not compromised (BREACH23-8)"
        )
    return replace(
        incident,
        harm_likely=a.harm_likely,
        harm_reasoning=a.reasoning,
        harm_decided_by=a.decided_by,
        harm_evidence=a.evidence,
        encrypted=a.encrypted,
        key_compromised=a.key_compromised,
    )


def set_affected(incident: Incident, count: int | None, basis: str) -> Incident:
    """BREACH23-10: the basis of the count is kept with it; None means unknown (BREACH23-5)."""
    if count is not None and count < 0:
        raise InvalidInput("the number of affected customers cannot be negative")
    if not basis:
        raise InvalidInput("say how the number of affected customers was determined (BREACH23-10)")
    return replace(incident, affected_count=count, affected_count_basis=basis)


def delay_from_directions(directions: list[tuple[str, date | None, datetime]]) -> AgencyDelay | None:
    """Folds (kind, until, at) of written directions, in order: `directed` and `extended` set
    the last day of suppression, `ended` is the all-clear (BREACH-4, BREACH23-6)."""
    delay: AgencyDelay | None = None
    for kind, until, at in directions:
        if kind == "directed" and until is not None:
            delay = AgencyDelay(eastern_date(at) if delay is None else delay.received_on, until)
        elif kind == "extended" and delay is not None and until is not None:
            delay = AgencyDelay(delay.received_on, max(until, delay.until), None)
        elif kind == "ended" and delay is not None:
            delay = replace(delay, ended_at=at)
    return delay


def notice_problem(incident: Incident, clocks: Deadlines, now: datetime) -> str | None:
    """Why customer notices may not go now, or None. BREACH-2 and BREACH23-7: not before the
    agency notice; BREACH-2..4: not while a hold is in force; BREACH23-8: not when not required."""
    if not clocks.customer_notice_required:
        return "no customer notice is required: no harm is reasonably likely (BREACH23-8)"
    if clocks.agency_recipients and incident.law_enforcement_notified_at is None:
        return "customers are told only after the agency notice is recorded (BREACH-2, BREACH23-7)"
    if clocks.hold_until is not None and now < clocks.hold_until:
        return f"a hold on customer notice is in force until {clocks.hold_until.isoformat()} (BREACH-2, BREACH-4)"
    return None


def overdue(incident: Incident, clocks: Deadlines, now: datetime) -> list[str]:
    """What is late at `now`: a legal date passes at the end of its day in Eastern time."""
    late: list[str] = []
    agency_due = clocks.law_enforcement_notice_due
    if agency_due and incident.law_enforcement_notified_at is None and now >= _end_of(agency_due):
        late.append("law-enforcement-notice")
    due = clocks.customer_notice_due
    if due and clocks.customer_notice_required and incident.customer_notices_at is None and now >= _end_of(due):
        late.append("customer-notice")
    return late


def _end_of(day: date) -> datetime:
    return start_of_day(add_days(day, 1))


@dataclass(frozen=True, slots=True)
class BreachEvent:
    """One entry of an incident's timeline: `at` is when it happened, `recorded_at` when it was
    entered (a late entry shows)."""

    id: uuid.UUID
    incident_id: uuid.UUID
    kind: str
    at: datetime
    recorded_at: datetime
    by: str
    details: dict[str, object]
    document_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """A written direction, extension or all-clear from an agency, kept as received (BREACH-4)."""

    id: uuid.UUID
    incident_id: uuid.UUID
    filename: str
    media_type: str
    sha256: str
    content: bytes
    added_by: str
    added_at: datetime
