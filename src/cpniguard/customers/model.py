"""Customers, the services they buy, and their contacts of record (DEF-5, DEF-6, DEF-10)."""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

import email_validator
import phonenumbers

from cpniguard.calendar import eastern_date
from cpniguard.errors import InvalidInput
from cpniguard.ids import CustomerId, new_id
from cpniguard.text import clean_text

E = TypeVar("E", bound=StrEnum)

# DEF-5: an address is "of record" only once it has been on the account this long.
ADDRESS_OF_RECORD_TENURE = timedelta(days=30)

# DEF-5 counts an address's 30 days from the moment its change takes effect, so a change whose
# effective time could be set freely would make a new address of record at once (and open the
# AUTH-3 routes to it). Staff may record a change late, by at most a day (a form keyed in the
# next morning), never in the future beyond clock skew between machines, and never before the
# customer's latest change of that kind, which would leave two addresses current.
CONTACT_CHANGE_MAX_BACKDATING = timedelta(hours=24)
CONTACT_CHANGE_CLOCK_SKEW = timedelta(minutes=5)


class CustomerKind(StrEnum):
    RESIDENTIAL = "residential"
    BUSINESS = "business"


class Language(StrEnum):
    EN = "en"
    DE = "de"


class ListingStatus(StrEnum):
    """AMB-6: only a published listing is subscriber list information."""

    PUBLISHED = "published"
    NON_PUBLISHED = "non-published"
    UNLISTED = "unlisted"


class ServiceCategory(StrEnum):
    LOCAL = "local"
    LONG_DISTANCE = "long-distance"
    WIRELESS = "wireless"
    INTERCONNECTED_VOIP = "interconnected-voip"
    UCAAS = "ucaas"
    SIP_TRUNK = "sip-trunk"
    VOICEMAIL = "voicemail"
    CALL_FEATURES = "call-features"
    INTERNET_ACCESS = "internet-access"


# USE-2: the total service approach groups services into the categories of 64.2005(a).
SERVICE_BUCKET: dict[ServiceCategory, str] = {
    ServiceCategory.LOCAL: "local",
    ServiceCategory.LONG_DISTANCE: "interexchange",
    ServiceCategory.WIRELESS: "cmrs",
    ServiceCategory.INTERCONNECTED_VOIP: "voip",
    ServiceCategory.UCAAS: "voip",
    ServiceCategory.SIP_TRUNK: "voip",
    ServiceCategory.VOICEMAIL: "information",
    ServiceCategory.CALL_FEATURES: "information",
    ServiceCategory.INTERNET_ACCESS: "information",
}


class ContactKind(StrEnum):
    TELEPHONE = "telephone"
    EMAIL = "email"
    POSTAL = "postal"


@dataclass(frozen=True, slots=True)
class Contact:
    """A contact point on the account, with the time it was added and removed."""

    id: uuid.UUID
    customer_id: CustomerId
    kind: ContactKind
    value: str
    added_at: datetime
    removed_at: datetime | None = None

    def on_account(self, at: datetime) -> bool:
        return self.added_at <= at and (self.removed_at is None or at < self.removed_at)

    def of_record(self, at: datetime) -> bool:
        """DEF-5: addresses need 30 days of tenure; DEF-6: a telephone number of record is
        the number of the service itself, so it counts from the moment it is on the account."""
        if not self.on_account(at):
            return False
        if self.kind is ContactKind.TELEPHONE:
            return True
        # Counted in Eastern calendar days: added 2 March, of record from 1 April (DEF-5 example).
        return eastern_date(at) >= eastern_date(self.added_at) + ADDRESS_OF_RECORD_TENURE


@dataclass(frozen=True, slots=True)
class Service:
    id: uuid.UUID
    customer_id: CustomerId
    category: ServiceCategory
    added_at: datetime
    telephone_number: str | None = None
    removed_at: datetime | None = None

    def active(self, at: datetime) -> bool:
        return self.added_at <= at and (self.removed_at is None or at < self.removed_at)


@dataclass(frozen=True, slots=True)
class Customer:
    id: CustomerId
    name: str
    kind: CustomerKind
    language: Language
    created_at: datetime
    listing_status: ListingStatus = ListingStatus.NON_PUBLISHED
    services: tuple[Service, ...] = field(default=())
    contacts: tuple[Contact, ...] = field(default=())

    def contacts_of_record(self, at: datetime, kind: ContactKind | None = None) -> list[Contact]:
        return [c for c in self.contacts if c.of_record(at) and (kind is None or c.kind is kind)]

    def telephone_numbers_of_record(self, at: datetime) -> list[str]:
        """DEF-6: the numbers of the services on the account at `at`. A number the customer gave
        as a contact is not one: otherwise whoever added it minutes ago would get the next
        notice, one-time code or call-back."""
        numbers = (s.telephone_number for s in self.services if s.active(at) and s.telephone_number)
        return list(dict.fromkeys(numbers))

    def subscribed_categories(self, at: datetime) -> frozenset[ServiceCategory]:
        return frozenset(s.category for s in self.services if s.active(at))

    def with_parts(self, services: tuple[Service, ...], contacts: tuple[Contact, ...]) -> Customer:
        return replace(self, services=services, contacts=contacts)

    def latest_contact_change(self, kind: ContactKind) -> datetime:
        """When a contact of this kind was last added or removed (the account's opening at the
        earliest): a later change may not be dated before it."""
        times = [self.created_at]
        for c in self.contacts:
            if c.kind is kind:
                times += [c.added_at, *([c.removed_at] if c.removed_at else [])]
        return max(times)


def check_contact_change_time(customer: Customer, kind: ContactKind, at: datetime, now: datetime) -> None:
    """Refuses an effective time for a contact change that would bend DEF-5 (see the bounds above)."""
    if at > now + CONTACT_CHANGE_CLOCK_SKEW:
        raise InvalidInput(f"the change cannot take effect in the future ({at.isoformat()} is after now)")
    if at < now - CONTACT_CHANGE_MAX_BACKDATING:
        raise InvalidInput(
            f"the change cannot take effect more than {CONTACT_CHANGE_MAX_BACKDATING // timedelta(hours=1)} "
            f"hours ago ({at.isoformat()}): "
            "an address's 30 days of record count from its change (DEF-5)"
        )
    latest = customer.latest_contact_change(kind)
    if at < latest:
        raise InvalidInput(
            f"the change cannot take effect at {at.isoformat()}, before the account's latest "
            f"{kind.value} change or its opening ({latest.isoformat()})"
        )


def normalise_telephone_number(text: str) -> str:
    """An E.164 number, validated by libphonenumber; anything else is refused.

    A North American number already in E.164 form (+1, then ten digits, the first 2-9) skips
    `phonenumbers.parse`: parsing it gives exactly country code 1 and those ten digits (the
    national prefix "1" cannot start them), and it is most of the cost of an import's line.
    tests/unit/test_telephone_fast_path.py holds both paths to the same answers."""
    if NANP_E164.fullmatch(text):
        if phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=1, national_number=int(text[2:]))):
            return text
        raise InvalidInput(f"not a valid E.164 telephone number: {text!r}")
    return _normalise_telephone_number(text)


NANP_E164 = re.compile(r"\+1[2-9][0-9]{9}")


def _normalise_telephone_number(text: str) -> str:
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise InvalidInput(f"not an E.164 telephone number: {text!r}") from None
    if not text.strip().startswith("+") or not phonenumbers.is_valid_number(parsed):
        raise InvalidInput(f"not a valid E.164 telephone number: {text!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(text: str) -> str:
    """email-validator's normal form, or InvalidInput with its reason.

    An import checks millions of addresses that share a few thousand domains, and the domain is
    most of email-validator's work: an ASCII address whose local part is a plain dot-atom (RFC
    5322 atext, what email-validator accepts there unchanged) takes its domain's result from a
    cache. tests/unit/test_email_fast_path.py holds both paths to the same answers."""
    local, at, domain = text.rpartition("@")
    if at and len(local) <= LOCAL_PART_LONGEST and DOT_ATOM.fullmatch(local) and domain.isascii():
        normal = _email_domain(domain)
        if normal is not None and len(text) <= EMAIL_LONGEST and len(local) + 1 + len(normal) <= EMAIL_LONGEST:
            return f"{local}@{normal}"
    return _normalise_email(text)


def _normalise_email(text: str) -> str:
    try:
        info = email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise InvalidInput(f"not a valid email address: {text!r} ({exc})") from None
    return str(info.normalized)


DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
LOCAL_PART_LONGEST = 64  # RFC 5321 4.5.3.1.1, as email-validator counts it
EMAIL_LONGEST = 254  # RFC 3696 errata 1690, as email-validator counts it


@functools.lru_cache(maxsize=1 << 14)
def _email_domain(domain: str) -> str | None:
    """The domain's normal form as email-validator gives it, or None if it refuses the domain
    (the caller then asks it about the whole address, for its reason)."""
    try:
        info = email_validator.validate_email(f"a@{domain}", check_deliverability=False)
    except email_validator.EmailNotValidError:
        return None
    return str(info.domain)


def normalise_postal_address(text: str) -> str:
    return clean_text(text, "a postal address", 5, 400)


def normalise_name(text: str) -> str:
    return clean_text(text, "a customer name", 1, 200)


def parse_enum(enum: type[E], text: str, what: str) -> E:
    try:
        return enum(text)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise InvalidInput(f"unknown {what} {text!r} (one of: {allowed})") from None


def new_contact(customer: CustomerId, kind: ContactKind, value: str, at: datetime) -> Contact:
    normalise = {
        ContactKind.TELEPHONE: normalise_telephone_number,
        ContactKind.EMAIL: normalise_email,
        ContactKind.POSTAL: normalise_postal_address,
    }[kind]
    return Contact(new_id(), customer, kind, normalise(value), at)
