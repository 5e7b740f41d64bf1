"""Account-change notices queued with the change, on SQLite and PostgreSQL: to whom, through
which channel, with what text (NOTIFY-2 to NOTIFY-5, DEF-5, AMB-4)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.clock import FixedClock
from cpniguard.customers.model import ContactKind, Customer, Language
from cpniguard.customers.service import add_contact, change_contact
from cpniguard.db import tables as t
from cpniguard.errors import InvalidInput
from cpniguard.notifications.model import Channel, NoticeEvent, Stop
from cpniguard.notifications.service import list_notices
from cpniguard.ports import NoticeRecord
from tests.conftest import T0, a_customer

TWO_YEARS_AGO = T0 - timedelta(days=730)
PHONE, POSTAL = "+12025550123", "12 Analytical Way, Springfield, IL 62701"


def notices(app: App, customer: Customer) -> list[NoticeRecord]:
    return list_notices(app.uow(), customer.id)


def the_notice(app: App, customer: Customer) -> NoticeRecord:
    """The newest notice of the customer (the listing is newest first)."""
    return notices(app, customer)[0]


def contacts_on_account(customer: Customer, kind: ContactKind) -> list[str]:
    return [c.value for c in customer.contacts if c.kind is kind and c.on_account(T0)]


def reloaded(app: App, customer: Customer) -> Customer:
    with app.uow() as uow:
        found = uow.customers.get(customer.id)
    assert found is not None
    return found


def rows(app: App) -> dict[str, int]:
    with app.engine.connect() as conn:
        return {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (t.contacts, t.outbox, t.audit_entries)
        }


def audit_actions(app: App, customer: Customer) -> list[str]:
    with app.uow() as uow:
        return [entry.action for entry in uow.audit.find(customer.id, None, 100)]


# --- to whom: NOTIFY-5, DEF-5, NOTIFY-3 ---------------------------------------------------------


def test_notify_5_the_notice_of_an_email_change_goes_to_the_old_address_never_the_new_one(
    app: App, actor: Actor
) -> None:
    customer = a_customer(app, actor, emails=("a@example.com",), at=TWO_YEARS_AGO)
    change_contact(app.uow(), app.clock, actor, customer.id, ContactKind.EMAIL, "b@example.com")
    record = the_notice(app, customer)
    assert record.notice.event is NoticeEvent.EMAIL_CHANGED
    assert (record.channel, record.recipient) == ("email", "a@example.com")
    assert record.notice.route[0] == Stop(Channel.EMAIL, "a@example.com")
    assert all(stop.recipient != "b@example.com" for stop in record.notice.route)
    after = reloaded(app, customer)
    assert contacts_on_account(after, ContactKind.EMAIL) == ["b@example.com"]
    [old] = [c for c in after.contacts if c.value == "a@example.com"]
    assert old.removed_at == T0


def test_def_5_notify_3_with_only_a_12_day_old_email_the_notice_goes_by_sms_then_voice_then_letter(
    app: App, actor: Actor
) -> None:
    customer = a_customer(app, actor, emails=(), at=TWO_YEARS_AGO)
    add_contact(app.uow(), FixedClock(T0 - timedelta(12)), actor, customer.id, ContactKind.EMAIL, "young@example.com")
    change_contact(app.uow(), app.clock, actor, customer.id, ContactKind.EMAIL, "newer@example.com")
    record = the_notice(app, customer)
    assert record.notice.event is NoticeEvent.EMAIL_CHANGED
    assert record.notice.route == (
        Stop(Channel.SMS, PHONE),
        Stop(Channel.VOICE, PHONE),
        Stop(Channel.LETTER, "Ada Lovelace\n12 Analytical Way\nSpringfield, IL 62701"),
    )
    assert (record.channel, record.recipient) == ("sms", PHONE)


def test_notify_5_def_6_a_number_the_customer_just_gave_never_carries_the_notice_of_the_next_change(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer = a_customer(app, actor, emails=(), at=TWO_YEARS_AGO)
    change_contact(app.uow(), app.clock, actor, customer.id, ContactKind.TELEPHONE, "+12025550199")
    clock.move_to(T0 + timedelta(minutes=5))
    change_contact(app.uow(), app.clock, actor, customer.id, ContactKind.POSTAL, "9 Other Road, Dayton, OH 45402")
    record = the_notice(app, customer)
    assert record.notice.event is NoticeEvent.POSTAL_ADDRESS_CHANGED
    assert all(stop.recipient != "+12025550199" for stop in record.notice.route)
    assert record.notice.route[0] == Stop(Channel.SMS, PHONE)  # the number of the service itself


# --- what it says: NOTIFY-4 ---------------------------------------------------------------------

CHANGES = [
    pytest.param(ContactKind.EMAIL, "ada@example.com", "lovelace@example.org", id="email"),
    pytest.param(ContactKind.POSTAL, POSTAL, "77 Difference Engine Rd, Dayton, OH 45402", id="postal"),
    pytest.param(ContactKind.TELEPHONE, PHONE, "+12025550177", id="phone"),
]
SUBJECTS = {Language.EN: "Your account was changed", Language.DE: "Ihr Kundenkonto wurde geändert"}


@pytest.mark.parametrize("language", [Language.EN, Language.DE], ids=["en", "de"])
@pytest.mark.parametrize(("kind", "old", "new"), CHANGES)
def test_notify_4_the_notice_reveals_neither_the_old_nor_the_new_value_in_either_language(
    app: App, actor: Actor, kind: ContactKind, old: str, new: str, language: Language
) -> None:
    customer = a_customer(app, actor, language=language, at=TWO_YEARS_AGO)
    change_contact(app.uow(), app.clock, actor, customer.id, kind, new)
    notice = the_notice(app, customer).notice
    rendered = f"{notice.subject}\n{notice.body}"
    for value in (old, new):
        assert value not in rendered
        assert value.split("@")[0].split(",")[0].lstrip("+") not in rendered  # nor a telling part of it
    assert notice.language == language.value
    assert notice.subject == SUBJECTS[language]


def test_notify_4_the_german_notice_says_what_kind_of_thing_changed_and_whom_to_call(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor, language=Language.DE, at=TWO_YEARS_AGO)
    change_contact(app.uow(), app.clock, actor, customer.id, ContactKind.EMAIL, "neu@example.de")
    body = the_notice(app, customer).notice.body
    assert "die E-Mail-Adresse Ihres Kundenkontos geändert" in body
    assert "02.03.2026 um 10:00 Uhr" in body
    assert "Kundendienstnummer" in body


# --- with the change, or not at all: AMB-4 ------------------------------------------------------


@pytest.mark.parametrize("new", ["not an email", "ada@example.com"], ids=["invalid", "the-same-again"])
def test_amb_4_a_change_that_fails_writes_neither_contact_nor_notice_nor_audit_entry(
    app: App, actor: Actor, new: str
) -> None:
    customer = a_customer(app, actor, at=TWO_YEARS_AGO)
    before = rows(app)
    with pytest.raises(InvalidInput):
        change_contact(app.uow(), app.clock, actor, customer.id, ContactKind.EMAIL, new)
    assert rows(app) == before
    assert contacts_on_account(reloaded(app, customer), ContactKind.EMAIL) == ["ada@example.com"]


def refuse_outbox_rows(app: App) -> None:
    """A trigger that makes the database refuse any outbox row: the last write of a change."""
    with app.engine.begin() as conn:
        if app.engine.dialect.name == "sqlite":
            conn.execute(
                text("CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'refused'); END")
            )
            return
        conn.execute(
            text(
                "CREATE FUNCTION refuse_outbox() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$"
            )
        )
        conn.execute(
            text("CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_outbox()")
        )


def test_amb_4_when_the_notice_cannot_be_queued_the_change_is_not_made(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor, at=TWO_YEARS_AGO)
    refuse_outbox_rows(app)
    before = rows(app)
    with pytest.raises(DBAPIError, match="refused"):
        change_contact(app.uow(), app.clock, actor, customer.id, ContactKind.EMAIL, "b@example.com")
    assert rows(app) == before
    assert contacts_on_account(reloaded(app, customer), ContactKind.EMAIL) == ["ada@example.com"]


# --- which events: NOTIFY-1, NOTIFY-2 -----------------------------------------------------------


def test_notify_2_opening_an_account_queues_no_notice(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor)
    assert notices(app, customer) == []
    assert not [action for action in audit_actions(app, customer) if action.startswith("notifications:")]


def test_notify_1_adding_a_contact_queues_a_notice_to_the_contacts_of_record_before_it(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor, at=TWO_YEARS_AGO)
    add_contact(app.uow(), app.clock, actor, customer.id, ContactKind.EMAIL, "second@example.com")
    [record] = notices(app, customer)
    assert record.notice.event is NoticeEvent.EMAIL_CHANGED
    assert (record.channel, record.recipient) == ("email", "ada@example.com")
    assert all(stop.recipient != "second@example.com" for stop in record.notice.route)
    assert contacts_on_account(reloaded(app, customer), ContactKind.EMAIL) == ["ada@example.com", "second@example.com"]
    assert "customers:contact:added" in audit_actions(app, customer)


def test_the_ledger_records_the_change_and_the_queued_notice_naming_it(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor, at=TWO_YEARS_AGO)
    change_contact(app.uow(), app.clock, actor, customer.id, ContactKind.EMAIL, "b@example.com")
    with app.uow() as uow:
        [changed] = uow.audit.find(customer.id, "customers:contact:changed", 10)
        [queued] = uow.audit.find(customer.id, "notifications:email-changed:queued", 10)
    assert (changed.actor, queued.actor) == (actor.label, actor.label)
    assert json.loads(changed.details)["kind"] == "email"
    assert json.loads(queued.details) == {"notice": str(the_notice(app, customer).notice.id), "channel": "email"}
    assert "b@example.com" not in changed.details + queued.details
