"""Identifiers are UUIDs made in Python (DESIGN rule 8)."""

from __future__ import annotations

import uuid
from typing import NewType

from cpniguard.errors import NotFound

CustomerId = NewType("CustomerId", uuid.UUID)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def parse_uuid(text: str, what: str = "id") -> uuid.UUID:
    """Reads an id given by a caller; a malformed one is simply not found."""
    try:
        return uuid.UUID(str(text))
    except ValueError:
        raise NotFound(f"unknown {what}: {text!r}") from None


def parse_customer_id(text: str) -> CustomerId:
    return CustomerId(parse_uuid(text, "customer"))
