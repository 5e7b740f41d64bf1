"""The database's reason for refusing a write, as one line a client may read."""

from __future__ import annotations

DISK_FULL = "53100"  # PostgreSQL's disk_full


def refusal(cause: BaseException | None) -> str:
    """The first line of the database's reason. PostgreSQL's disk_full names the server's data
    file ("could not extend file pg_tblspc/..."), which is no client's business (issue 7)."""
    if getattr(cause, "sqlstate", None) == DISK_FULL:
        return "the database's disk is full"
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else "no reason given"
