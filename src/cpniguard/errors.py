"""Domain errors. Entry points map them to HTTP statuses (api/errors.py) or CLI exit 2."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal the caller can act on; its message is one readable line."""

    code = "domain_error"


class InvalidInput(DomainError):
    code = "invalid_input"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class StorageUnavailable(DomainError):
    """The database cannot be read or written; decisions fail closed."""

    code = "storage_unavailable"


class WorkInterrupted(DomainError):
    """Work done beside the caller stopped before it finished (a worker process was killed);
    nothing of it was stored, and it can be run again."""

    code = "work_interrupted"


class CpniKeyUnavailable(StorageUnavailable):
    """CPNI at rest cannot be sealed or opened: no key is configured, or the keyring lacks the
    key a record was sealed with (BREACH23-8). Nothing is read or written in clear instead."""

    code = "cpni_key_unavailable"


class CpniSealBroken(StorageUnavailable):
    """A sealed CPNI record failed authentication: it was altered, or moved to another row or
    customer. It is refused, never released."""

    code = "cpni_seal_broken"

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index  # which of several values opened together failed
