"""One-time codes: how a customer proves who they are without biographical or account
information (AUTH-5, AUTH-7), and how a forgotten secret is replaced rather than sent (AMB-5)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from cpniguard.customers.model import ContactKind, Customer
from cpniguard.errors import InvalidInput
from cpniguard.ids import CustomerId


@dataclass(frozen=True, slots=True)
class OneTimeCodePolicy:
    length: int = 6
    ttl: timedelta = timedelta(minutes=10)
    max_attempts: int = 5
    max_sends_per_hour: int = 3

    def __post_init__(self) -> None:
        if (
            not 4 <= self.length <= 12
            or self.ttl <= timedelta(0)
            or min(self.max_attempts, self.max_sends_per_hour) < 1
        ):
            raise InvalidInput(
                "a one-time code policy needs 4 to 12 digits, a positive lifetime and limits of at least 1"
            )


class CodePurpose(StrEnum):
    SET_CREDENTIAL = "set-credential"
    RESET_CREDENTIAL = "reset-credential"
    REGISTER_ONLINE = "register-online"


class CodeChannel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    LETTER = "letter"


@dataclass(frozen=True, slots=True)
class CodeDestination:
    channel: CodeChannel
    recipient: str  # a telephone number, email or postal address of record


def new_code(randbelow: Callable[[int], int], length: int) -> str:
    """`length` decimal digits; production passes `secrets.randbelow`."""
    return f"{randbelow(10**length):0{length}d}"


def code_hash(code_id: uuid.UUID, code: str) -> str:
    """A plain digest suffices: a code lives minutes, allows a few tries and is used once."""
    return hashlib.sha256(f"{code_id}:{code}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class OneTimeCode:
    id: uuid.UUID
    customer_id: CustomerId
    purpose: str
    channel: CodeChannel
    recipient: str  # the contact value of record it was sent to
    code_hash: str
    created_at: datetime
    expires_at: datetime
    max_attempts: int
    attempts: int = 0
    used_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and self.created_at <= now < self.expires_at and self.attempts < self.max_attempts

    def redeem(self, code: str, now: datetime) -> tuple[bool, OneTimeCode]:
        """Whether `code` is right and the code still usable, and the code after this try."""
        if not self.usable(now):
            return False, self
        tried = replace(self, attempts=self.attempts + 1)
        if hmac.compare_digest(code_hash(self.id, code.strip()), self.code_hash):
            return True, replace(tried, used_at=now)
        return False, tried


def issue_code(
    policy: OneTimeCodePolicy,
    code_id: uuid.UUID,
    customer_id: CustomerId,
    purpose: str,
    destination: CodeDestination,
    code: str,
    now: datetime,
) -> OneTimeCode:
    return OneTimeCode(
        code_id,
        customer_id,
        purpose,
        destination.channel,
        destination.recipient,
        code_hash(code_id, code),
        now,
        now + policy.ttl,
        policy.max_attempts,
    )


def may_send(policy: OneTimeCodePolicy, recent_sends: Sequence[datetime], now: datetime) -> bool:
    """Rate limit: fewer than `max_sends_per_hour` codes sent in the hour before `now`."""
    hour_ago = now - timedelta(hours=1)
    return sum(hour_ago < sent <= now for sent in recent_sends) < policy.max_sends_per_hour


def code_destinations(customer: Customer, at: datetime) -> list[CodeDestination]:
    """Where a code may go: each telephone number of record by SMS (DEF-6: a number of the
    customer's services, never a contact number just given) and each email address of record
    (DEF-5: on the account 30 days, so never one just added by a pretexter). A letter to a
    postal address of record only when there is neither (AUTH-8)."""
    electronic = [CodeDestination(CodeChannel.SMS, n) for n in customer.telephone_numbers_of_record(at)]
    electronic += [
        CodeDestination(CodeChannel.EMAIL, c.value) for c in customer.contacts_of_record(at, ContactKind.EMAIL)
    ]
    postal = customer.contacts_of_record(at, ContactKind.POSTAL)
    return electronic or [CodeDestination(CodeChannel.LETTER, c.value) for c in postal]
