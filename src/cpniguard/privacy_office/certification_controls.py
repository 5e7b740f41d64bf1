"""The controls inventory the accompanying statement is assembled from (CERT-2).

Each control says what it is, which rule it keeps, and what the year's records show about it.
Two kinds: controls that run all the time (the purpose gate, training, authentication, change
notices) must show activity in the year, or the certification stays a draft; record-keeping
controls for things that may not happen in a year (campaigns, reviews, opt-out failures,
breaches) state "none" as their evidence, since an empty register is itself the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cpniguard.privacy_office.certification_evidence import YearEvidence

# NOTIFY-1: the account changes a customer is told about.
CHANGE_NOTICE_EVENTS = frozenset(
    {
        "password-changed",
        "pin-changed",
        "backup-answer-changed",
        "online-account-changed",
        "email-changed",
        "postal-address-changed",
        "telephone-number-changed",
        "account-locked",
    }
)
OPT_OUT_FAILURE = "consent:opt-out-failure:recorded"


@dataclass(frozen=True, slots=True)
class Finding:
    """What the records show for one control: lines of evidence, and gaps that make a draft."""

    control: str
    title: str
    citation: str
    evidence: tuple[str, ...]
    gaps: tuple[str, ...] = ()

    @property
    def in_place(self) -> bool:
        return not self.gaps


Evaluate = Callable[[YearEvidence, str], tuple[list[str], list[str]]]


@dataclass(frozen=True, slots=True)
class Control:
    id: str
    title: str
    citation: str
    evaluate: Evaluate  # (evidence, discipline policy id) -> (evidence lines, gaps)

    def finding(self, evidence: YearEvidence, discipline_policy_id: str) -> Finding:
        lines, gaps = self.evaluate(evidence, discipline_policy_id)
        return Finding(self.id, self.title, self.citation, tuple(lines), tuple(gaps))


def _n(count: int, one: str, many: str | None = None) -> str:
    """`1 lockout`, `2 lockouts`: the statement is filed, so it reads as written."""
    return f"{count} {one if count == 1 else many or one + 's'}"


def _none_for(year: int, label: str) -> str:
    return f"CERT-2: {label}: no evidence in the records for {year}"


def _purpose_gate(ev: YearEvidence, _: str) -> tuple[list[str], list[str]]:
    allowed = ev.ledger_count("decisions:cpni-use:allowed")
    denied = ev.ledger_count("decisions:cpni-use:denied")
    batches = ev.ledger_count("decisions:cpni-use:batch")
    consent = ev.ledger_count("consent:", ":recorded") - ev.ledger_count(OPT_OUT_FAILURE)
    lines = [
        f"{_n(allowed + denied, 'use')} of CPNI decided by the purpose gate ({allowed} allowed, {denied} denied)",
        f"{_n(batches, 'audience or export', 'audiences and exports')} decided in bulk by the same gate",
        f"{_n(consent, 'approval, opt-out or notice', 'approvals, opt-outs and notices')} in the consent ledger",
    ]
    return lines, [] if allowed + denied + batches else [_none_for(ev.year, "SAFE-1 purpose gate decisions")]


def _training(ev: YearEvidence, discipline_policy_id: str) -> tuple[list[str], list[str]]:
    t = ev.training
    lines = [
        f"{_n(t.records, 'training record')} on the use of CPNI counted during the year, covering "
        f"{_n(t.people_trained, 'person', 'people')}",
        f"{_n(t.current_at_year_end, 'person', 'people')} held current training on 31 December",
        f"disciplinary process: {discipline_policy_id or 'not referenced'}",
    ]
    gaps = [] if t.records else [_none_for(ev.year, "SAFE-2 training records")]
    if not discipline_policy_id.strip():
        gaps.append("SAFE-2: no disciplinary policy reference (set CPNIGUARD_DISCIPLINE_POLICY_ID)")
    return lines, gaps


def _campaign_records(ev: YearEvidence, _: str) -> tuple[list[str], list[str]]:
    created = ev.campaign_events.get("draft", 0)
    running = ev.campaign_events.get("running", 0)
    if not sum(ev.campaign_events.values()) and not ev.disclosures:
        return [f"no sales or marketing campaign used CPNI in {ev.year}; none was disclosed to a third party"], []
    return [
        f"{_n(created, 'campaign')} recorded with the description, the CPNI used and the offer; {running} ran",
        f"{_n(ev.disclosures, 'disclosure')} of a customer's CPNI to a third party recorded one by one",
    ], []


def _supervisory_review(ev: YearEvidence, _: str) -> tuple[list[str], list[str]]:
    approved = ev.campaign_events.get("approved", 0)
    rejected = ev.campaign_events.get("rejected", 0)
    if not approved + rejected:
        return [f"no outbound marketing came up for supervisory review in {ev.year}"], []
    return [
        f"{_n(approved + rejected, 'campaign review')} by a supervisor or the CRO ({approved} approved, {rejected} not)"
    ], []


def _opt_out_failures(ev: YearEvidence, _: str) -> tuple[list[str], list[str]]:
    failures = ev.ledger_count(OPT_OUT_FAILURE)
    opt_outs = sum(ev.opt_outs_by_month)
    notices = ev.notices_delivered.get("opt-out-notice", 0)
    lines = [f"{_n(opt_outs, 'opt-out')} recorded; {_n(notices, 'opt-out notice')} delivered"]
    if failures:
        lines.append(
            f"{_n(failures, 'opt-out failure')} found, each with a letter to the FCC due in five business days"
        )
    else:
        lines.append(f"no failure of the opt-out mechanisms was found in {ev.year}")
    return lines, []


def _authentication(ev: YearEvidence, _: str) -> tuple[list[str], list[str]]:
    verified = ev.ledger_count("auth:", ":verified")
    failed = ev.ledger_count("auth:", ":failed")
    locked = ev.ledger_count("auth:", ":locked")
    codes = ev.ledger_count("auth:one-time-code:sent")
    sessions = ev.ledger_count("auth:call-session:opened")
    lines = [
        f"{_n(verified + failed, 'check')} of a password, PIN or answer ({verified} passed, {failed} failed)",
        f"{_n(locked, 'lockout')} after repeated failures; {_n(codes, 'one-time code')} sent to a contact of record",
        f"{_n(sessions, 'customer-initiated contact')} opened with the caller's proof recorded",
    ]
    total = verified + failed + locked + codes + ev.ledger_count("auth:call-session:")
    return lines, [] if total else [_none_for(ev.year, "AUTH customer authentication")]


def _change_notices(ev: YearEvidence, _: str) -> tuple[list[str], list[str]]:
    queued = sum(n for event, n in ev.notices.items() if event in CHANGE_NOTICE_EVENTS)
    delivered = sum(n for event, n in ev.notices_delivered.items() if event in CHANGE_NOTICE_EVENTS)
    lines = [f"{_n(queued, 'account-change notice')} queued with the change, {delivered} delivered"]
    return lines, [] if queued else [_none_for(ev.year, "NOTIFY account-change notices")]


def _breaches(ev: YearEvidence, _: str) -> tuple[list[str], list[str]]:
    if not ev.breaches:
        return [f"no breach of CPNI was discovered in {ev.year}"], []
    notified = sum(1 for b in ev.breaches if b.law_enforcement_notified_at)
    customers = sum(1 for b in ev.breaches if b.customer_notices_at)
    lines = [
        f"{_n(len(ev.breaches), 'incident')} recorded; law enforcement told of {notified}, customers of {customers}",
        f"{_n(ev.notices.get('breach-notice', 0), 'breach notice')} queued to customers, "
        f"{ev.notices_delivered.get('breach-notice', 0)} delivered",
    ]
    gaps = [
        f"BREACH-1: incident {b.title!r} has no law-enforcement notice and no reason it is pending"
        for b in ev.breaches
        if b.determined_at and not b.law_enforcement_notified_at and not b.law_enforcement_pending_reason.strip()
    ]
    return lines, gaps


CONTROLS: tuple[Control, ...] = (
    Control("SAFE-1", "Approval status checked before any use of CPNI", "47 CFR 64.2009(a)", _purpose_gate),
    Control("SAFE-2", "Training of personnel and a disciplinary process", "47 CFR 64.2009(b)", _training),
    Control("SAFE-3", "Records of campaigns and third-party disclosures", "47 CFR 64.2009(c)", _campaign_records),
    Control("SAFE-4", "Supervisory review of outbound marketing", "47 CFR 64.2009(d)", _supervisory_review),
    Control("SAFE-5", "Notice to the FCC when opt-out fails", "47 CFR 64.2009(f)", _opt_out_failures),
    Control("AUTH", "Authentication before CPNI is disclosed", "47 CFR 64.2010(a)-(e)", _authentication),
    Control("NOTIFY", "Notice of account changes", "47 CFR 64.2010(f)", _change_notices),
    Control("BREACH", "Breach records and notices", "47 CFR 64.2011", _breaches),
)


def assess(evidence: YearEvidence, discipline_policy_id: str) -> tuple[Finding, ...]:
    """CERT-2: every control of the inventory with what the year's records show about it."""
    return tuple(control.finding(evidence, discipline_policy_id) for control in CONTROLS)
