"""Policy versions, complaints, data-broker actions and training records."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlPrivacyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
