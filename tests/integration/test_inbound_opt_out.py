"""Opt-outs by email (NOTICE-8, NOTICE-9) on SQLite and PostgreSQL: recorded at once from an
email of record, a confirmation asked of anyone else, everything else ignored, all in the ledger."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.clock import FixedClock
from cpniguard.consent.inbound import parse_inbound, receive_mail
from cpniguard.consent.model import Channel, ConsentEventKind
from cpniguard.consent.notices import send_opt_out_notices
from cpniguard.consent.service import record_event
from cpniguard.customers.model import ContactKind, Customer
from cpniguard.customers.service import add_contact
from cpniguard.decisions.model import Purpose, Request
from cpniguard.decisions.service import check
from cpniguard.notifications.model import NoticeEvent
from cpniguard.notifications.service import list_notices
from cpniguard.ports import NoticeRecord
from cpniguard.views import notice_view
from tests.conftest import T0, a_customer

MAILBOX = Actor.system("mail-listener")


def a_mail(sender: str, subject: str, body: str = "", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Ada Lovelace <{sender}>"
    message["To"] = "marketing@localhost"
    message["Subject"] = subject
    message["Message-ID"] = "<c0ffee.42@mail.example.com>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body or "Thank you.")
    return bytes(message)


def customer_of_two_years(app: App, actor: Actor) -> Customer:
    customer = a_customer(app, actor, at=T0 - timedelta(days=730))
    record_event(
        app.uow(), app.clock, actor, customer.id, ConsentEventKind.OPT_IN, Channel.WEB, at=T0 - timedelta(days=400)
    )
    return customer


def may_market(app: App, actor: Actor, customer: Customer) -> bool:
    return check(app.uow(), app.clock, actor, customer.id, Request(Purpose.MARKETING_COMMUNICATIONS)).allowed


def queued(app: App, event: NoticeEvent) -> list[NoticeRecord]:
    return [record for record in list_notices(app.uow()) if record.notice.event is event]


def opt_outs(app: App, customer: Customer) -> list[str]:
    with app.uow() as uow:
        return [e.evidence for e in uow.consent.events(customer.id) if e.kind is ConsentEventKind.OPT_OUT]


def test_an_opt_out_from_an_email_of_record_is_recorded_at_once_and_acknowledged(app: App, actor: Actor) -> None:
    customer = customer_of_two_years(app, actor)
    assert may_market(app, actor, customer)
    raw = a_mail("Ada@Example.com", "Please opt-out", "No marketing with my data, please.")
    outcome = receive_mail(app.uow(), app.clock, MAILBOX, raw, app.letterhead)
    assert (outcome.kind, outcome.customers) == ("recorded", (customer.id,))
    [evidence] = opt_outs(app, customer)
    assert evidence == f"email Message-ID <c0ffee.42@mail.example.com> sha256 {parse_inbound(raw).sha256}"
    assert not may_market(app, actor, customer)
    [ack] = queued(app, NoticeEvent.OPT_OUT_RECORDED)
    assert (ack.notice.customer_id, ack.channel, ack.recipient) == (customer.id, "email", "ada@example.com")


def test_the_same_message_handled_twice_is_recorded_once(app: App, actor: Actor) -> None:
    customer = customer_of_two_years(app, actor)
    raw = a_mail("ada@example.com", "unsubscribe")
    for _ in range(2):
        assert receive_mail(app.uow(), app.clock, MAILBOX, raw, app.letterhead).kind == "recorded"
    assert len(opt_outs(app, customer)) == 1


def test_notice_8_any_reply_to_one_of_our_opt_out_notices_counts_as_an_opt_out(app: App, actor: Actor) -> None:
    customer = customer_of_two_years(app, actor)
    send_opt_out_notices(app.uow(), app.clock, actor, app.letterhead, app.opt_out_addresses, [customer.id])
    [notice] = queued(app, NoticeEvent.OPT_OUT_NOTICE)
    ours = f"<{notice.notice.id}.0@cpniguard>"  # delivery/smtp.py's Message-ID of its first stop
    raw = a_mail("ada@example.com", "Re: Your choices", "Thanks, got it.", In_Reply_To=ours)
    assert receive_mail(app.uow(), app.clock, MAILBOX, raw, app.letterhead).kind == "recorded"
    assert len(opt_outs(app, customer)) == 1
    assert not may_market(app, actor, customer)


def test_a_reply_to_an_account_change_notice_is_an_opt_out_only_when_it_says_so(app: App, actor: Actor) -> None:
    customer = customer_of_two_years(app, actor)
    add_contact(app.uow(), app.clock, actor, customer.id, ContactKind.EMAIL, "ada.new@example.com")
    [change] = queued(app, NoticeEvent.EMAIL_CHANGED)
    ours = f"<{change.notice.id}.0@cpniguard>"
    question = a_mail("ada@example.com", "Re: Your account", "Was this you? I did not change it.", In_Reply_To=ours)
    assert receive_mail(app.uow(), app.clock, MAILBOX, question, app.letterhead).kind == "ignored"
    assert opt_outs(app, customer) == [] and may_market(app, actor, customer)
    unknown = a_mail("ada@example.com", "Re: hello", "Thanks.", In_Reply_To="<9f1c2e.0@cpniguard>")
    assert receive_mail(app.uow(), app.clock, MAILBOX, unknown, app.letterhead).kind == "ignored"
    objection = a_mail("ada@example.com", "Re: Your account", "Stop using my data for offers.", In_Reply_To=ours)
    assert receive_mail(app.uow(), app.clock, MAILBOX, objection, app.letterhead).kind == "recorded"
    assert not may_market(app, actor, customer)


def test_an_email_added_twelve_days_ago_is_not_of_record_and_is_asked_to_confirm(app: App, actor: Actor) -> None:
    customer = customer_of_two_years(app, actor)
    add_contact(
        app.uow(), FixedClock(T0 - timedelta(days=12)), actor, customer.id, ContactKind.EMAIL, "new@example.org"
    )
    outcome = receive_mail(app.uow(), app.clock, MAILBOX, a_mail("new@example.org", "STOP"), app.letterhead)
    assert (outcome.kind, outcome.customers) == ("confirmation-requested", ())
    assert opt_outs(app, customer) == []
    assert may_market(app, actor, customer)
    [confirm] = queued(app, NoticeEvent.OPT_OUT_CONFIRM)
    assert (confirm.notice.customer_id, confirm.recipient, confirm.notice.language) == (None, "new@example.org", "en")
    assert notice_view(confirm)["customer_id"] is None


def test_an_unknown_sender_writing_in_german_is_asked_in_german(app: App, actor: Actor) -> None:
    raw = a_mail("jemand@example.de", "Widerspruch", "Keine Werbung mehr bitte.")
    assert receive_mail(app.uow(), app.clock, MAILBOX, raw, app.letterhead).kind == "confirmation-requested"
    [confirm] = queued(app, NoticeEvent.OPT_OUT_CONFIRM)
    assert (confirm.recipient, confirm.notice.language) == ("jemand@example.de", "de")
    with app.uow() as uow:
        [entry] = uow.audit.find(None, "consent:inbound-mail:received", 10)
    assert "jemand" not in entry.details and "example.de" in entry.details


def test_a_mail_that_asks_for_nothing_is_ignored_but_on_the_ledger(app: App, actor: Actor) -> None:
    customer = customer_of_two_years(app, actor)
    raw = a_mail("ada@example.com", "Question about my bill", "Hello,\nwhy is it higher this month?")
    assert receive_mail(app.uow(), app.clock, MAILBOX, raw, app.letterhead).kind == "ignored"
    assert opt_outs(app, customer) == []
    assert queued(app, NoticeEvent.OPT_OUT_RECORDED) == queued(app, NoticeEvent.OPT_OUT_CONFIRM) == []
    with app.uow() as uow:
        [entry] = uow.audit.find(None, "consent:inbound-mail:received", 10)
    assert '"ignored"' in entry.details


def test_an_auto_reply_saying_stop_is_ignored(app: App, actor: Actor) -> None:
    customer = customer_of_two_years(app, actor)
    raw = a_mail("ada@example.com", "Out of office: stop by on Monday", Auto_Submitted="auto-replied")
    assert receive_mail(app.uow(), app.clock, MAILBOX, raw, app.letterhead).kind == "ignored"
    assert opt_outs(app, customer) == []


def test_an_address_stored_with_capitals_is_found_when_the_customer_writes_it_the_same_way(
    app: App, actor: Actor
) -> None:
    customer = a_customer(app, actor, emails=("Grace.Hopper@Example.com",), at=T0 - timedelta(days=730))
    raw = a_mail("Grace.Hopper@example.com", "opt out")
    outcome = receive_mail(app.uow(), app.clock, MAILBOX, raw, app.letterhead)
    assert (outcome.kind, outcome.customers) == ("recorded", (customer.id,))
