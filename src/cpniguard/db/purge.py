"""Purging working data past its use. Records the rules require to be kept are never purged
here: campaign events, disclosures, deliveries, the consent and audit ledgers are append-only
(database triggers), so they outlive their minimum periods (SAFE-3, SAFE-4, NOTICE-1, AMB-8).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select

from cpniguard.db import tables as t

FINISHED = ("completed", "archived", "rejected")


class SqlPurge:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def working_data(self, before: datetime) -> dict[str, int]:
        """Deletes what was only needed while it was in use, older than `before`; counts per kind."""
        codes = t.one_time_codes.c
        attempts = t.auth_attempts.c
        campaigns = t.campaigns.c
        finished = select(campaigns.id).where(campaigns.status.in_(FINISHED), campaigns.created_at < before)
        done = {
            "one_time_codes": self._conn.execute(delete(t.one_time_codes).where(codes.expires_at < before)),
            "auth_attempts": self._conn.execute(delete(t.auth_attempts).where(attempts.at < before)),
            "campaign_audience": self._conn.execute(
                delete(t.campaign_audience).where(t.campaign_audience.c.campaign_id.in_(finished))
            ),
        }
        return {kind: int(result.rowcount or 0) for kind, result in done.items()}
