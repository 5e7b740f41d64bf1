"""Customer authentication (AUTH-1 to AUTH-9, DEF-4 to DEF-8, AMB-5, AMB-14, NOTIFY-2): the
pure rules, with literal times and customers built from the dataclasses."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpniguard.auth.codes import (
    CodeChannel,
    CodeDestination,
    CodePurpose,
    OneTimeCode,
    OneTimeCodePolicy,
    code_destinations,
    issue_code,
    may_send,
    new_code,
)
from cpniguard.auth.credentials import biographical_reason, check_backup_question, normalise_secret
from cpniguard.auth.hashing import Argon2SecretHasher
from cpniguard.auth.lockout import Attempt, LockoutPolicy, failures_in_window, locked_until
from cpniguard.auth.model import CredentialKind, VerifiedBy, change_notice_required
from cpniguard.auth.photo_id import PhotoId, PhotoIdKind, photo_id_problem
from cpniguard.auth.release import (
    BusinessExemption,
    Channel,
    ReleaseRoute,
    RouteKind,
    SessionProof,
    exemption_applies,
    match_caller_supplied_call,
    release_routes,
)
from cpniguard.customers.model import (
    Contact,
    ContactKind,
    Customer,
    CustomerKind,
    Language,
    Service,
    ServiceCategory,
)
from cpniguard.customers.records import CallDetailRecord, Direction
from cpniguard.errors import InvalidInput
from cpniguard.ids import CustomerId

K = CredentialKind
# Only one digit in the id, so that no test secret collides with it by accident.
CID = CustomerId(uuid.UUID("abcdefab-cdef-4bcd-abcd-efabcdefabcd"))
OPENED = datetime(2024, 1, 10, 15, 0, tzinfo=UTC)
AT = datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
PHONE = "+12025550143"
EMAIL = "maria.lopez@example.com"
POSTAL = "1600 Elm Street, Springfield, IL 62704"
FAST = Argon2SecretHasher(time_cost=1, memory_kib=8, parallelism=1)


def a_contact(
    kind: ContactKind, value: str, added_at: datetime = OPENED, removed_at: datetime | None = None
) -> Contact:
    return Contact(uuid.uuid4(), CID, kind, value, added_at, removed_at)


def a_customer(*contacts: Contact, **overrides: object) -> Customer:
    if not contacts:
        contacts = (
            a_contact(ContactKind.TELEPHONE, PHONE),
            a_contact(ContactKind.EMAIL, EMAIL),
            a_contact(ContactKind.POSTAL, POSTAL),
        )
    service = Service(uuid.uuid4(), CID, ServiceCategory.LOCAL, OPENED, PHONE)
    customer = Customer(CID, "Maria Lopez-Garcia", CustomerKind.RESIDENTIAL, Language.EN, OPENED)
    return replace(customer.with_parts((service,), tuple(contacts)), **overrides)  # type: ignore[arg-type]


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, 31, hour, minute, second, tzinfo=UTC)


# --- normalisation -----------------------------------------------------------------------------


def test_a_pin_keeps_only_its_digits() -> None:
    assert normalise_secret(K.PIN, " 48 29 17 ") == "482917"


@pytest.mark.parametrize("text", ["123", "123456789", "12a4", "١٢٣٤", ""])
def test_a_pin_must_be_four_to_eight_ascii_digits_and_the_reason_hides_it(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_secret(K.PIN, text)
    assert str(refused.value) == "a PIN must be 4 to 8 digits"


def test_a_backup_answer_is_casefolded_with_its_spaces_collapsed() -> None:
    assert normalise_secret(K.BACKUP_ANSWER, "  Captain   WHISKERS\tthe Cat ") == "captain whiskers the cat"
    assert normalise_secret(K.BACKUP_ANSWER, "Straße") == "strasse"


def test_a_backup_answer_needs_three_characters() -> None:
    with pytest.raises(InvalidInput, match="3 to 200"):
        normalise_secret(K.BACKUP_ANSWER, "  Ab  ")


def test_a_password_is_kept_as_given_between_ten_and_two_hundred_characters() -> None:
    assert normalise_secret(K.PASSWORD, "  Violet Tractor  ") == "  Violet Tractor  "
    for bad in ("too-short", "x" * 201):
        with pytest.raises(InvalidInput, match="10 to 200"):
            normalise_secret(K.PASSWORD, bad)


# --- biographical and account information (DEF-4, DEF-7, AUTH-7) -------------------------------


@pytest.mark.parametrize(
    ("kind", "secret"),
    [(K.PIN, "4829"), (K.PIN, "73914"), (K.PASSWORD, "violet tractor sings loudly"), (K.BACKUP_ANSWER, "captain")],
)
def test_auth_7_a_secret_unrelated_to_the_account_is_accepted(kind: CredentialKind, secret: str) -> None:
    assert biographical_reason(kind, secret, a_customer(), AT) is None


@pytest.mark.parametrize(
    ("kind", "secret", "source"),
    [
        (K.PIN, "0143", "a telephone number on the account"),
        (K.PIN, "95550", "a telephone number on the account"),
        (K.PASSWORD, "my line ends 0143!", "a telephone number on the account"),
        (K.PIN, "8627049", "a postal address on the account"),
        (K.BACKUP_ANSWER, "room 1600", "a postal address on the account"),
    ],
)
def test_def_4_a_secret_repeating_four_digits_of_account_information_is_refused(
    kind: CredentialKind, secret: str, source: str
) -> None:
    reason = biographical_reason(kind, secret, a_customer(), AT)
    assert reason is not None and reason.endswith(source) and secret not in reason


def test_def_4_a_pin_repeating_digits_of_the_account_number_is_refused() -> None:
    customer = a_customer(id=CustomerId(uuid.UUID("abcdefab-9071-4bcd-abcd-efabcdefabcd")))
    assert (
        biographical_reason(K.PIN, "90714", customer, AT) == "the PIN repeats 4 digits in a row of the account number"
    )
    billing = biographical_reason(K.PIN, "77883", a_customer(), AT, account_numbers=["ACCT-7788-3341"])
    assert billing is not None and billing.endswith("the account number")


def test_def_4_a_former_telephone_number_is_still_account_information() -> None:
    old = a_contact(ContactKind.TELEPHONE, "+13125550177", removed_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert biographical_reason(K.PIN, "0177", a_customer(old), AT) is not None


@pytest.mark.parametrize("pin", ["19850412", "04121985", "12041985", "850412", "120485", "041285", "1985", "0412"])
def test_def_7_a_pin_that_reads_as_a_date_of_birth_is_refused(pin: str) -> None:
    assert biographical_reason(K.PIN, pin, a_customer(), AT) == "the PIN looks like a date, such as a date of birth"


@pytest.mark.parametrize(
    ("kind", "secret"),
    [
        (K.PASSWORD, "blue-horse-1985-04-12"),
        (K.PASSWORD, "correct horse 12.04.1985"),
        (K.PASSWORD, "tigers19850412win"),
        (K.BACKUP_ANSWER, "12/04/85"),
    ],
)
def test_def_7_a_password_or_answer_containing_a_date_is_refused(kind: CredentialKind, secret: str) -> None:
    reason = biographical_reason(kind, secret, a_customer(), AT)
    assert reason is not None and "looks like a date" in reason


@pytest.mark.parametrize("pin", ["1111", "0000", "1234", "9876", "0123", "123456", "98765432", "1212", "147147"])
def test_auth_1_a_pin_that_is_too_easy_to_guess_is_refused(pin: str) -> None:
    reason = biographical_reason(K.PIN, pin, a_customer(), AT)
    assert reason is not None and reason.startswith("the PIN is too easy to guess")


@pytest.mark.parametrize(
    ("kind", "secret", "what"),
    [
        (K.BACKUP_ANSWER, "maria", "the account holder's name"),
        (K.BACKUP_ANSWER, "garcia lopez", "the account holder's name"),
        (K.PASSWORD, "Maria Lopez-Garcia", "the account holder's name"),
        (K.PASSWORD, "MariaLopezGarcia!!", "the account holder's name"),
        (K.PASSWORD, EMAIL, "an email address"),
        (K.BACKUP_ANSWER, "maria.lopez", "an email address"),
        (K.PASSWORD, "maria.lopez2000", "an email address"),
        (K.BACKUP_ANSWER, "elm street springfield", None),
    ],
)
def test_def_7_a_password_or_answer_naming_the_customer_is_refused(
    kind: CredentialKind, secret: str, what: str | None
) -> None:
    reason = biographical_reason(kind, secret, a_customer(), AT)
    if what is None:  # a street and town alone are not the whole address
        assert reason is None
    else:
        assert reason is not None and what in reason and secret.casefold() not in reason.casefold()


def test_def_7_a_password_spelling_the_whole_postal_address_is_refused() -> None:
    customer = a_customer(a_contact(ContactKind.POSTAL, "Elm Street, Springfield, Illinois"))
    reason = biographical_reason(K.PASSWORD, "ELM STREET SPRINGFIELD ILLINOIS", customer, AT)
    assert reason == "the password is a postal address on the account"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=4, max_size=8))
def test_def_7_a_refusal_never_repeats_the_pin(pin: str) -> None:
    reason = biographical_reason(K.PIN, pin, a_customer(), AT)
    assert reason is None or pin not in reason


# --- backup questions (AUTH-8, DEF-7) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "what"),
    [
        ("What is your date of birth?", "a date of birth"),
        ("In what year were you born?", "a date of birth"),
        ("What are the last four digits of your SSN?", "a social security number"),
        ("What is your mother's maiden name?", "a mother's maiden name"),
        ("What is your home address?", "an address"),
        ("What is your ZIP code?", "a ZIP code"),
        ("What is your account number?", "an account number"),
        ("What is your phone number?", "a telephone number"),
        ("Name the last 4 of your card", "the last four digits"),
        ("Wie lautet Ihr Geburtsdatum?", "a date of birth"),
        ("Wie lautet der MÄDCHENNAME Ihrer Mutter?", "a mother's maiden name"),
        ("Wie lautet Ihre Sozialversicherungsnummer?", "a social security number"),
        ("Wie lautet Ihre Kontonummer?", "an account number"),
        ("Wie lautet Ihre Adresse?", "an address"),
        ("Wie lautet Ihre Telefonnummer?", "a telephone number"),
        ("Wie lautet Ihre Postleitzahl?", "a ZIP code"),
    ],
)
def test_auth_8_a_backup_question_may_not_prompt_for_biographical_or_account_information(
    question: str, what: str
) -> None:
    with pytest.raises(InvalidInput, match=f"may not ask for {what}"):
        check_backup_question(question)


@pytest.mark.parametrize("question", ["What was the name of your first pet?", "Wie hieß Ihr erstes Haustier?"])
def test_auth_8_a_backup_question_about_something_private_is_kept_cleaned(question: str) -> None:
    assert check_backup_question(f"  {question.replace(' ', '   ')} ") == question


# --- hashing (AMB-5) ----------------------------------------------------------------------------


def test_amb_5_secrets_are_stored_as_salted_argon2id_hashes() -> None:
    stored = FAST.hash("violet tractor sings")
    assert stored.startswith("$argon2id$") and "violet" not in stored
    assert stored != FAST.hash("violet tractor sings")
    assert FAST.verify(stored, "violet tractor sings")
    assert not FAST.verify(stored, "violet tractor sang")


def test_amb_5_the_default_hasher_uses_owasps_minimum_for_argon2id() -> None:
    assert Argon2SecretHasher().hash("4829").startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_stored_value_that_is_not_a_hash_never_verifies_and_needs_rehashing() -> None:
    assert not FAST.verify("4829", "4829")
    assert FAST.needs_rehash("4829")


def test_a_hash_made_with_weaker_parameters_needs_rehashing() -> None:
    stronger = Argon2SecretHasher(time_cost=2, memory_kib=16, parallelism=1)
    stored = FAST.hash("4829")
    assert stronger.needs_rehash(stored) and not FAST.needs_rehash(stored)
    assert stronger.verify(stored, "4829")


def test_auth_1_the_dummy_check_for_an_unknown_customer_always_fails() -> None:
    assert not FAST.dummy_verify("no credential is stored for this customer")
    assert not FAST.dummy_verify("4829")


def test_notify_2_a_credential_chosen_at_service_initiation_needs_no_change_notice() -> None:
    assert not change_notice_required(VerifiedBy.SERVICE_INITIATION)
    assert change_notice_required(VerifiedBy.ONE_TIME_CODE) and change_notice_required(VerifiedBy.PHOTO_ID)


# --- lockout (AUTH-1) ---------------------------------------------------------------------------

POLICY = LockoutPolicy()


def failures(*moments: datetime) -> list[Attempt]:
    return [Attempt(m, succeeded=False) for m in moments]


def test_auth_1_five_failures_in_fifteen_minutes_lock_the_channel_for_thirty_minutes() -> None:
    attempts = failures(at(10), at(10, 3), at(10, 6), at(10, 9), at(10, 12))
    assert locked_until(POLICY, attempts, at(10, 13)) == at(10, 42)
    assert locked_until(POLICY, attempts, at(10, 41, 59)) == at(10, 42)
    assert locked_until(POLICY, attempts, at(10, 42)) is None


def test_auth_1_four_failures_do_not_lock() -> None:
    assert locked_until(POLICY, failures(at(10), at(10, 1), at(10, 2), at(10, 3)), at(10, 4)) is None


def test_auth_1_the_window_includes_both_ends() -> None:
    spread = failures(at(10), at(10, 5), at(10, 10), at(10, 12))
    assert locked_until(POLICY, [*spread, *failures(at(10, 15))], at(10, 16)) == at(10, 45)
    assert locked_until(POLICY, [*spread, *failures(at(10, 15, 1))], at(10, 16)) is None


def test_auth_1_a_success_resets_the_count() -> None:
    attempts = [*failures(at(10), at(10, 1), at(10, 2), at(10, 3)), Attempt(at(10, 4), True), *failures(at(10, 5))]
    assert locked_until(POLICY, attempts, at(10, 6)) is None
    assert failures_in_window(POLICY, attempts, at(10, 6)) == 1


def test_auth_1_a_success_after_the_lock_began_ends_it() -> None:
    attempts = [*failures(*(at(10, m) for m in range(5))), Attempt(at(10, 20), True)]
    assert locked_until(POLICY, attempts, at(10, 21)) is None


def test_auth_1_failures_while_locked_neither_count_nor_extend_the_lock() -> None:
    attempts = failures(*(at(10, m) for m in range(5)), *(at(10, m) for m in range(20, 30)))
    assert locked_until(POLICY, attempts, at(10, 31)) == at(10, 34)


def test_auth_1_five_more_failures_after_a_lock_expires_lock_again() -> None:
    attempts = failures(*(at(10, m) for m in range(5)), *(at(11, m) for m in range(5)))
    assert locked_until(POLICY, attempts, at(11, 5)) == at(11, 34)


def test_auth_1_attempts_after_now_are_not_yet_known() -> None:
    attempts = failures(*(at(10, m) for m in range(5)))
    assert locked_until(POLICY, attempts, at(10, 3)) is None
    assert failures_in_window(POLICY, attempts, at(10, 3)) == 4


def test_auth_1_both_thresholds_are_configurable() -> None:
    strict = LockoutPolicy(max_failures=3, window=timedelta(minutes=5), lock_for=timedelta(hours=1))
    assert locked_until(strict, failures(at(10), at(10, 2), at(10, 4)), at(10, 5)) == at(11, 4)
    with pytest.raises(InvalidInput):
        LockoutPolicy(max_failures=0)


attempt_lists = st.lists(
    st.builds(Attempt, st.integers(0, 180).map(lambda m: at(9) + timedelta(minutes=m)), st.booleans()), max_size=30
)


@settings(max_examples=300, deadline=None)
@given(attempt_lists, st.integers(0, 240))
def test_auth_1_never_locked_with_fewer_failures_than_the_threshold(attempts: list[Attempt], minute: int) -> None:
    now = at(9) + timedelta(minutes=minute)
    if sum(not a.succeeded and a.at <= now for a in attempts) < POLICY.max_failures:
        assert locked_until(POLICY, attempts, now) is None


@settings(max_examples=300, deadline=None)
@given(attempt_lists, st.integers(0, 240))
def test_auth_1_a_lock_ends_after_now_and_within_lock_for_of_a_failure(attempts: list[Attempt], minute: int) -> None:
    now = at(9) + timedelta(minutes=minute)
    until = locked_until(POLICY, attempts, now)
    if until is not None:
        assert now < until
        assert any(not a.succeeded and a.at + POLICY.lock_for == until for a in attempts)


@settings(max_examples=300, deadline=None)
@given(attempt_lists, st.integers(0, 240))
def test_auth_1_a_success_as_the_latest_attempt_leaves_no_lock(attempts: list[Attempt], minute: int) -> None:
    now = at(9) + timedelta(minutes=minute)
    known = sorted((a for a in attempts if a.at <= now), key=lambda a: a.at)
    if known and known[-1].succeeded:
        assert locked_until(POLICY, attempts, now) is None


# --- one-time codes (AUTH-5, AUTH-7, AUTH-8, AMB-5) ---------------------------------------------

CODES = OneTimeCodePolicy()


def a_code(code: str = "482913") -> tuple[str, OneTimeCode]:
    destination = code_destinations(a_customer(), AT)[0]
    return code, issue_code(CODES, uuid.uuid4(), CID, CodePurpose.RESET_CREDENTIAL, destination, code, AT)


def test_a_code_has_the_policys_number_of_digits() -> None:
    assert new_code(lambda _: 42, 6) == "000042"
    code = new_code(secrets.randbelow, CODES.length)
    assert len(code) == 6 and code.isdigit()


def test_amb_5_the_stored_code_holds_only_a_digest() -> None:
    code, issued = a_code()
    assert code not in repr(issued)


def test_auth_7_the_right_code_works_once() -> None:
    code, issued = a_code()
    ok, used = issued.redeem(code, AT + timedelta(minutes=2))
    assert ok and used.used_at == AT + timedelta(minutes=2)
    again, _ = used.redeem(code, AT + timedelta(minutes=3))
    assert not again


def test_auth_7_a_code_expires_after_its_lifetime() -> None:
    code, issued = a_code()
    assert issued.usable(AT + timedelta(minutes=9, seconds=59))
    ok, _ = issued.redeem(code, AT + timedelta(minutes=10))
    assert not ok


def test_auth_1_five_wrong_codes_spend_the_code() -> None:
    code, issued = a_code()
    for minute in range(5):
        ok, issued = issued.redeem("000000", AT + timedelta(minutes=minute))
        assert not ok
    assert issued.attempts == 5 and not issued.usable(AT + timedelta(minutes=6))
    ok, _ = issued.redeem(code, AT + timedelta(minutes=6))
    assert not ok


def test_auth_1_at_most_three_codes_are_sent_in_an_hour() -> None:
    sent = [at(10), at(10, 20), at(10, 40)]
    assert not may_send(CODES, sent, at(10, 59))
    assert may_send(CODES, sent, at(11, 0, 1))
    assert may_send(CODES, sent[1:], at(10, 59))


def test_def_5_a_code_goes_to_the_number_of_record_and_emails_at_least_thirty_days_old() -> None:
    new_email = a_contact(ContactKind.EMAIL, "new@example.com", added_at=AT - timedelta(days=5))
    customer = a_customer(a_contact(ContactKind.EMAIL, EMAIL), new_email, a_contact(ContactKind.TELEPHONE, PHONE))
    destinations = code_destinations(customer, AT)
    assert [(d.channel, d.recipient) for d in destinations] == [(CodeChannel.SMS, PHONE), (CodeChannel.EMAIL, EMAIL)]


def test_auth_8_with_only_a_new_email_the_code_goes_to_the_telephone_number_of_record() -> None:
    new_email = a_contact(ContactKind.EMAIL, "new@example.com", added_at=AT - timedelta(days=5))
    customer = a_customer(new_email, a_contact(ContactKind.TELEPHONE, PHONE), a_contact(ContactKind.POSTAL, POSTAL))
    assert [d.recipient for d in code_destinations(customer, AT)] == [PHONE]


def test_auth_8_a_letter_only_when_there_is_no_telephone_number_or_email_of_record() -> None:
    postal = a_contact(ContactKind.POSTAL, POSTAL)
    new_email = a_contact(ContactKind.EMAIL, "new@example.com", added_at=AT - timedelta(days=5))
    customer = a_customer(postal, new_email, services=())
    assert code_destinations(customer, AT) == [CodeDestination(CodeChannel.LETTER, POSTAL)]


def test_def_6_a_code_never_goes_to_a_telephone_contact_that_is_not_a_number_of_the_services() -> None:
    given_just_now = a_contact(ContactKind.TELEPHONE, "+13125550177", added_at=AT - timedelta(minutes=5))
    customer = a_customer(given_just_now, a_contact(ContactKind.EMAIL, EMAIL))
    assert [(d.channel, d.recipient) for d in code_destinations(customer, AT)] == [
        (CodeChannel.SMS, PHONE),
        (CodeChannel.EMAIL, EMAIL),
    ]
    without_services = replace(customer, services=())
    assert [d.recipient for d in code_destinations(without_services, AT)] == [EMAIL]


def test_def_6_a_number_of_a_service_that_ended_gets_no_code() -> None:
    ended = Service(uuid.uuid4(), CID, ServiceCategory.LOCAL, OPENED, PHONE, removed_at=AT - timedelta(days=1))
    customer = a_customer(a_contact(ContactKind.TELEPHONE, PHONE), a_contact(ContactKind.POSTAL, POSTAL))
    assert code_destinations(replace(customer, services=(ended,)), AT) == [CodeDestination(CodeChannel.LETTER, POSTAL)]


# --- photo ID (DEF-8, AUTH-6) -------------------------------------------------------------------


def test_def_8_an_id_that_expired_yesterday_is_refused() -> None:
    photo_id = PhotoId(PhotoIdKind.DRIVERS_LICENCE, "Maria Lopez-Garcia", date(2026, 1, 31))
    problem = photo_id_problem(photo_id, a_customer(), datetime(2026, 2, 1, 15, tzinfo=UTC))
    assert problem == "the photo ID expired on 2026-01-31"


def test_def_8_an_id_is_valid_through_its_expiry_date_in_eastern_time() -> None:
    photo_id = PhotoId(PhotoIdKind.PASSPORT, "Maria Lopez-Garcia", date(2026, 1, 31))
    assert photo_id_problem(photo_id, a_customer(), datetime(2026, 2, 1, 3, tzinfo=UTC)) is None  # 22:00 ET


@pytest.mark.parametrize("name", ["MARIA LOPEZ GARCIA", "Lopez-Garcia, María", "garcia  maria lopez."])
def test_auth_6_the_name_matches_in_any_order_case_accents_and_punctuation(name: str) -> None:
    assert photo_id_problem(PhotoId(PhotoIdKind.STATE_ID, name, date(2030, 1, 1)), a_customer(), AT) is None


@pytest.mark.parametrize("name", ["Mario Lopez-Garcia", "Maria Lopez", "Maria Elena Lopez-Garcia", "..."])
def test_auth_6_an_id_in_another_name_is_refused(name: str) -> None:
    problem = photo_id_problem(PhotoId(PhotoIdKind.STATE_ID, name, date(2030, 1, 1)), a_customer(), AT)
    assert problem == "the name on the photo ID does not match the account holder"


def test_auth_6_an_authorised_users_id_is_accepted() -> None:
    photo_id = PhotoId(PhotoIdKind.PASSPORT, "Tom Becker", date(2030, 1, 1))
    assert photo_id_problem(photo_id, a_customer(), AT, authorised_users=["Tom Becker"]) is None


# --- release of call detail (AUTH-2 to AUTH-6, AUTH-9, AMB-14) ----------------------------------

DISCUSS = [RouteKind.DISCUSS]
SENDS = [RouteKind.CALLBACK, RouteKind.SEND_EMAIL, RouteKind.SEND_LETTER]


def kinds(routes: list[ReleaseRoute]) -> list[RouteKind]:
    return [r.kind for r in routes]


@pytest.mark.parametrize(
    ("channel", "proof"),
    [
        (Channel.INBOUND_CALL, SessionProof.PASSWORD),
        (Channel.INBOUND_CALL, SessionProof.PIN),
        (Channel.IN_PERSON, SessionProof.PHOTO_ID),
        (Channel.ONLINE, SessionProof.PASSWORD),
    ],
)
def test_auth_2_auth_5_auth_6_the_proper_proof_lets_call_detail_be_discussed(
    channel: Channel, proof: SessionProof
) -> None:
    assert kinds(release_routes(a_customer(), channel, proof, AT)) == DISCUSS


@pytest.mark.parametrize(
    ("channel", "proof"),
    [
        (Channel.INBOUND_CALL, SessionProof.NONE),
        (Channel.INBOUND_CALL, SessionProof.BACKUP_ANSWER),
        (Channel.INBOUND_CALL, SessionProof.PHOTO_ID),
        (Channel.IN_PERSON, SessionProof.PIN),
        (Channel.ONLINE, SessionProof.PIN),
    ],
)
def test_auth_3_without_the_proper_proof_call_detail_only_goes_to_contacts_of_record(
    channel: Channel, proof: SessionProof
) -> None:
    routes = release_routes(a_customer(), channel, proof, AT)
    assert [(r.kind, r.target) for r in routes] == list(zip(SENDS, [PHONE, EMAIL, POSTAL], strict=True))


def test_auth_3_an_email_changed_twelve_days_ago_is_not_offered() -> None:
    customer = a_customer(
        a_contact(ContactKind.EMAIL, "new@example.com", added_at=AT - timedelta(days=12)),
        a_contact(ContactKind.POSTAL, POSTAL, added_at=AT - timedelta(days=730)),
    )
    routes = release_routes(customer, Channel.INBOUND_CALL, SessionProof.NONE, AT)
    assert [(r.kind, r.target) for r in routes] == [(RouteKind.CALLBACK, PHONE), (RouteKind.SEND_LETTER, POSTAL)]


def test_def_6_a_call_back_goes_to_a_number_of_the_services_never_to_a_contact_number() -> None:
    contact_mobile = a_contact(ContactKind.TELEPHONE, "+13125550177")
    customer = a_customer(contact_mobile, a_contact(ContactKind.POSTAL, POSTAL))
    routes = release_routes(customer, Channel.INBOUND_CALL, SessionProof.NONE, AT)
    assert [(r.kind, r.target) for r in routes] == [(RouteKind.CALLBACK, PHONE), (RouteKind.SEND_LETTER, POSTAL)]
    no_service = release_routes(replace(customer, services=()), Channel.INBOUND_CALL, SessionProof.NONE, AT)
    assert kinds(no_service) == [RouteKind.SEND_LETTER]


def test_auth_4_a_caller_who_described_a_call_unaided_may_discuss_that_call_only() -> None:
    routes = release_routes(a_customer(), Channel.INBOUND_CALL, SessionProof.NONE, AT, caller_supplied_call=True)
    assert kinds(routes) == [*SENDS, RouteKind.SINGLE_CALL]
    online = release_routes(a_customer(), Channel.ONLINE, SessionProof.NONE, AT, caller_supplied_call=True)
    assert RouteKind.SINGLE_CALL not in kinds(online)


EXEMPT = BusinessExemption("rep-17", "contract-2026-4", cpni_clause=True)


@pytest.mark.parametrize(
    ("exemption", "via_representative", "applies"),
    [
        (EXEMPT, True, True),
        (EXEMPT, False, False),
        (replace(EXEMPT, cpni_clause=False), True, False),
        (replace(EXEMPT, dedicated_representative=None), True, False),
        (replace(EXEMPT, contract_id=None), True, False),
        (None, True, False),
    ],
)
def test_auth_9_amb_14_the_business_exemption_needs_representative_contract_clause_and_routing(
    exemption: BusinessExemption | None, via_representative: bool, applies: bool
) -> None:
    assert exemption_applies(exemption, via_representative) is applies


def test_auth_9_an_exempt_business_calling_through_its_representative_may_discuss_call_detail() -> None:
    business = a_customer(kind=CustomerKind.BUSINESS)
    via_rep = release_routes(
        business, Channel.INBOUND_CALL, SessionProof.NONE, AT, exemption=EXEMPT, via_representative=True
    )
    assert kinds(via_rep) == DISCUSS
    general_line = release_routes(business, Channel.INBOUND_CALL, SessionProof.NONE, AT, exemption=EXEMPT)
    assert kinds(general_line) == SENDS


def test_auth_9_a_residential_customer_never_gets_the_business_exemption() -> None:
    routes = release_routes(
        a_customer(), Channel.INBOUND_CALL, SessionProof.NONE, AT, exemption=EXEMPT, via_representative=True
    )
    assert kinds(routes) == SENDS


def a_call(number: str, started_at: datetime, cents: int) -> CallDetailRecord:
    return CallDetailRecord(uuid.uuid4(), CID, PHONE, started_at, Direction.OUTBOUND, number, 300, cents)


CALLS = [
    a_call("+12125550199", datetime(2026, 3, 2, 15, tzinfo=UTC), 450),
    a_call("+12125550199", datetime(2026, 3, 2, 18, tzinfo=UTC), 120),
    a_call("+12125550100", datetime(2026, 3, 3, 15, tzinfo=UTC), 450),
    a_call("+12125550100", datetime(2026, 3, 5, 3, tzinfo=UTC), 80),  # 4 March, 22:00 in New York
]


def test_auth_4_the_single_call_the_caller_described_is_found() -> None:
    assert match_caller_supplied_call(CALLS, "(212) 555-0199", date(2026, 3, 2), 450) is CALLS[0]
    assert match_caller_supplied_call(CALLS, "+1 212 555 0100", date(2026, 3, 3), None) is CALLS[2]


def test_auth_4_the_date_the_caller_gives_is_read_in_eastern_time() -> None:
    assert match_caller_supplied_call(CALLS, "2125550100", date(2026, 3, 4), None) is CALLS[3]
    assert match_caller_supplied_call(CALLS, "2125550100", date(2026, 3, 5), None) is None


def test_auth_4_nothing_is_shown_unless_exactly_one_call_matches() -> None:
    assert match_caller_supplied_call(CALLS, "2125550199", date(2026, 3, 2), None) is None
    assert match_caller_supplied_call(CALLS, "2125550199", date(2026, 3, 2), 999) is None
    assert match_caller_supplied_call(CALLS, "0199", date(2026, 3, 2), 450) is None
