"""How many distinct customers a file's rows name, counted in the database as the file goes in.

A set of the ids in the importing process grew with the file: 140 MB a million customers, so
1.4 GB for a file of calls over ten million (benchmarks/scale.py). A temporary table in the
import's own transaction holds them instead, on disk past PostgreSQL's temp_buffers; it goes
with the transaction, committed or not.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Column, Connection, MetaData, Table, Uuid, func, select, text
from sqlalchemy.dialects import sqlite

TALLY = Table("import_customer_tally", MetaData(), Column("id", Uuid, primary_key=True), prefixes=["TEMPORARY"])
UNNEST = text(f"INSERT INTO {TALLY.name} SELECT unnest(CAST(:ids AS uuid[])) ON CONFLICT DO NOTHING")


class CustomerTally:
    """The distinct customers of one import, in the unit of work's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._made = False

    def add(self, ids: Iterable[uuid.UUID]) -> None:
        distinct = list(set(ids))
        if not distinct:
            return
        if not self._made:
            TALLY.drop(self._conn, checkfirst=True)  # left on a pooled connection by an earlier failure
            TALLY.create(self._conn)
            self._made = True
        if self._conn.dialect.name == "postgresql":  # one statement: executemany went row by row
            self._conn.execute(UNNEST, {"ids": distinct})
        else:
            self._conn.execute(sqlite.insert(TALLY).on_conflict_do_nothing(), [{"id": i} for i in distinct])

    def count(self) -> int:
        """How many; the table is dropped (the connection goes back to the pool without it)."""
        if not self._made:
            return 0
        counted = int(self._conn.execute(select(func.count()).select_from(TALLY)).scalar_one())
        TALLY.drop(self._conn)
        self._made = False
        return counted
