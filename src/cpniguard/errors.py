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
