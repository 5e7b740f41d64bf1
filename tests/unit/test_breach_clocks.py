"""The regulatory clocks of a breach, with literal dates (CAL-7 and our own around every federal
holiday and year end, under each rule version)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from cpniguard.breaches.clocks import AgencyDelay, ClockFacts, RuleVersion, deadlines, parse_rules
from cpniguard.breaches.model import (
    HarmAssessment,
    Incident,
    Intent,
    assess_harm,
    check_new,
    delay_from_directions,
    notice_problem,
    overdue,
)
from cpniguard.breaches.notices import customer_notice
from cpniguard.calendar import parse_when
from cpniguard.customers.model import Language
from cpniguard.errors import InvalidInput
from cpniguard.notifications.service import Letterhead
from tests.unit.test_auth_model import a_customer as a_customer_with_contacts

V2007, V2023, STRICTEST = RuleVersion.V2007, RuleVersion.V2023, RuleVersion.STRICTEST


def at(text: str) -> datetime:
    return parse_when(text)  # a date is the start of that day in Eastern time


def clocks(determined: str, rules: RuleVersion = STRICTEST, notified: str | None = None, **facts: object):  # type: ignore[no-untyped-def]
    return deadlines(ClockFacts(rules, at(determined), at(notified) if notified else None, **facts))  # type: ignore[arg-type]


@pytest.mark.parametrize("rules", list(RuleVersion))
@pytest.mark.parametrize(
    ("determined", "due"),
    [
        ("2026-12-18", date(2026, 12, 30)),  # CAL-7: Christmas skipped, the 18th not counted (AMB-2)
        ("2026-07-02", date(2026, 7, 14)),  # CAL-7: Fri 2026-07-03 observed Independence Day
        ("2027-12-23", date(2028, 1, 5)),  # CAL-7: observed holidays on Fri 12-24 and Fri 12-31
        ("2026-01-14", date(2026, 1, 26)),  # Martin Luther King Day, Mon 01-19
        ("2026-02-12", date(2026, 2, 24)),  # Washington's Birthday, Mon 02-16
        ("2026-05-21", date(2026, 6, 2)),  # Memorial Day, Mon 05-25
        ("2026-06-16", date(2026, 6, 26)),  # Juneteenth, Fri 06-19
        ("2026-09-03", date(2026, 9, 15)),  # Labor Day, Mon 09-07
        ("2026-10-08", date(2026, 10, 20)),  # Columbus Day, Mon 10-12
        ("2026-11-09", date(2026, 11, 19)),  # Veterans Day, Wed 11-11
        ("2026-11-25", date(2026, 12, 7)),  # Thanksgiving, Thu 11-26
        ("2026-12-31", date(2027, 1, 12)),  # year end: New Year's Day Fri 2027-01-01
        ("2027-06-15", date(2027, 6, 25)),  # Juneteenth 2027 on a Saturday: observed Fri 06-18
        ("2026-12-19", date(2026, 12, 30)),  # determined on a Saturday: counting starts Monday
    ],
)
def test_breach_1_and_breach23_3_agency_notice_is_due_seven_business_days_after_determination(
    rules: RuleVersion, determined: str, due: date
) -> None:
    assert clocks(determined, rules).law_enforcement_notice_due == due


def test_amb_2_the_internal_target_is_the_naive_count_one_business_day_earlier() -> None:
    found = clocks("2026-12-18")
    assert (found.law_enforcement_notice_target, found.law_enforcement_notice_due) == (
        date(2026, 12, 29),
        date(2026, 12, 30),
    )


def test_cal_4_a_late_evening_determination_counts_from_its_eastern_day() -> None:
    late = datetime(2026, 12, 19, 4, 30, tzinfo=UTC)  # Fri 2026-12-18 23:30 in New York
    assert deadlines(ClockFacts(STRICTEST, late)).law_enforcement_notice_due == date(2026, 12, 30)


def test_breach_2_the_hold_ends_after_seven_full_business_days_after_the_agency_notice() -> None:
    found = clocks("2026-12-18", V2007, notified="2026-12-21T11:00")
    assert found.customer_notice_not_before == date(2027, 1, 1)
    assert found.hold_until == at("2027-01-01")  # 00:00 Eastern
    assert not found.customer_notice_not_before_projected
    assert found.customer_notice_due is None  # BREACH-5: the 2007 text sets no outer date


def test_breach_2_before_the_agency_notice_the_hold_is_projected_from_its_due_day() -> None:
    found = clocks("2026-12-18", V2007)
    assert found.customer_notice_not_before_projected
    assert found.customer_notice_not_before == date(2027, 1, 12)  # 2026-12-30 + 7 business days, then the next day


def test_breach23_7_under_2023_no_hold_and_the_cap_is_thirty_calendar_days_not_rolled() -> None:
    found = clocks("2026-12-18", V2023, notified="2026-12-21T11:00")
    assert found.customer_notice_not_before is None and found.hold_until is None
    assert found.customer_notice_due == date(2027, 1, 17)  # a Sunday: CAL-5, not rolled


def test_amb_1_strictest_applies_the_hold_and_the_cap_and_all_three_recipients() -> None:
    found = clocks("2026-12-18", STRICTEST, notified="2026-12-21T11:00")
    assert found.agency_recipients == ("FCC", "USSS", "FBI")
    assert (found.customer_notice_not_before, found.customer_notice_due) == (date(2027, 1, 1), date(2027, 1, 17))
    assert found.customer_notice_target == date(2027, 1, 8)  # five business days after the hold


def test_amb_1_a_closure_that_pushes_the_hold_past_day_25_of_the_cap_raises_a_warning() -> None:
    facts = ClockFacts(STRICTEST, at("2026-12-18"), at("2026-12-30T10:00"))
    on_time = deadlines(facts)
    assert (on_time.customer_notice_not_before, on_time.warnings) == (date(2027, 1, 12), ())  # day 25
    closed = deadlines(facts, {date(2026, 12, 31)})
    assert closed.customer_notice_not_before == date(2027, 1, 13)
    assert any("little time" in w for w in closed.warnings)


def test_breach23_0_with_the_2007_text_the_2023_obligations_are_informational() -> None:
    found = clocks("2026-12-18", V2007)
    assert found.agency_recipients == ("USSS", "FBI")
    assert any("2027-01-17" in line for line in found.informational)


def test_breach_4_a_written_delay_holds_notice_through_its_last_day() -> None:
    delay = AgencyDelay(date(2026, 12, 22), date(2027, 1, 21))
    found = clocks("2026-12-18", V2023, notified="2026-12-21T11:00", delay=delay)
    assert found.customer_notice_not_before == date(2027, 1, 22)


def test_breach_4_an_extension_moves_the_date_and_an_all_clear_releases_it() -> None:
    received = at("2026-12-22T09:00")
    extended = delay_from_directions(
        [("directed", date(2027, 1, 21), received), ("extended", date(2027, 2, 20), at("2027-01-15"))]
    )
    assert extended == AgencyDelay(date(2026, 12, 22), date(2027, 2, 20))
    ended = delay_from_directions([("directed", date(2027, 1, 21), received), ("ended", None, at("2027-01-05T14:00"))])
    assert ended is not None and ended.first_free_moment() == at("2027-01-05T14:00")


def test_amb_12_an_agency_delay_suspends_the_cap_and_the_days_left_resume_at_the_all_clear() -> None:
    delay = AgencyDelay(date(2026, 12, 22), date(2027, 1, 21), at("2027-01-05T14:00"))
    found = clocks("2026-12-18", V2023, notified="2026-12-21T11:00", delay=delay)
    assert found.customer_notice_due == date(2027, 1, 31)  # 26 days were left on 12-22


def test_breach_3_after_the_consultation_the_urgent_notice_may_go_before_the_hold_ends() -> None:
    found = clocks("2026-12-18", V2007, notified="2026-12-21T11:00", urgent_consultation_at=at("2026-12-22T15:00"))
    assert found.hold_until == at("2026-12-22T15:00")


@pytest.mark.parametrize(
    ("count", "harm", "summary"),
    [(499, False, True), (500, False, False), (None, False, False), (499, True, False), (499, None, False)],
)
def test_breach23_5_under_500_customers_and_no_harm_go_into_the_annual_summary(
    count: int | None, harm: bool | None, summary: bool
) -> None:
    found = clocks("2026-12-18", V2023, affected_count=count, harm_likely=harm)
    assert (found.annual_summary_due == date(2027, 2, 1)) is summary
    assert (found.law_enforcement_notice_due is None) is summary


def test_breach23_5_the_2007_text_has_no_threshold_so_strictest_still_notifies_agencies() -> None:
    found = clocks("2026-12-18", STRICTEST, affected_count=10, harm_likely=False)
    assert found.law_enforcement_notice_due == date(2026, 12, 30) and found.annual_summary_due is None


def test_breach23_8_no_customer_notice_when_no_harm_is_reasonably_likely_under_2023() -> None:
    assert not clocks("2026-12-18", V2023, affected_count=900, harm_likely=False).customer_notice_required
    assert clocks("2026-12-18", V2007, affected_count=900, harm_likely=False).customer_notice_required


def test_breach_6_records_are_kept_two_years_after_the_last_notice() -> None:
    assert clocks("2026-12-18").records_kept_until == date(2028, 12, 18)
    assert clocks("2026-12-18", last_notice_at=at("2027-01-04")).records_kept_until == date(2029, 1, 4)


def test_cal_3_a_closure_day_moves_the_deadline() -> None:
    facts = ClockFacts(STRICTEST, at("2026-12-18"))
    assert deadlines(facts, {date(2026, 12, 24)}).law_enforcement_notice_due == date(2026, 12, 31)


def test_an_unknown_rule_version_is_refused() -> None:
    with pytest.raises(InvalidInput, match="2007, 2023, strictest"):
        parse_rules("2011")


def an_incident(**overrides: object) -> Incident:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "title": "Pretexter obtained call records",
        "rules": STRICTEST,
        "discovered_at": at("2026-12-16"),
        "intent": Intent.INTENTIONAL,
        "data_types": ("call-detail",),
        "cpni_description": "one month of call detail",
        "other_data_description": "",
        "circumstances": "a caller posing as the customer",
        "created_by": "staff:pat",
        "created_at": at("2026-12-16"),
        "determined_at": at("2026-12-18"),
    }
    fields.update(overrides)
    return Incident(**fields)  # type: ignore[arg-type]


def test_breach_7_an_inadvertent_misdirected_email_is_no_2007_breach_but_is_one_under_2023() -> None:
    incident = an_incident(intent=Intent.INADVERTENT)
    assert not incident.covered_2007 and incident.covered_2023


def test_breach23_2_a_leak_of_name_and_licence_number_is_covered_only_under_2023() -> None:
    incident = an_incident(data_types=("name", "government-id"), cpni_description="", other_data_description="x")
    assert not incident.covered_2007 and incident.covered_2023


def test_breach23_1_the_good_faith_exception_needs_its_justification() -> None:
    with pytest.raises(InvalidInput, match="justification"):
        check_new(an_incident(intent=Intent.GOOD_FAITH))
    assert not an_incident(intent=Intent.GOOD_FAITH, good_faith_reason="opened and closed").covered_2023


def test_breach_6_an_incident_with_cpni_needs_a_description_of_it() -> None:
    with pytest.raises(InvalidInput, match="describe the CPNI"):
        check_new(an_incident(cpni_description="", other_data_description="names"))


def test_breach23_8_a_no_harm_finding_needs_reasoning_decider_and_evidence() -> None:
    with pytest.raises(InvalidInput, match="reasoning"):
        assess_harm(an_incident(), HarmAssessment(False, "", "Pat"))
    done = assess_harm(an_incident(), HarmAssessment(False, "data was encrypted", "Pat", "ticket 7"))
    assert done.harm_likely is False


def test_breach23_8_the_encryption_rationale_is_refused_while_the_key_may_be_compromised() -> None:
    assessment = HarmAssessment(False, "encrypted", "Pat", "ticket 7", True, "unknown", encryption_rationale=True)
    with pytest.raises(InvalidInput, match="key"):
        assess_harm(an_incident(), assessment)


def test_breach_2_a_customer_notice_is_blocked_until_the_hold_ends() -> None:
    incident = an_incident(law_enforcement_notified_at=at("2026-12-21T11:00"))
    found = deadlines(incident.facts())
    assert notice_problem(incident, found, at("2026-12-31T16:00")) is not None
    assert notice_problem(incident, found, at("2027-01-01")) is None


def test_breach23_7_a_notice_before_the_agency_notice_is_recorded_is_blocked() -> None:
    incident = an_incident(rules=V2023)
    assert "agency notice" in str(notice_problem(incident, deadlines(incident.facts()), at("2026-12-20")))


def test_a_legal_date_is_overdue_only_after_its_eastern_day_ends() -> None:
    incident = an_incident()
    found = deadlines(incident.facts())
    assert overdue(incident, found, at("2026-12-30T23:59")) == []
    assert overdue(incident, found, at("2026-12-31")) == ["law-enforcement-notice"]


@pytest.mark.parametrize("language", ["en", "de"])
def test_breach23_9_the_customer_notice_has_its_six_blocks_and_the_credit_bureaus_only_for_identity_data(
    language: str,
) -> None:
    customer = a_customer_with_contacts(language=Language(language))
    plain = customer_notice(an_incident(), customer, at("2027-01-04"), Letterhead("Example Tel", "611"))
    assert plain is not None and plain.language == language
    assert {stop.channel.value for stop in plain.route} == {"email", "letter"}  # too long for a text message
    for block in ("2026", "Example Tel", "611", "fcc.gov", "reportfraud.ftc.gov", "PIN"):
        assert block in plain.body
    assert "Equifax" not in plain.body
    exposed = an_incident(data_types=("call-detail", "government-id"))
    assert "Equifax" in customer_notice(exposed, customer, at("2027-01-04"), Letterhead()).body  # type: ignore[union-attr]
