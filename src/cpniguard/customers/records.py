"""The CPNI itself: call detail records (DEF-3) and monthly bills (DEF-1(B))."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cpniguard.errors import InvalidInput
from cpniguard.ids import CustomerId

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


@dataclass(frozen=True, slots=True)
class CallDetailRecord:
    id: uuid.UUID
    customer_id: CustomerId
    service_number: str
    started_at: datetime
    direction: Direction
    other_party_number: str
    duration_seconds: int
    charge_cents: int
    location: str = ""

    def __post_init__(self) -> None:
        if self.duration_seconds < 0 or self.charge_cents < 0:
            raise InvalidInput("duration and charge cannot be negative")


@dataclass(frozen=True, slots=True)
class Bill:
    id: uuid.UUID
    customer_id: CustomerId
    period: str  # YYYY-MM
    account_number: str
    total_cents: int
    local_charges_cents: int = 0
    long_distance_charges_cents: int = 0
    directory_assistance_charges_cents: int = 0
    feature_charges_cents: int = 0
    minutes_used: int = 0

    def __post_init__(self) -> None:
        if not PERIOD.match(self.period):
            raise InvalidInput(f"bill period must be YYYY-MM: {self.period!r}")
