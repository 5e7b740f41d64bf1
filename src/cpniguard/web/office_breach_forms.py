"""The forms of an incident's later steps as posted, and as the incident stands when shown
(so a count or an assessment is amended, not retyped). Every field is optional here: the
domain checks them."""

from __future__ import annotations

from pydantic import BaseModel

from cpniguard.breaches.model import Incident

# The later steps of an incident. Each form calls the service function the API and the CLI
# call; the domain refuses a step out of order, and a refused step writes nothing.


class StepForm(BaseModel):
    """A step's form as posted; every field optional here, checked by the domain."""

    csrf: str = ""


class AffectedForm(StepForm):
    count: str = ""
    unknown: str = ""
    basis: str = ""
    customers: str = ""  # customer ids, one a line


class HarmForm(StepForm):
    harm_likely: str = ""
    reasoning: str = ""
    decided_by: str = ""
    evidence: str = ""
    encrypted: str = ""
    key_compromised: str = "unknown"
    encryption_rationale: str = ""


class NoteForm(StepForm):
    at: str = ""
    text: str = ""
    likely_breach: str = ""


class SubmissionForm(StepForm):
    submitted_at: str = ""
    recipients: list[str] = []
    reference: str = ""


class ConsultationForm(StepForm):
    at: str = ""
    agency: str = ""
    person: str = ""
    notes: str = ""


class DirectionForm(StepForm):
    kind: str = ""
    received_at: str = ""
    agency: str = ""
    days: str = ""
    until: str = ""


class NotifyForm(StepForm):
    monitoring: str = ""


class CloseForm(StepForm):
    closed_at: str = ""


def blank_forms(incident: Incident, user: str) -> dict[str, StepForm]:
    """The forms as the incident stands, so a count or an assessment is amended, not retyped."""
    count, assessed = incident.affected_count, incident.harm_likely
    yes_no = {True: "yes", False: "no", None: ""}
    return {
        "affected": AffectedForm(
            count="" if count is None else str(count),
            unknown="yes" if count is None and incident.affected_count_basis else "",
            basis=incident.affected_count_basis,
        ),
        "harm": HarmForm(
            harm_likely=yes_no[assessed],
            reasoning=incident.harm_reasoning,
            decided_by=incident.harm_decided_by or user,
            evidence=incident.harm_evidence,
            encrypted="yes" if incident.encrypted else "",
            key_compromised=incident.key_compromised,
        ),
        "note": NoteForm(),
        "submission": SubmissionForm(),
        "consultation": ConsultationForm(),
        "direction": DirectionForm(),
        "notify": NotifyForm(),
        "closing": CloseForm(),
    }
