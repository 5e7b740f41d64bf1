"""Setting and checking credentials on SQLite and PostgreSQL: proof before a PIN is set
(AUTH-7), one-time codes to contacts of record (DEF-5, DEF-6, AMB-5), biographical refusals
(DEF-4, DEF-7), photo ID (AUTH-6, DEF-8), change notices (NOTIFY-1, NOTIFY-2), hashes only, and
the lockout with its alert, notice and ledger (AUTH-1)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from cpniguard.actors import Actor
from cpniguard.auth.codes import CodePurpose
from cpniguard.auth.model import CredentialKind, VerifiedBy
from cpniguard.auth.photo_id import PhotoId, PhotoIdKind
from cpniguard.auth.release import Channel
from cpniguard.auth.service import (
    CodeSent,
    Verification,
    confirm_code,
    send_code,
    set_credential,
    verify_credential,
)
from cpniguard.auth.sessions import open_session
from cpniguard.bootstrap import App
from cpniguard.clock import FixedClock
from cpniguard.customers.model import ContactKind, Customer
from cpniguard.customers.service import add_contact, change_contact
from cpniguard.db import tables as t
from cpniguard.errors import Conflict, Forbidden, InvalidInput
from cpniguard.ids import CustomerId, new_id
from cpniguard.notifications.model import NoticeEvent
from cpniguard.notifications.service import list_notices
from cpniguard.ports import NoticeRecord
from cpniguard.views import notice_view
from tests.conftest import T0, a_customer
from tests.integration.auth_support import audit_actions, cheap_argon2_app, pins_for, row_counts

PIN = CredentialKind.PIN
PHONE, EMAIL = "+12025550123", "ada@example.com"
TWO_YEARS_AGO = T0 - timedelta(days=730)
WRITTEN = (t.credentials, t.one_time_codes, t.outbox, t.audit_entries)
CODE_IN_BODY = re.compile(r"\b([0-9]{6})\b")


@pytest.fixture
def app(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[App]:
    built = cheap_argon2_app(database_url, clock, tmp_path)
    yield built
    built.close()


def new_account(app: App, actor: Actor, **overrides: object) -> Customer:
    """A customer who opened the account two hours ago (service initiation still applies)."""
    return a_customer(app, actor, at=T0 - timedelta(hours=2), **overrides)


def old_account(app: App, actor: Actor, **overrides: object) -> Customer:
    return a_customer(app, actor, at=TWO_YEARS_AGO, **overrides)


def set_pin(
    app: App, actor: Actor, customer: Customer, pin: str, how: VerifiedBy, photo_id: PhotoId | None = None
) -> None:
    set_credential(app.uow(), app.clock, actor, app.auth, customer.id, PIN, pin, how, photo_id=photo_id)


def verify(app: App, actor: Actor, customer_id: CustomerId, pin: str) -> Verification:
    return verify_credential(app.uow, app.clock, actor, app.auth, customer_id, PIN, pin)


def send(app: App, actor: Actor, customer: Customer, purpose: CodePurpose = CodePurpose.SET_CREDENTIAL) -> CodeSent:
    return send_code(app.uow(), app.clock, actor, app.auth, customer.id, purpose.value)


def notices(app: App, customer: Customer, event: NoticeEvent | None = None) -> list[NoticeRecord]:
    found = list_notices(app.uow(), customer.id)
    return [r for r in found if event is None or r.notice.event is event]


def the_code(app: App, customer: Customer) -> str:
    """The code as the customer reads it in the newest one-time-code message."""
    newest = notices(app, customer, NoticeEvent.ONE_TIME_CODE)[0]
    found = CODE_IN_BODY.search(newest.notice.body)
    assert found, newest.notice.body
    return found.group(1)


def code_confirmed(app: App, actor: Actor, customer: Customer) -> None:
    send(app, actor, customer)
    assert confirm_code(app.uow(), app.clock, actor, customer.id, the_code(app, customer))


def stored_pin_hash(app: App, customer: Customer) -> str | None:
    with app.uow() as uow:
        credential = uow.auth.credential(customer.id, PIN)
    return credential.secret_hash if credential else None


# --- AUTH-7 and NOTIFY-2: service initiation ---------------------------------------------------


def test_auth_7_notify_2_a_pin_chosen_within_24_hours_of_opening_is_set_without_a_notice(
    app: App, actor: Actor
) -> None:
    customer = new_account(app, actor)
    [pin] = pins_for(customer.id)
    set_pin(app, actor, customer, pin, VerifiedBy.SERVICE_INITIATION)
    assert verify(app, actor, customer.id, pin).verified
    assert notices(app, customer) == []
    assert "auth:credential:set" in audit_actions(app, customer)


def test_auth_7_service_initiation_is_refused_after_24_hours_and_nothing_is_written(app: App, actor: Actor) -> None:
    customer = a_customer(app, actor, at=T0 - timedelta(hours=24, minutes=1))
    before = row_counts(app, *WRITTEN)
    with pytest.raises(Forbidden, match="24 hours"):
        set_pin(app, actor, customer, pins_for(customer.id)[0], VerifiedBy.SERVICE_INITIATION)
    assert row_counts(app, *WRITTEN) == before
    assert stored_pin_hash(app, customer) is None


# --- AUTH-7: one-time codes ---------------------------------------------------------------------


def test_auth_7_setting_a_pin_by_one_time_code_needs_a_code_sent_and_confirmed(app: App, actor: Actor) -> None:
    customer = old_account(app, actor)
    [pin] = pins_for(customer.id)
    with pytest.raises(Forbidden, match="one-time code"):
        set_pin(app, actor, customer, pin, VerifiedBy.ONE_TIME_CODE)
    send(app, actor, customer)
    with pytest.raises(Forbidden, match="one-time code"):  # sent, but not read back yet
        set_pin(app, actor, customer, pin, VerifiedBy.ONE_TIME_CODE)
    assert stored_pin_hash(app, customer) is None
    assert confirm_code(app.uow(), app.clock, actor, customer.id, the_code(app, customer))
    set_pin(app, actor, customer, pin, VerifiedBy.ONE_TIME_CODE)
    assert verify(app, actor, customer.id, pin).verified
    with app.uow() as uow:
        credential = uow.auth.credential(customer.id, PIN)
    assert credential is not None and credential.verified_by is VerifiedBy.ONE_TIME_CODE


def test_auth_7_a_confirmed_code_proves_one_change_only(app: App, actor: Actor, clock: FixedClock) -> None:
    customer = old_account(app, actor)
    first, second = pins_for(customer.id, 2)
    code_confirmed(app, actor, customer)
    set_pin(app, actor, customer, first, VerifiedBy.ONE_TIME_CODE)
    clock.move_to(T0 + timedelta(minutes=1))
    with pytest.raises(Forbidden):
        set_pin(app, actor, customer, second, VerifiedBy.ONE_TIME_CODE)
    assert verify(app, actor, customer.id, first).verified
    assert not verify(app, actor, customer.id, second).verified


def test_auth_7_a_wrong_code_is_refused_and_counts_an_attempt_against_the_code(app: App, actor: Actor) -> None:
    customer = old_account(app, actor)
    send(app, actor, customer)
    right = the_code(app, customer)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert not confirm_code(app.uow(), app.clock, actor, customer.id, wrong)
    with app.uow() as uow:
        [code] = uow.auth.codes(customer.id, T0 - timedelta(hours=1))
    assert (code.attempts, code.used_at) == (1, None)
    assert "auth:one-time-code:refused" in audit_actions(app, customer)
    with pytest.raises(Forbidden):
        set_pin(app, actor, customer, pins_for(customer.id)[0], VerifiedBy.ONE_TIME_CODE)


def test_auth_7_a_code_read_back_after_its_lifetime_fails(app: App, actor: Actor, clock: FixedClock) -> None:
    customer = old_account(app, actor)
    sent = send(app, actor, customer)
    assert sent.expires_at == T0 + timedelta(minutes=10)
    clock.move_to(sent.expires_at)
    assert not confirm_code(app.uow(), app.clock, actor, customer.id, the_code(app, customer))
    with pytest.raises(Forbidden):
        set_pin(app, actor, customer, pins_for(customer.id)[0], VerifiedBy.ONE_TIME_CODE)


def test_auth_7_a_confirmed_code_no_longer_proves_anything_once_its_lifetime_is_over(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer = old_account(app, actor)
    code_confirmed(app, actor, customer)
    clock.move_to(T0 + timedelta(minutes=10))
    with pytest.raises(Forbidden):
        set_pin(app, actor, customer, pins_for(customer.id)[0], VerifiedBy.ONE_TIME_CODE)


def test_auth_1_at_most_three_codes_are_sent_in_an_hour_and_a_refused_send_writes_nothing(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer = old_account(app, actor)
    for minute in (0, 20, 40):
        clock.move_to(T0 + timedelta(minutes=minute))
        send(app, actor, customer)
    clock.move_to(T0 + timedelta(minutes=59))
    before = row_counts(app, *WRITTEN)
    with pytest.raises(Conflict, match="too many codes"):
        send(app, actor, customer)
    assert row_counts(app, *WRITTEN) == before
    clock.move_to(T0 + timedelta(minutes=60, seconds=1))
    send(app, actor, customer)
    assert len(notices(app, customer, NoticeEvent.ONE_TIME_CODE)) == 4


def test_def_6_the_code_goes_to_the_number_of_the_service_never_to_a_contact_number_just_given(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer = old_account(app, actor, emails=())
    change_contact(app.uow(), app.clock, actor, customer.id, ContactKind.TELEPHONE, "+13125550177")
    clock.move_to(T0 + timedelta(minutes=5))
    sent = send(app, actor, customer)
    record = notices(app, customer, NoticeEvent.ONE_TIME_CODE)[0]
    assert (sent.channel, record.channel, record.recipient) == ("sms", "sms", PHONE)
    assert [stop.recipient for stop in record.notice.route] == [PHONE]


def end_services(app: App, customer: Customer) -> None:
    """The customer's number was ported away: the account keeps no telephone number of record."""
    with app.engine.begin() as conn:
        conn.execute(
            update(t.services).where(t.services.c.customer_id == customer.id).values(removed_at=T0 - timedelta(days=1))
        )


def test_def_5_without_a_number_of_record_the_code_goes_to_the_old_email_never_a_12_day_old_one(
    app: App, actor: Actor
) -> None:
    customer = old_account(app, actor, emails=("old@example.com",))
    add_contact(app.uow(), FixedClock(T0 - timedelta(12)), actor, customer.id, ContactKind.EMAIL, "young@example.com")
    end_services(app, customer)
    sent = send(app, actor, customer)
    record = notices(app, customer, NoticeEvent.ONE_TIME_CODE)[0]
    assert (sent.channel, record.recipient) == ("email", "old@example.com")
    assert all(stop.recipient != "young@example.com" for stop in record.notice.route)


def test_def_5_with_only_a_12_day_old_email_and_no_number_the_code_goes_by_letter(app: App, actor: Actor) -> None:
    customer = old_account(app, actor, emails=())
    add_contact(app.uow(), FixedClock(T0 - timedelta(12)), actor, customer.id, ContactKind.EMAIL, "young@example.com")
    end_services(app, customer)
    sent = send(app, actor, customer)
    record = notices(app, customer, NoticeEvent.ONE_TIME_CODE)[0]
    assert (sent.channel, record.channel) == ("letter", "letter")
    assert record.recipient == "Ada Lovelace\n12 Analytical Way\nSpringfield, IL 62701"  # the letter's address block


def test_auth_7_the_code_message_is_confidential_listed_without_its_body_which_carries_the_code(
    app: App, actor: Actor
) -> None:
    customer = old_account(app, actor)
    send(app, actor, customer)
    record = notices(app, customer, NoticeEvent.ONE_TIME_CODE)[0]
    code = the_code(app, customer)
    assert record.notice.confidential and code in record.notice.body
    listed = notice_view(record)
    assert listed["body"] == "(one-time code withheld)"
    assert code not in str(listed)


# --- AUTH-7, DEF-4, DEF-7: biographical and account information --------------------------------


@pytest.mark.parametrize(
    ("pin", "reason"),
    [
        pytest.param("20255501", "telephone number", id="digits-of-the-phone-number"),
        pytest.param("04121985", "date", id="a-date-mmddyyyy"),
        pytest.param("19850412", "date", id="a-date-yyyymmdd"),
    ],
)
def test_auth_7_def_7_a_biographical_pin_is_refused_with_a_reason_that_hides_it_and_nothing_is_stored(
    app: App, actor: Actor, pin: str, reason: str
) -> None:
    customer = new_account(app, actor)
    before = row_counts(app, *WRITTEN)
    with pytest.raises(InvalidInput) as refused:
        set_pin(app, actor, customer, pin, VerifiedBy.SERVICE_INITIATION)
    assert reason in str(refused.value) and pin not in str(refused.value)
    assert row_counts(app, *WRITTEN) == before


# --- AUTH-6, DEF-8: photo ID ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expires_on", "problem"),
    [
        pytest.param("Ada Lovelace", date(2026, 3, 1), "expired on 2026-03-01", id="expired-yesterday"),
        pytest.param("Ada Byron", date(2030, 1, 1), "does not match", id="another-name"),
    ],
)
def test_auth_6_def_8_a_pin_set_on_an_expired_or_mismatched_photo_id_is_refused(
    app: App, actor: Actor, name: str, expires_on: date, problem: str
) -> None:
    customer = old_account(app, actor)
    photo_id = PhotoId(PhotoIdKind.DRIVERS_LICENCE, name, expires_on)
    before = row_counts(app, *WRITTEN)
    with pytest.raises(Forbidden, match=problem):
        set_pin(app, actor, customer, pins_for(customer.id)[0], VerifiedBy.PHOTO_ID, photo_id=photo_id)
    assert row_counts(app, *WRITTEN) == before


def test_auth_6_a_pin_set_on_a_valid_matching_photo_id_is_accepted(app: App, actor: Actor) -> None:
    customer = old_account(app, actor)
    [pin] = pins_for(customer.id)
    photo_id = PhotoId(PhotoIdKind.PASSPORT, "LOVELACE, Ada", date(2026, 3, 2))
    set_pin(app, actor, customer, pin, VerifiedBy.PHOTO_ID, photo_id=photo_id)
    assert verify(app, actor, customer.id, pin).verified


# --- NOTIFY-1: a changed PIN is announced --------------------------------------------------------


def test_notify_1_a_pin_changed_two_days_after_signup_is_announced_without_either_pin(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer = new_account(app, actor)
    old, new = pins_for(customer.id, 2)
    set_pin(app, actor, customer, old, VerifiedBy.SERVICE_INITIATION)
    assert notices(app, customer, NoticeEvent.PIN_CHANGED) == []
    clock.move_to(T0 + timedelta(days=2))
    code_confirmed(app, actor, customer)
    set_pin(app, actor, customer, new, VerifiedBy.ONE_TIME_CODE)
    [record] = notices(app, customer, NoticeEvent.PIN_CHANGED)
    # The email is two days old, not of record (DEF-5): the notice goes to the number of record.
    assert (record.channel, record.recipient) == ("sms", PHONE)
    assert EMAIL not in [stop.recipient for stop in record.notice.route]
    text = record.notice.subject + record.notice.body
    assert "PIN" in text and old not in text and new not in text


# --- AMB-5: secrets stored only as argon2id hashes ----------------------------------------------


def test_amb_5_secrets_are_stored_only_as_argon2id_hashes_and_appear_in_no_table(app: App, actor: Actor) -> None:
    customer = new_account(app, actor)
    [pin] = pins_for(customer.id, length=8)  # eight digits: no hash or id in the tables holds them by chance
    password, answer = "Violet-Tractor-Quokka-Lantern", "captain whiskers the ship cat"
    set_pin(app, actor, customer, pin, VerifiedBy.SERVICE_INITIATION)
    how = VerifiedBy.SERVICE_INITIATION
    set_credential(app.uow(), app.clock, actor, app.auth, customer.id, CredentialKind.PASSWORD, password, how)
    question = "What was the name of your first ship's cat?"
    set_credential(
        app.uow(), app.clock, actor, app.auth, customer.id, CredentialKind.BACKUP_ANSWER, answer, how, question
    )
    verify(app, actor, customer.id, pin)
    with app.engine.connect() as conn:
        hashes = conn.execute(select(t.credentials.c.secret_hash)).scalars().all()
        everything = " ".join(str(row) for table in t.metadata.sorted_tables for row in conn.execute(select(table)))
    assert len(hashes) == 3 and all(h.startswith("$argon2id$") for h in hashes)
    for secret in (pin, password, answer, answer.upper()):
        assert secret not in everything


# --- AUTH-1: the lockout, its alert, notice and ledger ------------------------------------------


def test_auth_1_five_wrong_pins_in_15_minutes_lock_the_channel_raise_an_alert_and_tell_the_customer(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer = old_account(app, actor)
    right, wrong = pins_for(customer.id, 2)
    clock.move_to(TWO_YEARS_AGO + timedelta(hours=1))
    set_pin(app, actor, customer, right, VerifiedBy.SERVICE_INITIATION)
    answers = []
    for minute in range(5):
        clock.move_to(T0 + timedelta(minutes=3 * minute))
        answers.append(verify(app, actor, customer.id, wrong))
    assert [(a.verified, a.locked) for a in answers] == [(False, False)] * 4 + [(False, True)]
    assert answers[-1].locked_until == T0 + timedelta(minutes=12 + 30)

    clock.move_to(T0 + timedelta(minutes=13))
    assert verify(app, actor, customer.id, right) == Verification(False, True, T0 + timedelta(minutes=42))

    with app.uow() as uow:
        [alert] = uow.auth.alerts(customer.id, 10)
    assert (alert.kind, alert.raised_at) == ("pretexting-suspected", T0 + timedelta(minutes=12))
    [locked] = notices(app, customer, NoticeEvent.ACCOUNT_LOCKED)
    assert (locked.channel, locked.recipient) == ("email", EMAIL)  # the email of record, two years old
    assert audit_actions(app, customer, "auth:pin:") == [
        *["auth:pin:failed"] * 5,
        "auth:pin:locked",
        "auth:pin:refused-locked",
    ]

    clock.move_to(T0 + timedelta(minutes=42))
    assert verify(app, actor, customer.id, right) == Verification(True, False, None)


def test_auth_1_wrong_pins_refused_during_a_lock_do_not_lock_the_owner_out_after_it_ends(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer = old_account(app, actor)
    right, wrong = pins_for(customer.id, 2)
    clock.move_to(TWO_YEARS_AGO + timedelta(hours=1))
    set_pin(app, actor, customer, right, VerifiedBy.SERVICE_INITIATION)
    for minute in (0, 1, 2, 3, 4, 20, 21, 22, 23, 24):  # locked at 4 until 34; 20..24 refused unchecked
        clock.move_to(T0 + timedelta(minutes=minute))
        verify(app, actor, customer.id, wrong)
    clock.move_to(T0 + timedelta(minutes=50))
    assert verify(app, actor, customer.id, right) == Verification(True, False, None)
    assert audit_actions(app, customer, "auth:pin:refused-locked") == ["auth:pin:refused-locked"] * 5


def test_auth_1_while_locked_the_right_pin_opens_the_same_session_as_a_wrong_one(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer = old_account(app, actor)
    right, wrong = pins_for(customer.id, 2)
    clock.move_to(TWO_YEARS_AGO + timedelta(hours=1))
    set_pin(app, actor, customer, right, VerifiedBy.SERVICE_INITIATION)
    clock.move_to(T0)
    for _ in range(5):
        verify(app, actor, customer.id, wrong)

    def caller_sees(pin: str) -> tuple[str, list[tuple[str, str | None]]]:
        session, routes = open_session(
            app.uow, app.clock, actor, app.auth, customer.id, Channel.INBOUND_CALL, (PIN, pin)
        )
        return session.proof, [(r.kind.value, r.target) for r in routes]

    with_right, with_wrong = caller_sees(right), caller_sees(wrong)
    assert with_right == with_wrong
    assert with_right[0] == "none" and "discuss" not in [kind for kind, _ in with_right[1]]


def test_auth_1_an_unknown_customer_answers_like_a_wrong_pin_with_an_audit_entry_and_no_attempt_row(
    app: App, actor: Actor
) -> None:
    before = row_counts(app, t.auth_attempts)
    answer = verify(app, actor, CustomerId(new_id()), "482913")
    assert answer == Verification(False, False, None)
    assert row_counts(app, t.auth_attempts) == before
    with app.uow() as uow:
        [entry] = uow.audit.find(None, "auth:pin:", 10)
    assert entry.customer_id is None and "unknown_customer" in entry.details


# --- AMB-5: a forgotten PIN is replaced, never sent ----------------------------------------------


def test_amb_5_a_reset_code_never_carries_the_existing_pin_and_after_confirming_a_new_pin_is_set(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer = old_account(app, actor)
    forgotten, new = pins_for(customer.id, 2)
    clock.move_to(TWO_YEARS_AGO + timedelta(hours=1))
    set_pin(app, actor, customer, forgotten, VerifiedBy.SERVICE_INITIATION)
    clock.move_to(T0)
    send(app, actor, customer, CodePurpose.RESET_CREDENTIAL)
    for record in notices(app, customer):
        assert forgotten not in record.notice.subject + record.notice.body
    with app.uow() as uow:
        [code] = uow.auth.codes(customer.id, T0 - timedelta(hours=1))
    assert code.purpose == "reset-credential"
    assert confirm_code(app.uow(), app.clock, actor, customer.id, the_code(app, customer))
    set_pin(app, actor, customer, new, VerifiedBy.ONE_TIME_CODE)
    assert verify(app, actor, customer.id, new).verified
    assert not verify(app, actor, customer.id, forgotten).verified


def test_auth_1_wrong_pins_tried_at_once_lock_the_channel_once_with_one_alert(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer = old_account(app, actor)
    right, wrong = pins_for(customer.id, 2)
    clock.move_to(TWO_YEARS_AGO + timedelta(hours=1))
    set_pin(app, actor, customer, right, VerifiedBy.SERVICE_INITIATION)
    clock.move_to(T0)
    with ThreadPoolExecutor(8) as pool:  # eight callers at the same moment, each with a wrong PIN
        answers = list(pool.map(lambda _: verify(app, actor, customer.id, wrong), range(8)))
    assert not any(a.verified for a in answers)
    with app.uow() as uow:
        alerts = uow.auth.alerts(customer.id, 10)
        recorded = uow.auth.attempts(customer.id, "pin", T0 - timedelta(hours=1))
    assert len(alerts) == 1 and len(recorded) == 5  # the fifth locks; the rest are refused unchecked
    assert audit_actions(app, customer, "auth:pin:").count("auth:pin:refused-locked") == 3
