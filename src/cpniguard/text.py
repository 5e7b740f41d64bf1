"""Free text from callers, checked the same way for every database."""

from __future__ import annotations

from cpniguard.errors import InvalidInput


def clean_text(text: str, what: str, shortest: int, longest: int) -> str:
    """One line of printable text within the column's length, the same on every database
    (PostgreSQL refuses NUL characters and over-long values that SQLite would store)."""
    cleaned = " ".join(text.split())
    if not cleaned.isprintable():  # every character printable (C; an empty string is too)
        raise InvalidInput(f"{what} contains control characters")
    if not shortest <= len(cleaned) <= longest:
        raise InvalidInput(f"{what} must have {shortest} to {longest} characters")
    return cleaned
