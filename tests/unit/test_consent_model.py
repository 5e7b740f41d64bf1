"""The consent ledger's fold: waiting periods (AMB-3, NOTICE-6), re-notice (AMB-9, NOTICE-7),
objections and opt-ins (CONSENT-2), bounced notices (NOTICE-8)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from cpniguard.calendar import parse_when
from cpniguard.consent.model import (
    Channel,
    ConsentEvent,
    ConsentEventKind,
    fold,
    validate_event,
)
from cpniguard.errors import InvalidInput
from cpniguard.ids import CustomerId

CUSTOMER = CustomerId(uuid.uuid4())
K = ConsentEventKind


def event(kind: ConsentEventKind, at: str, channel: Channel = Channel.EMAIL, evidence: str = "") -> ConsentEvent:
    when = parse_when(at)
    return ConsentEvent(uuid.uuid4(), CUSTOMER, kind, channel, when, when, "staff:test", evidence)


def presumed(events: list[ConsentEvent], at: str) -> bool:
    moment = parse_when(at)
    return fold(CUSTOMER, events, moment).opt_out_approval_presumed(moment)


def test_notice_by_email_presumes_approval_from_the_31st_day_after_sending_amb_3() -> None:
    notice = [event(K.OPT_OUT_NOTICE_SENT, "2026-03-02T10:00")]
    assert not presumed(notice, "2026-04-01T23:59")
    assert presumed(notice, "2026-04-02")


def test_notice_by_mail_starts_its_period_three_days_after_mailing_notice_6() -> None:
    notice = [event(K.OPT_OUT_NOTICE_SENT, "2026-03-02T10:00", Channel.MAIL)]
    assert not presumed(notice, "2026-04-04T23:59")
    assert presumed(notice, "2026-04-05")


def test_presumed_approval_stops_when_the_biennial_renotice_is_overdue_amb_9() -> None:
    notice = [event(K.OPT_OUT_NOTICE_SENT, "2026-03-02T10:00")]
    assert presumed(notice, "2028-03-01T23:59")
    assert not presumed(notice, "2028-03-02")
    assert fold(CUSTOMER, notice).renotice_overdue(parse_when("2028-03-02"))


def test_a_renotice_in_time_keeps_approval_without_a_new_wait() -> None:
    events = [event(K.OPT_OUT_NOTICE_SENT, "2026-03-02"), event(K.OPT_OUT_NOTICE_SENT, "2028-02-01")]
    assert presumed(events, "2028-02-02")
    assert presumed(events, "2030-01-31")
    assert not presumed(events, "2030-02-01")


def test_a_renotice_after_the_lapse_needs_a_new_waiting_period() -> None:
    events = [event(K.OPT_OUT_NOTICE_SENT, "2026-03-02"), event(K.OPT_OUT_NOTICE_SENT, "2028-06-01")]
    assert not presumed(events, "2028-06-15")
    assert presumed(events, "2028-07-02")


def test_a_bounced_email_notice_never_starts_the_waiting_period_notice_8() -> None:
    sent = event(K.OPT_OUT_NOTICE_SENT, "2026-03-02")
    bounce = event(K.OPT_OUT_NOTICE_BOUNCED, "2026-03-02T11:00", evidence=str(sent.id))
    assert not presumed([sent, bounce], "2026-05-01")


def test_a_report_naming_the_outbox_notice_removes_that_notice_and_no_other_notice_8() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()  # outbox notices, as the worker names them
    old = event(K.OPT_OUT_NOTICE_SENT, "2026-03-02", evidence=f"notice {first}.0: 250 ok")
    renotice = event(K.OPT_OUT_NOTICE_SENT, "2027-12-01", evidence=f"notice {second}.0: 250 ok")
    report = event(K.OPT_OUT_NOTICE_BOUNCED, "2027-12-02", evidence=f"delivery status report for notice {second}.0")
    state = fold(CUSTOMER, [old, renotice, report], parse_when("2027-12-03"))
    assert state.presumed_from is not None and state.renotice_due is not None
    assert state.renotice_due < parse_when("2028-03-03")  # the old notice counts, the re-notice does not


def test_an_email_that_failed_before_it_was_delivered_removes_no_earlier_notice_notice_8() -> None:
    old = event(K.OPT_OUT_NOTICE_SENT, "2026-03-02", evidence=f"notice {uuid.uuid4()}.0: 250 ok")
    failed = event(K.OPT_OUT_NOTICE_BOUNCED, "2027-12-02", evidence=f"notice {uuid.uuid4()}.0: 550 no such user")
    assert presumed([old, failed], "2027-12-03")


def test_a_bounce_recorded_without_any_id_removes_the_latest_email_notice_notice_8() -> None:
    sent = event(K.OPT_OUT_NOTICE_SENT, "2026-03-02")
    assert not presumed([sent, event(K.OPT_OUT_NOTICE_BOUNCED, "2026-03-03", evidence="bounced")], "2026-05-01")


def test_an_objection_lasts_until_the_customer_withdraws_it_consent_2() -> None:
    events = [event(K.OPT_OUT_NOTICE_SENT, "2026-01-02"), event(K.OPT_OUT, "2026-01-10")]
    far_future = parse_when("2031-01-10")
    assert fold(CUSTOMER, events, far_future).objection_active(far_future)
    withdrawn = [*events, event(K.OPT_OUT_WITHDRAWN, "2031-01-11")]
    state = fold(CUSTOMER, withdrawn, parse_when("2031-01-12"))
    assert not state.objection_active(parse_when("2031-01-12"))


def test_an_opt_in_ends_an_earlier_objection_and_an_objection_ends_an_opt_in() -> None:
    events = [event(K.OPT_OUT, "2026-01-10"), event(K.OPT_IN, "2026-02-10")]
    at = parse_when("2026-02-11")
    state = fold(CUSTOMER, events, at)
    assert state.opt_in_active(at) and not state.objection_active(at)
    state = fold(CUSTOMER, [*events, event(K.OPT_OUT, "2026-03-01")])
    assert state.objection_active(at.replace(month=3, day=2)) and state.opt_in_since is None


def test_the_state_at_a_past_moment_ignores_later_events() -> None:
    events = [event(K.OPT_IN, "2026-01-10"), event(K.OPT_IN_REVOKED, "2026-02-10")]
    assert fold(CUSTOMER, events, parse_when("2026-01-20")).opt_in_active(parse_when("2026-01-20"))
    assert not fold(CUSTOMER, events, parse_when("2026-02-20")).opt_in_active(parse_when("2026-02-20"))


def test_back_dated_events_fold_in_effective_order() -> None:
    late_recorded = event(K.OPT_OUT, "2026-01-05")
    events = [event(K.OPT_IN, "2026-01-10"), late_recorded]
    at = parse_when("2026-01-20")
    assert fold(CUSTOMER, events, at).opt_in_active(at)


def test_a_one_time_approval_is_no_standing_approval_use_9() -> None:
    state = fold(CUSTOMER, [event(K.ONE_TIME_APPROVAL, "2026-01-10", Channel.PHONE)])
    at = datetime(2026, 1, 11, tzinfo=UTC)
    assert not state.opt_in_active(at) and not state.opt_out_approval_presumed(at)


def test_an_opt_out_notice_must_be_written_or_electronic_notice_5() -> None:
    with pytest.raises(InvalidInput, match="NOTICE-5"):
        validate_event(K.OPT_OUT_NOTICE_SENT, Channel.PHONE)
    validate_event(K.OPT_OUT_NOTICE_SENT, Channel.MAIL)
