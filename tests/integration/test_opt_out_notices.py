"""Opt-out notices: individually, by email or letter, the waiting period from delivery, bounces
falling back to a letter, and the biennial re-notice report (NOTICE-2, NOTICE-5..NOTICE-8)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from email.message import EmailMessage

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.breaches.closures import add_closure
from cpniguard.clock import FixedClock
from cpniguard.consent.failures import record_opt_out_failure
from cpniguard.consent.inbound import receive_mail
from cpniguard.consent.model import Channel as ConsentChannel
from cpniguard.consent.model import ConsentEventKind
from cpniguard.consent.notices import OptOutAddresses, notices_due, send_opt_out_notices
from cpniguard.consent.service import record_event
from cpniguard.customers.model import Language
from cpniguard.decisions.model import Purpose, Request
from cpniguard.decisions.service import check
from cpniguard.notifications.model import Channel
from cpniguard.notifications.service import Letterhead, Worker, deliver_due
from cpniguard.ports import DeliveryFailed, Envelope
from tests.conftest import T0, a_customer

TWO_YEARS_AGO = T0 - timedelta(days=730)
ADDRESSES = OptOutAddresses("marketing@carrier.example", "Customer Care, PO Box 1, Springfield, IL 62701")


class FakeSender:
    """Records what it was given; fails for good when told to (a 550 for an email)."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[Envelope] = []
        self.fail = fail

    def send(self, envelope: Envelope) -> str:
        if self.fail:
            raise DeliveryFailed("SMTP server answered 550: no such mailbox", transient=False)
        self.sent.append(envelope)
        return f"ref-{len(self.sent)}"


def _worker(email: FakeSender, letter: FakeSender) -> Worker:
    return Worker("test-worker", {Channel.EMAIL: email, Channel.LETTER: letter})


def _events(app: App, customer: object) -> list[tuple[str, str]]:
    with app.uow() as uow:
        return [(e.kind.value, e.channel.value) for e in uow.consent.events(customer)]  # type: ignore[arg-type]


def _marketing(app: App, actor: Actor, customer: object) -> bool:
    return check(app.uow(), app.clock, actor, customer, Request(Purpose.MARKETING_COMMUNICATIONS)).allowed  # type: ignore[arg-type]


def test_notice_6_an_email_notice_starts_the_waiting_period_when_it_is_delivered(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer = a_customer(app, actor, at=TWO_YEARS_AGO)
    run = send_opt_out_notices(app.uow(), app.clock, actor, Letterhead(), ADDRESSES, [customer.id])
    assert run.queued == [str(customer.id)]
    assert _events(app, customer.id) == []  # queued is not sent
    email, letter = FakeSender(), FakeSender()
    assert deliver_due(app.uow, app.clock, _worker(email, letter)).outcomes == {"delivered": 1}
    [sent] = email.sent
    assert sent.recipient == "ada@example.com" and "opt out" in sent.body and "30 days" in sent.body
    assert _events(app, customer.id) == [("opt-out-notice-sent", "email")]
    clock.move_to(T0 + timedelta(days=30))
    assert not _marketing(app, actor, customer.id)  # AMB-3: still waiting
    clock.move_to(T0 + timedelta(days=31))
    assert _marketing(app, actor, customer.id)


def test_notice_8_a_bounced_email_notice_starts_nothing_and_a_letter_goes_instead(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer = a_customer(app, actor, at=TWO_YEARS_AGO)
    send_opt_out_notices(app.uow(), app.clock, actor, Letterhead(), ADDRESSES, [customer.id])
    email, letter = FakeSender(fail=True), FakeSender()
    deliver_due(app.uow, app.clock, _worker(email, letter))
    assert _events(app, customer.id) == [("opt-out-notice-bounced", "email")]
    assert letter.sent == []
    deliver_due(app.uow, app.clock, _worker(email, letter))  # the fallback is due at once
    [mailed] = letter.sent
    assert mailed.recipient.startswith("Ada Lovelace\n12 Analytical Way")
    assert _events(app, customer.id) == [("opt-out-notice-bounced", "email"), ("opt-out-notice-sent", "mail")]
    clock.move_to(T0 + timedelta(days=33))  # mailed on day 0: the period starts on day 3 (NOTICE-6)
    assert not _marketing(app, actor, customer.id)
    clock.move_to(T0 + timedelta(days=34))
    assert _marketing(app, actor, customer.id)


def test_notice_5_a_customer_without_an_email_or_postal_address_of_record_gets_no_notice(
    app: App, actor: Actor
) -> None:
    customer = a_customer(app, actor, emails=(), postal_addresses=(), at=TWO_YEARS_AGO)
    run = send_opt_out_notices(app.uow(), app.clock, actor, Letterhead(), ADDRESSES, [customer.id])
    assert run.queued == [] and "no email or postal address of record" in run.skipped[str(customer.id)]
    with app.uow() as uow:
        assert uow.outbox.notices(customer.id, 10) == []


def test_notice_7_a_notice_two_years_old_is_due_again_and_sending_it_clears_the_report(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    old = a_customer(app, actor, at=TWO_YEARS_AGO - timedelta(days=30))
    fresh = a_customer(app, actor, name="Fresh Notice", telephone_numbers=("+12025550177",), at=TWO_YEARS_AGO)
    never = a_customer(app, actor, name="Never Noticed", telephone_numbers=("+12025550178",), at=TWO_YEARS_AGO)
    record_event(
        app.uow(),
        app.clock,
        actor,
        old.id,
        ConsentEventKind.OPT_OUT_NOTICE_SENT,
        ConsentChannel.EMAIL,
        at=TWO_YEARS_AGO,
    )
    record_event(
        app.uow(),
        app.clock,
        actor,
        fresh.id,
        ConsentEventKind.OPT_OUT_NOTICE_SENT,
        ConsentChannel.EMAIL,
        at=T0 - timedelta(days=40),
    )
    assert notices_due(app.uow(), T0) == [old.id]
    assert set(notices_due(app.uow(), T0, include_never=True)) == {old.id, never.id}
    send_opt_out_notices(app.uow(), app.clock, actor, Letterhead(), ADDRESSES, [old.id])
    deliver_due(app.uow, app.clock, _worker(FakeSender(), FakeSender()))
    assert notices_due(app.uow(), T0) == []


def test_safe_5_an_opt_out_failure_creates_the_fcc_letter_task_due_in_five_business_days(
    app: App, actor: Actor
) -> None:
    task = record_opt_out_failure(
        app.uow(), app.clock, actor, "email reply", "replies were refused for two days", date(2026, 11, 25)
    )
    assert task.due_on == date(2026, 12, 3)  # Thanksgiving (26 November) is skipped
    with app.uow() as uow:
        [alert] = uow.auth.alerts(None, 10)
    fields = json.loads(alert.details)
    assert alert.kind == "fcc-opt-out-failure-letter" and fields["due_on"] == "2026-12-03"
    assert {
        "carrier_name",
        "mechanisms",
        "problem",
        "remedy_and_date",
        "state_commissions",
        "customer_notice_copy",
        "contact",
    } <= set(fields)
    assert fields["problem"] == "replies were refused for two days"


def _status_report(notice_key: str) -> bytes:
    """A delivery status report (RFC 3464) as a mail server sends it for a message that bounced."""
    report = EmailMessage()
    report["From"] = "MAILER-DAEMON@mx.example.com"
    report["To"] = "marketing@localhost"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Message-ID"] = "<dsn.1@mx.example.com>"
    report["Auto-Submitted"] = "auto-replied"
    report.set_content("Your message could not be delivered.")
    status = EmailMessage()
    status.set_content(
        "Reporting-MTA: dns; mx.example.com\n\n"
        "Final-Recipient: rfc822; ada@example.com\nAction: failed\nStatus: 5.1.1\n"
    )
    report.make_mixed()
    report.attach(status)
    returned = EmailMessage()
    returned["Message-ID"] = f"<{notice_key}@cpniguard>"
    returned.set_content("(the notice)")
    report.attach(returned)
    raw = bytes(report).replace(b"multipart/mixed", b'multipart/report; report-type="delivery-status"', 1)
    return raw


def test_notice_8_a_bounce_reported_after_delivery_cancels_the_waiting_period_and_a_letter_goes(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer = a_customer(app, actor, at=TWO_YEARS_AGO)
    send_opt_out_notices(app.uow(), app.clock, actor, Letterhead(), ADDRESSES, [customer.id])
    email, letter = FakeSender(), FakeSender()
    deliver_due(app.uow, app.clock, _worker(email, letter))
    [sent] = email.sent
    clock.move_to(T0 + timedelta(hours=2))
    outcome = receive_mail(app.uow(), app.clock, actor, _status_report(sent.idempotency_key), Letterhead())
    assert (outcome.kind, outcome.customers) == ("bounce-recorded", (customer.id,))
    assert _events(app, customer.id) == [("opt-out-notice-sent", "email"), ("opt-out-notice-bounced", "email")]
    clock.move_to(T0 + timedelta(days=40))
    assert not _marketing(app, actor, customer.id)  # the bounced notice never started a period
    deliver_due(app.uow, app.clock, _worker(email, letter))
    [mailed] = letter.sent
    assert mailed.recipient.startswith("Ada Lovelace\n") and "opt out" in mailed.body


def test_safe_5_and_cal_3_a_closure_day_on_file_moves_the_fcc_letter_task(app: App, actor: Actor) -> None:
    add_closure(app.uow(), app.clock, actor, date(2026, 11, 27), "executive order: federal offices closed")
    task = record_opt_out_failure(app.uow(), app.clock, actor, "email reply", "replies refused", date(2026, 11, 25))
    assert task.due_on == date(2026, 12, 4)


def test_notice_2_a_run_repeated_before_the_worker_delivered_queues_no_second_notice(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer = a_customer(app, actor, at=TWO_YEARS_AGO)
    other = a_customer(
        app, actor, name="Other", telephone_numbers=("+12025550177",), emails=("other@example.com",), at=TWO_YEARS_AGO
    )
    assert send_opt_out_notices(app.uow(), app.clock, actor, Letterhead(), ADDRESSES, [customer.id]).queued
    again = send_opt_out_notices(app.uow(), app.clock, actor, Letterhead(), ADDRESSES, [customer.id, other.id])
    assert again.queued == [str(other.id)]
    assert again.skipped == {str(customer.id): "an opt-out notice is already queued and not yet delivered"}
    with app.uow() as uow:
        assert len(uow.outbox.notices(customer.id, 10)) == 1
    email = FakeSender()
    deliver_due(app.uow, app.clock, _worker(email, FakeSender()))
    assert sorted(e.recipient for e in email.sent) == ["ada@example.com", "other@example.com"]  # one each
    clock.move_to(T0 + timedelta(days=800))  # delivered and due again (NOTICE-7): queued once more
    assert send_opt_out_notices(app.uow(), app.clock, actor, Letterhead(), ADDRESSES, [customer.id]).queued


def test_notice_8_an_emailed_notice_is_answered_to_the_marketing_mailbox_and_its_letter_says_write_or_call(
    app: App, actor: Actor
) -> None:
    customer = a_customer(app, actor, at=TWO_YEARS_AGO)
    letterhead = Letterhead("Example Telecom", "1-800-555-0100")
    send_opt_out_notices(app.uow(), app.clock, actor, letterhead, ADDRESSES, [customer.id])
    email, letter = FakeSender(fail=True), FakeSender()
    deliver_due(app.uow, app.clock, _worker(email, letter))
    deliver_due(app.uow, app.clock, _worker(FakeSender(), letter))
    with app.uow() as uow:
        [record] = uow.outbox.notices(customer.id, 10)
    emailed = record.notice
    assert emailed.reply_to == "marketing@carrier.example"
    assert "reply to this email with the words opt out" in emailed.body
    assert "send an email saying opt out to marketing@carrier.example" in emailed.body
    [mailed] = letter.sent
    assert mailed.reply_to is None and "reply" not in mailed.body
    assert "send an email with the words opt out to marketing@carrier.example" in mailed.body
    assert "write to us at Customer Care, PO Box 1, Springfield, IL 62701, or call 1-800-555-0100" in mailed.body


def test_notice_3_a_german_customer_with_no_email_gets_a_letter_that_names_every_way_to_opt_out(
    app: App, actor: Actor
) -> None:
    customer = a_customer(app, actor, emails=(), language=Language.DE, at=TWO_YEARS_AGO)
    send_opt_out_notices(app.uow(), app.clock, actor, Letterhead(), ADDRESSES, [customer.id])
    letter = FakeSender()
    deliver_due(app.uow, app.clock, _worker(FakeSender(), letter))
    [mailed] = letter.sent
    assert mailed.language == "de" and "Antworten" not in mailed.body
    assert "E-Mail mit den Worten opt out an marketing@carrier.example" in mailed.body
    assert "schreiben Sie uns an Customer Care, PO Box 1, Springfield, IL 62701" in mailed.body
    assert "die Kundendienstnummer auf Ihrer Rechnung an" in mailed.body


def test_safe_5_the_task_is_the_alert_staff_see_with_the_carrier_s_contact(app: App, actor: Actor) -> None:
    contact = "Example Telecom; 1 Main St, Springfield, IL 62701; 1-800-555-0100"
    task = record_opt_out_failure(
        app.uow(), app.clock, actor, "email reply", "refused", date(2026, 11, 25), "", "Example Telecom", contact
    )
    with app.uow() as uow:
        [alert] = uow.auth.alerts(None, 10)
    assert str(alert.id) == task.id and task.letter.contact == contact
    assert json.loads(alert.details)["contact"] == contact
