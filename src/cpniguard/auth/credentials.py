"""Secrets the customer chooses: their normal form, and the refusal of secrets and backup
questions built from readily available biographical or account information.

DEF-4 (account information, "the account number or any part of it, the telephone number on
the account") and DEF-7 (SSN, mother's maiden name, home address, date of birth) are what a
pretexter can learn elsewhere; AUTH-7 and AUTH-8 forbid building authentication on them.
Reasons are one readable line and never repeat the secret.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from itertools import pairwise

from cpniguard.auth.model import CREDENTIAL_LABEL, CredentialKind, folded_words
from cpniguard.calendar import eastern_date
from cpniguard.customers.model import ContactKind, Customer
from cpniguard.errors import InvalidInput
from cpniguard.text import clean_text

PIN_PATTERN = re.compile(r"[0-9]{4,8}")
PASSWORD_LENGTH = range(10, 201)
BACKUP_ANSWER_SHORTEST, BACKUP_ANSWER_LONGEST = 3, 200
SHARED_DIGITS = 4  # this many digits in a row shared with account information refuse a secret
EARLIEST_BIRTH_YEAR = 1900
DIGIT_RUN = re.compile(r"[0-9]+")
SEPARATED_DATE = re.compile(r"(?<![0-9])([0-9]{1,4})([-./ ])([0-9]{1,2})\2([0-9]{2}|[0-9]{4})(?![0-9])")
# The part of a name or email that a secret may not contain: shorter parts match by accident.
CONTAINED_NAME_SHORTEST = 5


def normalise_secret(kind: CredentialKind, text: str) -> str:
    """The form a secret is hashed and compared in."""
    if kind is CredentialKind.PIN:
        pin = "".join(text.split())
        if not PIN_PATTERN.fullmatch(pin):
            raise InvalidInput("a PIN must be 4 to 8 digits")
        return pin
    if kind is CredentialKind.BACKUP_ANSWER:
        folded = unicodedata.normalize("NFKC", text).casefold()
        return clean_text(folded, "a backup answer", BACKUP_ANSWER_SHORTEST, BACKUP_ANSWER_LONGEST)
    if len(text) not in PASSWORD_LENGTH:
        raise InvalidInput(f"a password must have {PASSWORD_LENGTH.start} to {PASSWORD_LENGTH.stop - 1} characters")
    return text


def biographical_reason(
    kind: CredentialKind,
    secret: str,
    customer: Customer,
    at: datetime,
    account_numbers: Sequence[str] = (),
) -> str | None:
    """Why `secret` (as normalised) is readily available biographical or account information,
    or None when it is not. `account_numbers` are billing account numbers kept outside the
    customer record (the customer id counts as one anyway)."""
    label = CREDENTIAL_LABEL[kind]
    if kind is CredentialKind.PIN and _too_easy(secret):
        return "the PIN is too easy to guess (one digit repeated, a repeated pattern or a straight sequence)"
    shared = _shared_digits(secret, customer, at, account_numbers)
    if shared:
        return f"the {label} repeats {SHARED_DIGITS} digits in a row of {shared}"
    if _looks_like_a_date(kind, secret, eastern_date(at).year):
        return f"the {label} looks like a date, such as a date of birth"
    named = None if kind is CredentialKind.PIN else _names_the_customer(secret, customer, at)
    return f"the {label} is {named}" if named else None


def _too_easy(pin: str) -> bool:
    steps = {int(b) - int(a) for a, b in pairwise(pin)}
    repeated = any(pin == pin[:size] * (len(pin) // size) for size in range(1, len(pin) // 2 + 1))
    return repeated or steps in ({1}, {-1})


def _digit_windows(text: str) -> set[str]:
    return {run[i : i + SHARED_DIGITS] for run in DIGIT_RUN.findall(text) for i in range(len(run) - SHARED_DIGITS + 1)}


def _digit_sources(customer: Customer, at: datetime, account_numbers: Sequence[str]) -> Iterator[tuple[str, str]]:
    """(what it is, digits) for the account information a secret may not repeat. Numbers and
    addresses the customer had before `at` count too: a former number is no less public."""
    for service in customer.services:
        if service.telephone_number and service.added_at <= at:
            yield "a telephone number on the account", "".join(DIGIT_RUN.findall(service.telephone_number))
    for contact in customer.contacts:
        if contact.added_at > at:
            continue
        if contact.kind is ContactKind.TELEPHONE:
            yield "a telephone number on the account", "".join(DIGIT_RUN.findall(contact.value))
        else:
            for run in DIGIT_RUN.findall(contact.value):
                yield f"{'an email' if contact.kind is ContactKind.EMAIL else 'a postal'} address on the account", run
    yield "the account number", customer.id.hex
    for number in account_numbers:
        yield "the account number", "".join(DIGIT_RUN.findall(number))
        for run in DIGIT_RUN.findall(number):
            yield "the account number", run


def _shared_digits(secret: str, customer: Customer, at: datetime, account_numbers: Sequence[str]) -> str | None:
    windows = _digit_windows(secret)
    if not windows:
        return None
    for what, digits in _digit_sources(customer, at, account_numbers):
        if any(window in digits for window in windows):
            return what
    return None


def _looks_like_a_date(kind: CredentialKind, secret: str, this_year: int) -> bool:
    if kind is CredentialKind.PIN:
        return _digits_are_a_date(secret, this_year)
    runs = (run for run in DIGIT_RUN.findall(secret) if len(run) in (6, 8))
    if any(_digits_are_a_date(run, this_year) for run in runs):
        return True
    return any(_separated_date(match, this_year) for match in SEPARATED_DATE.finditer(secret))


def _digits_are_a_date(digits: str, this_year: int) -> bool:
    """YYYYMMDD, DDMMYYYY, MMDDYYYY; YYMMDD, DDMMYY, MMDDYY; and for four digits a year of
    birth, MMDD or DDMM (a birthday)."""
    if len(digits) == 8:
        orders = [(digits[:4], digits[4:6], digits[6:]), (digits[4:], digits[2:4], digits[:2])]
        orders.append((digits[4:], digits[:2], digits[2:4]))
    elif len(digits) == 6:
        orders = [(digits[:2], digits[2:4], digits[4:]), (digits[4:], digits[2:4], digits[:2])]
        orders.append((digits[4:], digits[:2], digits[2:4]))
    elif len(digits) == 4:
        if EARLIEST_BIRTH_YEAR <= int(digits) <= this_year:
            return True
        orders = [("2000", digits[:2], digits[2:]), ("2000", digits[2:], digits[:2])]
    else:
        return False
    return any(_is_date(year, month, day, this_year) for year, month, day in orders)


def _separated_date(match: re.Match[str], this_year: int) -> bool:
    first, _, middle, last = match.groups()
    if len(first) == 4:
        return _is_date(first, middle, last, this_year) or _is_date(first, last, middle, this_year)
    if len(first) > 2:
        return False
    return _is_date(last, middle, first, this_year) or _is_date(last, first, middle, this_year)


def _is_date(year: str, month: str, day: str, this_year: int) -> bool:
    """A real calendar day; a two-digit year may be of either century, a four-digit one must
    lie between 1900 and this year."""
    if len(year) == 2:
        candidates = [1900 + int(year), 2000 + int(year)]
    else:
        candidates = [int(year)] if EARLIEST_BIRTH_YEAR <= int(year) <= this_year else []
    for candidate in candidates:
        try:
            date(candidate, int(month), int(day))
        except ValueError:
            continue
        return True
    return False


def _names_the_customer(secret: str, customer: Customer, at: datetime) -> str | None:
    words = folded_words(secret)
    key = "".join(words)
    if not key:
        return None
    name = folded_words(customer.name)
    name_key = "".join(name)
    if set(words) <= set(name) or _contains(key, name_key):
        return "the account holder's name or part of it"
    for contact in customer.contacts:
        if contact.added_at > at or contact.kind is ContactKind.TELEPHONE:
            continue
        full = "".join(folded_words(contact.value))
        if contact.kind is ContactKind.POSTAL and _contains(key, full):
            return "a postal address on the account"
        local = "".join(folded_words(contact.value.partition("@")[0]))
        if contact.kind is ContactKind.EMAIL and (key in (full, local) or _contains(key, local)):
            return "an email address on the account or part of it"
    return None


def _contains(key: str, part: str) -> bool:
    return key == part or (len(part) >= CONTAINED_NAME_SHORTEST and part in key)


# DEF-7 and DEF-4 in English and German: a backup question may not prompt for these (AUTH-8).
FORBIDDEN_PROMPTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), what)
    for pattern, what in (
        (r"date of birth|birth ?date|birthday|\bdob\b|d\.o\.b|\b(when|year)\b.*\bborn\b", "a date of birth"),
        (r"geburtsdatum|geburtstag|geburtsjahr|\bwann\b.*\bgeboren\b", "a date of birth"),
        (r"\bssn\b|social security|sozialversicherung", "a social security number"),
        (r"maiden name|m(a|ä|ae)dchenname|geburtsname", "a mother's maiden name"),
        (r"\baddress|adresse|anschrift|where do you live|wo wohnen sie|wohnort", "an address"),
        (r"\bzip\b|zip ?code|postal ?code|postcode|postleitzahl|\bplz\b", "a ZIP code"),
        (r"account (number|no\b)|account #|kontonummer|kundennummer|vertragsnummer", "an account number"),
        (r"(tele)?phone number|mobile number|cell number|telefonnummer|handynummer|rufnummer", "a telephone number"),
        (r"\blast (4|four)\b|letzten (4|vier)\b", "the last four digits of a number"),
        (r"amount of (your|the) (last )?bill|bill(ing)? amount|rechnungsbetrag", "a bill amount"),
    )
)


def check_backup_question(text: str) -> str:
    """The cleaned question, or InvalidInput when it asks for biographical or account information."""
    question = clean_text(text, "a backup question", 10, 200)
    folded = unicodedata.normalize("NFKC", question).casefold()
    for pattern, what in FORBIDDEN_PROMPTS:
        if pattern.search(folded):
            raise InvalidInput(
                f"a backup question may not ask for {what}: that is readily available biographical "
                "or account information"
            )
    return question
