"""The argon2id adapter for the `SecretHasher` port (AMB-5: secrets are stored hashed)."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP Password Storage Cheat Sheet, the minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
OWASP_TIME_COST = 2
OWASP_MEMORY_KIB = 19456
OWASP_PARALLELISM = 1


class Argon2SecretHasher:
    """Hashes secrets with argon2id; argon2 compares digests in constant time."""

    def __init__(
        self,
        time_cost: int = OWASP_TIME_COST,
        memory_kib: int = OWASP_MEMORY_KIB,
        parallelism: int = OWASP_PARALLELISM,
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        # Made up front so that every dummy check costs exactly one verification.
        self._dummy = self._hasher.hash("no credential is stored for this customer")

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def verify(self, stored: str, secret: str) -> bool:
        try:
            return self._hasher.verify(stored, secret)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True

    def dummy_verify(self, secret: str) -> bool:
        """Verifies against a hash of the same cost and answers False whatever the secret:
        an unknown customer costs the same time as a wrong secret (AUTH-1, no account probing)."""
        self.verify(self._dummy, secret)
        return False
