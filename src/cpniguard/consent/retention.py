"""AMB-8 and the record periods (SAFE-3, SAFE-4, NOTICE-1): nothing younger than a year is
purged, and the records the rules name are not purged at all (they are append-only)."""

from __future__ import annotations

from datetime import date, datetime

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.calendar import add_years, eastern_date, start_of_day
from cpniguard.clock import Clock
from cpniguard.errors import Forbidden
from cpniguard.ports import UnitOfWork

KEPT_FOREVER = (
    "audit_entries",
    "campaigns",
    "consent_events",
    "campaign_events",
    "disclosures",
    "deliveries",
    "breach_incidents",  # BREACH-6, BREACH23-10: at least two years; cpniguard deletes none
    "breach_events",
    "breach_documents",
)


# 47 CFR 42.6: a carrier that bills toll calls keeps the records of them for 18 months.
CALL_DETAIL_KEPT_MONTHS = 18


def call_detail_cutoff(before: datetime, now: datetime) -> datetime:
    """Calls that started before this go: `before`, but never within the 18 months of 42.6."""
    today = eastern_date(now)
    months = today.year * 12 + today.month - 1 - CALL_DETAIL_KEPT_MONTHS
    earliest = start_of_day(date(months // 12, months % 12 + 1, 1))  # the first of that month, Eastern
    return min(before, earliest)


def purge(uow: UnitOfWork, clock: Clock, actor: Actor, before: datetime) -> dict[str, int]:
    """Deletes working data (expired one-time codes, old authentication attempts, audience
    snapshots of campaigns completed before `before`, call detail records of calls started
    before `before` and 18 months ago) older than `before`; refuses a `before`
    within the last year, so a campaign's records outlive its completion by a year (SAFE-3, AMB-8)."""
    now = clock.now()
    earliest = start_of_day(add_years(eastern_date(now), -1))
    if before > earliest:
        raise Forbidden(f"records younger than one year are kept (AMB-8): purge before {earliest.date()} at the latest")
    with uow:
        counts = uow.purge.working_data(before)
        counts["call_detail_records"] = uow.purge.call_detail(call_detail_cutoff(before, now))
        uow.audit.add(
            AuditEntry.of("records:working-data:purged", actor, now, details={"before": before.isoformat(), **counts})
        )
        uow.commit()
    return counts
