"""Purging working data past its use. Records the rules require to be kept are never purged
here: campaigns, campaign events, disclosures, deliveries, the consent and audit ledgers stay
(the events, disclosures, deliveries and ledgers are append-only, by database triggers), so they
outlive their minimum periods (SAFE-3, SAFE-4, NOTICE-1, AMB-8).

A campaign's audience snapshot is the record of whom it was for: it is kept while the campaign
is in effect and a year after it was completed (AMB-8), so only snapshots of campaigns
completed before `before` (at least a year ago, `consent.retention`) are deleted; a campaign
archived without completing never ran and its snapshot is kept.

Call detail records go once their calls are older than `before` and than the 18 months that
47 CFR 42.6 keeps toll records (`consent.retention`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select

from cpniguard.db import audience_sets, cdr_partitions
from cpniguard.db import tables as t

FINISHED = ("completed", "archived")


class SqlPurge:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def working_data(self, before: datetime) -> dict[str, int]:
        """Deletes what was only needed while it was in use, older than `before`; counts per kind."""
        codes = t.one_time_codes.c
        attempts = t.auth_attempts.c
        campaigns = t.campaigns.c
        finished = select(campaigns.id).where(campaigns.status.in_(FINISHED), campaigns.completed_at < before)
        done = {
            "one_time_codes": self._conn.execute(delete(t.one_time_codes).where(codes.expires_at < before)),
            "auth_attempts": self._conn.execute(delete(t.auth_attempts).where(attempts.at < before)),
        }
        counts = {kind: int(result.rowcount or 0) for kind, result in done.items()}
        counts["campaign_audience"] = audience_sets.delete_for(self._conn, finished)  # customers, as before 0012
        return counts

    def call_detail(self, before: datetime) -> int:
        """Calls that started before `before`: on PostgreSQL whole months go by dropping their
        partitions, and a DELETE takes the rest (the month `before` falls in, the default)."""
        dropped = cdr_partitions.drop_months_before(self._conn, before) if cdr_partitions.partitioned(self._conn) else 0
        c = t.call_detail_records.c
        deleted = self._conn.execute(delete(t.call_detail_records).where(c.started_at < before))
        return dropped + int(deleted.rowcount or 0)
