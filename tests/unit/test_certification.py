"""The annual certification's pure rules: due dates (CERT-4, AMB-10, CAL-5, CAL-7), the
reporting year, what keeps it a draft (CERT-1, CERT-2, CERT-5) and the document's facts."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from cpniguard.errors import InvalidInput
from cpniguard.privacy_office.certification import (
    Carrier,
    assemble,
    check_reporting_year,
    internal_due,
    legal_due,
    month_bounds,
    opt_out_rates,
    to_json,
)
from cpniguard.privacy_office.certification_evidence import Signatory, TrainingCoverage, YearEvidence

BUILT = datetime(2027, 2, 1, 15, 0, tzinfo=UTC)
CARRIER = Carrier("Acme Telephone", "812345", "1 Main St", "HR-7.3")
OFFICER = Signatory("Olivia Officer", "Chief Executive Officer", corporate_officer=True)


def busy_year(year: int = 2026) -> YearEvidence:
    """A year in which every always-on control shows activity."""
    return YearEvidence(
        year,
        ledger={"decisions:cpni-use:allowed": 40, "auth:password:verified": 5},
        notices={"email-changed": 2},
        training=TrainingCoverage(3, 3, 2),
    )


def test_cal_7_cert_4_reporting_year_2026_is_due_monday_first_of_march_2027() -> None:
    assert legal_due(2026) == date(2027, 3, 1)
    assert internal_due(2026) == date(2027, 3, 1)


def test_cert_4_reporting_year_2025_rolls_the_legal_date_to_monday_after_a_sunday_first_of_march() -> None:
    assert date(2026, 3, 1).weekday() == 6
    assert legal_due(2025) == date(2026, 3, 2)


def test_amb_10_reporting_year_2025_is_filed_by_the_friday_before_a_sunday_first_of_march() -> None:
    assert internal_due(2025) == date(2026, 2, 27)


@pytest.mark.parametrize(
    ("year", "legal", "internal"),
    [
        (2019, date(2020, 3, 2), date(2020, 2, 28)),  # Sunday 1 March in a leap year
        (2021, date(2022, 3, 1), date(2022, 3, 1)),  # a Tuesday
        (2027, date(2028, 3, 1), date(2028, 3, 1)),  # a Wednesday after 29 February
        (2030, date(2031, 3, 3), date(2031, 2, 28)),  # Saturday 1 March
        (2036, date(2037, 3, 2), date(2037, 2, 27)),  # Sunday again
    ],
)
def test_cert_4_and_amb_10_due_dates_over_several_years(year: int, legal: date, internal: date) -> None:
    assert legal_due(year) == legal
    assert internal_due(year) == internal


def test_amb_10_a_closure_of_the_fcc_on_the_friday_moves_the_internal_date_to_thursday() -> None:
    closures = {date(2026, 2, 27)}
    assert internal_due(2025, closures) == date(2026, 2, 26)


def test_cal_5_a_closure_on_first_of_march_rolls_the_legal_date_to_the_next_business_day() -> None:
    assert legal_due(2026, {date(2027, 3, 1)}) == date(2027, 3, 2)


@pytest.mark.parametrize("year", [1999, 2028, -1])
def test_cert_4_a_reporting_year_before_2000_or_after_next_year_is_refused(year: int) -> None:
    with pytest.raises(InvalidInput, match="reporting year"):
        check_reporting_year(year, date(2026, 11, 29))


def test_cert_4_next_year_and_the_year_2000_are_reporting_years() -> None:
    assert check_reporting_year(2027, date(2026, 11, 29)) == 2027
    assert check_reporting_year(2000, date(2026, 11, 29)) == 2000


def test_cert_3_the_months_of_the_year_run_from_eastern_midnight() -> None:
    months = month_bounds(2026)
    assert len(months) == 12
    assert months[0][0] == datetime(2026, 1, 1, 5, 0, tzinfo=UTC)  # EST
    assert months[6][0] == datetime(2026, 7, 1, 4, 0, tzinfo=UTC)  # EDT
    assert months[-1][1] == datetime(2027, 1, 1, 5, 0, tzinfo=UTC)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(months))


def test_cert_1_cert_5_an_officer_with_the_carrier_s_name_and_filer_id_and_evidence_is_no_draft() -> None:
    cert = assemble(busy_year(), CARRIER, OFFICER, BUILT)
    assert cert.missing == ()
    assert not cert.draft


def test_cert_1_without_a_signatory_the_certification_is_a_draft_that_says_so() -> None:
    cert = assemble(busy_year(), CARRIER, None, BUILT)
    assert cert.draft
    assert [m for m in cert.missing if m.startswith("CERT-1")] == [
        "CERT-1: no signatory named (a corporate officer signs the certificate)"
    ]


def test_cert_1_a_signatory_who_is_not_a_corporate_officer_keeps_it_a_draft() -> None:
    clerk = Signatory("Carl Clerk", "Analyst", corporate_officer=False)
    cert = assemble(busy_year(), CARRIER, clerk, BUILT)
    assert cert.missing == ("CERT-1: Carl Clerk is not a corporate officer and cannot sign",)


def test_cert_5_an_empty_carrier_name_and_form_499_filer_id_are_each_listed_as_missing() -> None:
    cert = assemble(busy_year(), Carrier("", " ", "", "HR-7.3"), OFFICER, BUILT)
    assert cert.missing == (
        "CERT-5: the carrier's name is not set (CPNIGUARD_CARRIER_NAME)",
        "CERT-5: the Form 499 Filer ID is not set (CPNIGUARD_FORM_499_ID)",
    )


def test_cert_2_a_year_without_records_lists_every_always_on_control_as_missing() -> None:
    cert = assemble(YearEvidence(2026), CARRIER, OFFICER, BUILT)
    assert cert.missing == (
        "CERT-2: SAFE-1 purpose gate decisions: no evidence in the records for 2026",
        "CERT-2: SAFE-2 training records: no evidence in the records for 2026",
        "CERT-2: AUTH customer authentication: no evidence in the records for 2026",
        "CERT-2: NOTIFY account-change notices: no evidence in the records for 2026",
    )


def test_cert_4_the_filing_date_defaults_to_the_internal_due_date_and_cannot_precede_the_year_end() -> None:
    assert assemble(busy_year(2025), CARRIER, OFFICER, BUILT).filing_date == date(2026, 2, 27)
    with pytest.raises(InvalidInput, match="before the reporting year 2026 has ended"):
        assemble(busy_year(), CARRIER, OFFICER, BUILT, filing_date=date(2026, 12, 31))


def test_cert_3_cert_5_the_json_document_carries_the_header_the_complaints_and_both_due_dates() -> None:
    evidence = YearEvidence(
        2025,
        complaints={"online-access": 2, "employee-access": 1},
        complaints_by_month=(1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        alerts={"pretexting-suspected": 4},
    )
    doc = to_json(assemble(evidence, CARRIER, OFFICER, BUILT, filing_date=date(2026, 2, 20)))
    assert (doc["due"], doc["legal_due"], doc["legal_due_rolled"]) == ("2026-02-27", "2026-03-02", True)
    assert doc["complaints"] == {"employee-access": 1, "unauthorized-disclosure": 0, "online-access": 2, "other": 0}
    assert doc["complaints_total"] == 3
    assert doc["complaints_per_month"]["Mar"] == 2
    assert doc["header"] == {
        "reporting_year": 2025,
        "filing_date": "2026-02-20",
        "company_name": "Acme Telephone",
        "form_499_filer_id": "812345",
        "carrier_address": "1 Main St",
        "signatory_name": "Olivia Officer",
        "signatory_title": "Chief Executive Officer",
        "signatory_is_officer": True,
        "docket": "EB Docket No. 06-36",
        "discipline_policy_id": "HR-7.3",
    }
    assert doc["pretexting"]["suspected_pretexting_alerts"] == 4
    assert doc["draft"] is True and doc["missing"]


def test_the_opt_out_rate_is_per_hundred_accounts_and_zero_without_accounts() -> None:
    assert opt_out_rates([1, 3, 0], [200, 0, 50]) == [0.5, 0.0, 0.0]
