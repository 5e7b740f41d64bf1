"""The privacy office's pure rules: training (SAFE-2), complaint counts (CERT-3), policy versions."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from cpniguard.customers.model import Language
from cpniguard.errors import Conflict, Forbidden, InvalidInput
from cpniguard.privacy_office.model import (
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    TrainingRecord,
    check_cpni_training,
    count_complaints,
    new_training,
    training_due,
    year_bounds,
)
from cpniguard.privacy_office.policies import (
    PolicyDraft,
    PolicyVersion,
    effective_text,
    in_force,
    new_version,
    policy_text,
    portal_notice,
)
from cpniguard.privacy_office.policy_service import of_record_before

AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)


def record(name: str, completed: date, expires: date) -> TrainingRecord:
    return new_training(uuid.uuid4(), name, "CPNI basics", completed, expires, "hr", AT)


def test_safe_2_a_member_of_staff_without_current_training_cannot_be_made_an_agent() -> None:
    with pytest.raises(Forbidden, match=r"no current CPNI training.*agent role \(SAFE-2\)"):
        check_cpni_training("al", frozenset({"agent"}), [], TODAY)


def test_safe_2_training_counts_from_its_completion_day_until_the_day_before_it_expires() -> None:
    for completed, expires in [(date(2025, 3, 2), TODAY), (date(2026, 3, 3), date(2027, 3, 3))]:
        with pytest.raises(Forbidden):
            check_cpni_training("al", frozenset({"marketing"}), [record("al", completed, expires)], TODAY)
    check_cpni_training("al", frozenset({"cro"}), [record("al", TODAY, date(2026, 3, 3))], TODAY)


def test_safe_2_auditors_and_admins_open_no_cpni_and_need_no_training() -> None:
    check_cpni_training("audrey", frozenset({"auditor", "admin"}), [], TODAY)


def test_safe_2_every_role_that_opens_cpni_is_named_in_the_refusal() -> None:
    with pytest.raises(Forbidden, match="privacy-officer, supervisor role"):
        check_cpni_training("sam", frozenset({"supervisor", "privacy-officer", "auditor"}), [], TODAY)


def test_a_training_record_expires_after_the_day_it_was_completed() -> None:
    with pytest.raises(InvalidInput, match="expire after"):
        record("al", TODAY, TODAY)


def test_safe_2_training_due_lists_the_untrained_the_expired_and_those_expiring_soon() -> None:
    staff = {
        "untrained": frozenset({"agent"}),
        "expired": frozenset({"marketing"}),
        "soon": frozenset({"cro"}),
        "later": frozenset({"agent"}),
        "auditor": frozenset({"auditor"}),
    }
    records = [
        record("expired", date(2025, 1, 1), date(2026, 1, 1)),
        record("soon", date(2025, 3, 20), date(2026, 3, 20)),
        record("later", date(2026, 1, 1), date(2027, 1, 1)),
        record("later", date(2025, 1, 1), date(2026, 1, 1)),  # an older record does not make it due
    ]
    due = {d.staff_name: d.status for d in training_due(staff, records, TODAY, date(2026, 4, 1))}
    assert due == {"untrained": "none", "expired": "expired", "soon": "expiring"}


def test_cert_3_a_year_runs_from_midnight_1_january_to_midnight_1_january_eastern() -> None:
    since, until = year_bounds(2026)
    assert since == datetime(2026, 1, 1, 5, 0, tzinfo=UTC)
    assert until == datetime(2027, 1, 1, 5, 0, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        year_bounds(26)


def test_cert_3_counts_complaints_per_category_and_month_with_zeros_for_the_rest() -> None:
    counts = count_complaints(
        2026,
        [(1, ComplaintCategory.EMPLOYEE_ACCESS), (1, ComplaintCategory.EMPLOYEE_ACCESS), (12, ComplaintCategory.OTHER)],
    )
    assert counts.total == 3
    assert counts.by_category == {
        "employee-access": 2,
        "unauthorized-disclosure": 0,
        "online-access": 0,
        "other": 1,
    }
    assert counts.by_month[1]["employee-access"] == 2 and counts.by_month[12]["other"] == 1
    assert sum(sum(row.values()) for row in counts.by_month.values()) == 3 and len(counts.by_month) == 12


def test_a_complaint_is_closed_once_and_not_before_it_was_received() -> None:
    complaint = Complaint(uuid.uuid4(), AT, ComplaintCategory.ONLINE_ACCESS, ComplaintChannel.PHONE, None, "s", "x", AT)
    with pytest.raises(InvalidInput):
        complaint.closed("done", datetime(2026, 3, 1, tzinfo=UTC))
    closed = complaint.closed("account secured", AT)
    assert closed.status == "closed" and closed.resolution == "account secured"
    with pytest.raises(Conflict, match="closed already"):
        closed.closed("again", AT)


def version(label: str, effective: date, material: bool = False, language: str = "en") -> PolicyVersion:
    draft = PolicyDraft(label, language, effective, f"# Policy {label}", f"changes in {label}", material)
    return new_version(uuid.uuid4(), draft, [], "office", AT)


def test_a_policy_version_is_refused_for_an_unknown_language_empty_text_or_a_repeated_label() -> None:
    first = version("1.0", date(2026, 1, 1))
    with pytest.raises(InvalidInput, match="unknown language 'fr'"):
        new_version(uuid.uuid4(), PolicyDraft("2", "fr", TODAY, "# x", "s"), [first], "o", AT)
    with pytest.raises(InvalidInput, match="text is empty"):
        new_version(uuid.uuid4(), PolicyDraft("2", "en", TODAY, " \n\n ", "s"), [first], "o", AT)
    with pytest.raises(Conflict, match=r"1\.0 in en is published already"):
        new_version(uuid.uuid4(), PolicyDraft("1.0", "en", TODAY, "# x", "s"), [first], "o", AT)
    german = new_version(uuid.uuid4(), PolicyDraft("1.0", "de", TODAY, "# x", "s"), [first], "o", AT)
    assert german.language is Language.DE  # the same label in another language is another version


def test_a_policy_version_cannot_take_effect_before_the_current_one() -> None:
    current = version("2.0", date(2026, 2, 1))
    with pytest.raises(InvalidInput, match=r"before that of version 2.0 \(2026-02-01\)"):
        new_version(uuid.uuid4(), PolicyDraft("3.0", "en", date(2026, 1, 31), "# x", "s"), [current], "o", AT)
    later = new_version(uuid.uuid4(), PolicyDraft("3.0", "en", date(2026, 2, 1), "# x", "s"), [current], "o", AT)
    assert later.effective_on == date(2026, 2, 1)


def test_the_version_in_force_is_the_last_to_take_effect_by_that_eastern_day() -> None:
    versions = [version("1", date(2026, 1, 1)), version("2", date(2026, 3, 2)), version("9", TODAY, language="de")]
    late_evening_before = datetime(2026, 3, 2, 4, 59, tzinfo=UTC)  # 23:59 on 1 March in New York
    assert in_force(versions, Language.EN, late_evening_before).version == "1"  # type: ignore[union-attr]
    assert in_force(versions, Language.EN, AT).version == "2"  # type: ignore[union-attr]
    assert in_force(versions, Language.EN, datetime(2025, 12, 31, tzinfo=UTC)) is None


def test_the_portal_shows_the_latest_material_change_through_the_90th_day_after_it_takes_effect() -> None:
    versions = [version("1", date(2025, 6, 1), material=True), version("2", date(2026, 1, 1), material=True)]
    versions.append(version("2.1", date(2026, 2, 1)))  # not material: not announced
    assert portal_notice(versions, Language.EN, datetime(2026, 3, 2, 15, tzinfo=UTC)).version == "2"  # type: ignore[union-attr]
    assert portal_notice(versions, Language.EN, datetime(2026, 4, 1, 15, tzinfo=UTC)) is not None  # day 90
    assert portal_notice(versions, Language.EN, datetime(2026, 4, 2, 15, tzinfo=UTC)) is None  # day 91
    assert portal_notice(versions, Language.DE, AT) is None


def test_a_policy_file_must_be_utf_8_and_may_start_with_a_byte_order_mark() -> None:
    assert policy_text("\ufeff# Datenschutz für Sie".encode()) == "# Datenschutz für Sie"
    with pytest.raises(InvalidInput, match="not UTF-8"):
        policy_text("# Datenschutz".encode("utf-16"))


def test_notices_write_the_effective_date_as_each_language_does() -> None:
    assert effective_text(date(2026, 12, 1), Language.EN) == "December 1, 2026"
    assert effective_text(date(2026, 12, 1), Language.DE) == "01.12.2026"


def test_def_5_an_email_added_on_2_march_is_of_record_from_1_april_eastern() -> None:
    first_of_april = datetime(2026, 4, 1, 16, 0, tzinfo=UTC)
    threshold = of_record_before(first_of_april)
    assert threshold == datetime(2026, 3, 3, 5, 0, tzinfo=UTC)  # midnight starting 3 March, New York
    assert datetime(2026, 3, 3, 4, 59, tzinfo=UTC) < threshold  # 23:59 on 2 March counts
