"""The core vocabulary of authentication: credential kinds, how the customer was verified
before setting one, the stored credential, and the port that hashes secrets."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from cpniguard.ids import CustomerId


class CredentialKind(StrEnum):
    PASSWORD = "password"  # noqa: S105 - the name of a kind, not a secret
    PIN = "pin"
    BACKUP_ANSWER = "backup-answer"


# How a credential kind is named in reasons shown to agents and customers.
CREDENTIAL_LABEL: dict[CredentialKind, str] = {
    CredentialKind.PASSWORD: "password",
    CredentialKind.PIN: "PIN",
    CredentialKind.BACKUP_ANSWER: "backup answer",
}


class VerifiedBy(StrEnum):
    """AUTH-7: how the customer proved who they are, without biographical or account
    information, before the credential was set."""

    SERVICE_INITIATION = "service-initiation"
    ONE_TIME_CODE = "one-time-code"
    PHOTO_ID = "photo-id"


@dataclass(frozen=True, slots=True)
class Credential:
    """A password, PIN or backup answer, stored only as a hash (AMB-5: never sent back)."""

    id: uuid.UUID
    customer_id: CustomerId
    kind: CredentialKind
    secret_hash: str
    verified_by: VerifiedBy
    set_at: datetime
    question: str | None = None  # the backup question, for a backup answer


def change_notice_required(verified_by: VerifiedBy) -> bool:
    """NOTIFY-1: setting or changing a credential is notified, except when the customer
    chooses it while initiating service (NOTIFY-2)."""
    return verified_by is not VerifiedBy.SERVICE_INITIATION


class SecretHasher(Protocol):
    """Turns secrets into slow, salted hashes and checks secrets against them."""

    def hash(self, secret: str) -> str: ...

    def verify(self, stored: str, secret: str) -> bool:
        """False for a wrong secret and for a stored value that is not a valid hash."""
        ...

    def needs_rehash(self, stored: str) -> bool:
        """True when `stored` was made with weaker parameters than the current ones."""
        ...

    def dummy_verify(self, secret: str) -> bool:
        """Spends the time of one `verify` and answers False, for a customer with no stored
        credential, so that an unknown customer and a wrong secret cannot be told apart."""
        ...


def folded_words(text: str) -> tuple[str, ...]:
    """The words of `text` for comparison: compatibility-normalised, casefolded, accents and
    punctuation dropped (hyphens and dashes separate words, so "Smith-Jones" is two words)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = []
    for ch in decomposed:
        category = unicodedata.category(ch)
        if category == "Pd" or ch.isspace():
            kept.append(" ")
        elif category[0] in "LN":
            kept.append(ch)
    return tuple("".join(kept).split())
