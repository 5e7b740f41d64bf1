"""What the privacy office dashboard counts, month by month: plain values that
`EvidenceReader.dashboard` reads set-based (one GROUP BY or one row of sums per figure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class OpenTask:
    """An open opt-out failure letter to the FCC (SAFE-5), due on `due_on`."""

    raised_at: datetime
    due_on: date | None
    mechanisms: str


@dataclass(frozen=True, slots=True)
class DashboardCounts:
    """Counts for consecutive months (oldest first); `customers` are accounts open at month end."""

    opt_outs: tuple[int, ...]
    opt_ins: tuple[int, ...]
    customers: tuple[int, ...]
    auth_failures: tuple[int, ...]
    lockouts: tuple[int, ...]
    notices: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, status) -> messages
    letter_tasks: tuple[OpenTask, ...] = ()
