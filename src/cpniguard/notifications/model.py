"""Which account changes are announced, to which contact of record, through which channel.

A notice goes to the customer's contacts of record as they were before the change (NOTIFY-5):
the route is worked out before the change is applied, so a new email address or number can
never be on it. The route lists every channel worth trying in order (AMB-4, NOTIFY-3): an
email address of record (DEF-5: on the account 30 days), else SMS then a voicemail to the
telephone number of record (DEF-6), then a letter to the postal address of record. A live
call is never a channel.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from cpniguard.customers.model import ContactKind, Customer
from cpniguard.errors import Conflict


class NoticeEvent(StrEnum):
    """What happened, in the words the notice uses. NOTIFY-1: credentials, the online account
    and addresses of record; the rest are messages of the authentication flows."""

    PASSWORD_CHANGED = "password-changed"  # noqa: S105 - an event name, not a secret
    PIN_CHANGED = "pin-changed"
    BACKUP_ANSWER_CHANGED = "backup-answer-changed"
    ONLINE_ACCOUNT_CHANGED = "online-account-changed"
    EMAIL_CHANGED = "email-changed"
    POSTAL_ADDRESS_CHANGED = "postal-address-changed"
    TELEPHONE_NUMBER_CHANGED = "telephone-number-changed"
    ACCOUNT_LOCKED = "account-locked"
    ONE_TIME_CODE = "one-time-code"
    CALL_DETAIL = "call-detail"
    BILLS = "bills"
    OPT_OUT_NOTICE = "opt-out-notice"  # NOTICE-2..NOTICE-8: the individual notice of CPNI rights
    OPT_OUT_RECORDED = "opt-out-recorded"  # NOTICE-9: the acknowledgement of an opt-out
    OPT_OUT_CONFIRM = "opt-out-confirm"  # an opt-out from an unknown address: confirm it first
    PRIVACY_POLICY_CHANGED = "privacy-policy-changed"  # a material change of the privacy policy
    BREACH_NOTICE = "breach-notice"  # BREACH-5, BREACH23-7, BREACH23-9: a customer's data was breached
    BREACH_REMINDER = "breach-reminder"  # to the privacy office: a breach deadline comes near


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    VOICE = "voice"
    LETTER = "letter"


@dataclass(frozen=True, slots=True)
class Stop:
    channel: Channel
    recipient: str


@dataclass(frozen=True, slots=True)
class Notice:
    """A message to one customer, rendered and routed, ready for the outbox."""

    id: uuid.UUID
    created_at: datetime
    customer_id: uuid.UUID | None  # None: to someone who is no customer of record (OPT_OUT_CONFIRM)
    event: NoticeEvent
    language: str
    route: tuple[Stop, ...]
    subject: str
    body: str
    confidential: bool = False  # carries a one-time code: listed without its body
    attachment_name: str | None = None
    attachment: bytes | None = None
    letter_body: str | None = None  # the text on a letter stop, when it differs (an email can be answered)
    reply_to: str | None = None  # where a reply to the email goes (NOTICE-8: the marketing mailbox)

    def body_for(self, channel: Channel) -> str:
        return self.letter_body if channel is Channel.LETTER and self.letter_body else self.body


CHANGE_OF_CONTACT = {
    ContactKind.EMAIL: NoticeEvent.EMAIL_CHANGED,
    ContactKind.POSTAL: NoticeEvent.POSTAL_ADDRESS_CHANGED,
    ContactKind.TELEPHONE: NoticeEvent.TELEPHONE_NUMBER_CHANGED,
}


def notice_route(customer: Customer, at: datetime) -> tuple[Stop, ...]:
    """The channels for a notice about a change made at `at`, from the contacts of record just
    before it (NOTIFY-3, NOTIFY-5). Raises Conflict when there is none: the change must not
    happen unannounced."""
    before = at - timedelta(microseconds=1)
    route = [Stop(Channel.EMAIL, c.value) for c in customer.contacts_of_record(before, ContactKind.EMAIL)]
    for number in customer.telephone_numbers_of_record(before):
        route += [Stop(Channel.SMS, number), Stop(Channel.VOICE, number)]
    postal = customer.contacts_of_record(before, ContactKind.POSTAL)
    route += [Stop(Channel.LETTER, letter_recipient(customer.name, c.value)) for c in postal]
    if not route:
        raise Conflict("the customer has no contact of record to announce the change to (NOTIFY-3)")
    return tuple(route)


def letter_recipient(name: str, postal_address: str) -> str:
    """The address block of a letter: the customer's name, then the address of record, stored
    on one line, broken as US mail writes it ("12 Analytical Way, Springfield, IL 62701" ->
    street line, then "Springfield, IL 62701")."""
    parts = [part.strip() for part in postal_address.split(",") if part.strip()]
    lines = [*parts[:-2], f"{parts[-2]}, {parts[-1]}"] if len(parts) >= 3 else [postal_address]
    return "\n".join([name, *lines])
