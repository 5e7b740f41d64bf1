"""Set-based reads of a year's evidence for the annual CPNI certification."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlEvidenceReader:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
