"""API keys for calling systems. Only a digest of the secret is stored.

The secret has 256 bits of randomness, so a plain SHA-256 digest is safe to store and fast
to look up on every request (a slow password hash is for low-entropy human secrets).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from cpniguard.actors import Actor

KEY_PREFIX = "cpg_"
# authenticate: customer-facing systems (IVR, portal) that check secrets and send codes (AUTH-1).
SCOPES = frozenset({"read", "write", "decide", "audit", "authenticate", "admin"})


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: uuid.UUID
    name: str
    digest: str
    scopes: frozenset[str]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None

    def active(self, at: datetime) -> bool:
        return self.revoked_at is None or at < self.revoked_at

    def actor(self) -> Actor:
        return Actor("api-key", self.name, self.scopes)


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Staff roles (issue 4): who may do what in campaigns, privacy work and audits.
ROLES = frozenset({"agent", "marketing", "cro", "supervisor", "privacy-officer", "auditor", "admin"})
# SAFE-2: the roles that open CPNI, given only to staff with current CPNI training.
CPNI_ROLES = frozenset({"agent", "marketing", "cro", "supervisor", "privacy-officer"})


@dataclass(frozen=True, slots=True)
class User:
    """A member of staff the ledger names, with the roles they hold."""

    id: uuid.UUID
    name: str
    roles: frozenset[str]
    created_at: datetime
    corporate_officer: bool = False  # CERT-1: only an officer signs the annual certificate
    title: str = ""  # CERT-5: the signatory's title on the certificate

    def actor(self) -> Actor:
        return Actor("staff", self.name, self.roles)
