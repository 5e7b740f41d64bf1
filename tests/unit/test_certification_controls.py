"""The controls inventory the accompanying statement is assembled from (CERT-2), and the
statement template and PDF around it."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from cpniguard.delivery.certification_pdf import load_statement, render_certification
from cpniguard.privacy_office.certification import Carrier, assemble, to_json
from cpniguard.privacy_office.certification_controls import CONTROLS, assess
from cpniguard.privacy_office.certification_evidence import BreachRecord, TrainingCoverage, YearEvidence
from cpniguard.privacy_office.certification_statement import TemplateProblem, render_statement

AT = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)


def _breach(**overrides: object) -> BreachRecord:
    fields: dict[str, object] = {
        "title": "Pretexter got call detail",
        "discovered_at": AT,
        "determined_at": AT,
        "law_enforcement_notified_at": None,
        "law_enforcement_pending_reason": "",
        "customer_notices_at": None,
        "affected_count": 3,
        "intent": "intentional",
    }
    fields.update(overrides)
    return BreachRecord(**fields)  # type: ignore[arg-type]


def test_cert_2_the_inventory_covers_safe_1_to_safe_5_auth_notify_and_breach() -> None:
    assert [c.id for c in CONTROLS] == ["SAFE-1", "SAFE-2", "SAFE-3", "SAFE-4", "SAFE-5", "AUTH", "NOTIFY", "BREACH"]
    assert all(c.citation.startswith("47 CFR 64.20") for c in CONTROLS)


def test_cert_2_record_keeping_controls_state_none_for_a_year_without_events_and_stay_in_place() -> None:
    findings = {f.control: f for f in assess(YearEvidence(2026), "HR-7.3")}
    for control in ("SAFE-3", "SAFE-4", "SAFE-5", "BREACH"):
        assert findings[control].in_place, control
    assert "no breach of CPNI was discovered in 2026" in findings["BREACH"].evidence


def test_safe_1_the_purpose_gate_s_decisions_in_the_ledger_are_its_evidence() -> None:
    ledger = {"decisions:cpni-use:allowed": 7, "decisions:cpni-use:denied": 2, "consent:opt-out:recorded": 4}
    safe_1 = assess(YearEvidence(2026, ledger=ledger), "")[0]
    assert safe_1.in_place
    assert safe_1.evidence[0] == "9 uses of CPNI decided by the purpose gate (7 allowed, 2 denied)"
    assert "4 approvals, opt-outs and notices in the consent ledger" in safe_1.evidence


def test_safe_2_cert_2_training_without_a_discipline_policy_reference_is_a_gap() -> None:
    safe_2 = assess(YearEvidence(2026, training=TrainingCoverage(4, 3, 3)), "")[1]
    assert safe_2.gaps == ("SAFE-2: no disciplinary policy reference (set CPNIGUARD_DISCIPLINE_POLICY_ID)",)
    with_policy = assess(YearEvidence(2026, training=TrainingCoverage(4, 3, 3)), "HR-7.3")[1]
    assert with_policy.in_place and "disciplinary process: HR-7.3" in with_policy.evidence


def test_safe_4_reviews_are_counted_from_the_campaign_events_of_the_year() -> None:
    evidence = YearEvidence(2026, campaign_events={"draft": 3, "approved": 2, "rejected": 1, "running": 2})
    findings = {f.control: f for f in assess(evidence, "")}
    assert findings["SAFE-4"].evidence == ("3 campaign reviews by a supervisor or the CRO (2 approved, 1 not)",)
    assert findings["SAFE-3"].evidence[0].startswith("3 campaigns recorded")


def test_notify_counts_only_account_change_notices() -> None:
    evidence = YearEvidence(
        2026, notices={"opt-out-notice": 50, "pin-changed": 2}, notices_delivered={"pin-changed": 1}
    )
    notify = {f.control: f for f in assess(evidence, "")}["NOTIFY"]
    assert notify.evidence == ("2 account-change notices queued with the change, 1 delivered",)


def test_breach_1_a_determined_breach_without_a_law_enforcement_notice_or_reason_is_a_gap() -> None:
    evidence = YearEvidence(2026, breaches=(_breach(), _breach(title="Waiting", law_enforcement_pending_reason="x")))
    breach = {f.control: f for f in assess(evidence, "")}["BREACH"]
    assert breach.gaps == (
        "BREACH-1: incident 'Pretexter got call detail' has no law-enforcement notice and no reason it is pending",
    )


def _document(draft: bool) -> dict[str, object]:
    evidence = YearEvidence(2026, complaints={"online-access": 2}, complaints_by_month=(0, 2, *(0,) * 10))
    carrier = Carrier("Acme Telephone" if not draft else "", "812345")
    return {"id": "x", **to_json(assemble(evidence, carrier, None, AT.replace(year=2027)))}


def test_cert_2_the_shipped_template_renders_the_header_the_controls_and_the_complaints() -> None:
    statement = load_statement("")
    text = render_statement(statement.template, _document(True), statement.source)
    assert "EB Docket No. 06-36" in text and "47 CFR 1.17" in text
    assert "## SAFE-5: Notice to the FCC when opt-out fails" in text
    assert "- improper access to online information by individuals not authorized to see it: 2" in text
    assert "[[chart:complaints_per_month]]" in text


def test_a_template_with_an_unknown_name_or_bad_syntax_fails_with_a_clear_reason() -> None:
    with pytest.raises(TemplateProblem, match=r"custom.j2 does not render: 'no_such_field' is undefined"):
        render_statement("{{ no_such_field }}", _document(True), "custom.j2")
    with pytest.raises(TemplateProblem, match=r"custom.j2 does not render: line 2"):
        render_statement("ok\n{% if %}", _document(True), "custom.j2")
    with pytest.raises(TemplateProblem, match="unknown chart 'pie'"):
        render_statement("[[chart:pie]]", _document(True), "custom.j2")


def test_a_template_cannot_reach_python_internals() -> None:
    with pytest.raises(TemplateProblem, match="does not render"):
        render_statement("{{ header.__class__.__mro__[1].__subclasses__() }}", _document(True), "evil.j2")


def test_a_missing_template_file_is_named_in_the_error() -> None:
    with pytest.raises(TemplateProblem, match="cannot be read"):
        load_statement("/nonexistent/certification.j2")


def test_cert_1_a_draft_pdf_says_draft_on_every_page_and_a_final_one_on_none() -> None:
    for draft in (True, False):
        document = _document(draft)
        document["draft"] = draft
        statement = load_statement("")
        pdf = render_certification(document, render_statement(statement.template, document, statement.source))
        pages = PdfReader(io.BytesIO(pdf)).pages
        assert len(pages) >= 3
        assert all(("DRAFT" in page.extract_text()) is draft for page in pages)


def test_the_same_document_prints_to_the_same_bytes() -> None:
    document = _document(True)
    text = render_statement(load_statement("").template, document, "shipped")
    assert render_certification(document, text) == render_certification(document, text)
