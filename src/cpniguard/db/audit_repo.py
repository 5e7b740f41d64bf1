"""The audit ledger in SQL: entries are chained onto the locked head when the unit of work
commits, so the chain order is the commit order, on SQLite and on PostgreSQL alike.

Entries are stored as the text that is hashed (`audit.model.StoredEntry`): appending inserts
the linked rows as they are, verifying (`audit_scan`) hashes what it reads back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from cpniguard.audit.model import (
    GENESIS_HASH,
    PAYLOAD_FIELDS,
    AuditEntry,
    Checkpoint,
    Run,
    StoredEntry,
    checkpoint_message,
    link,
    unlinked_columns,
)
from cpniguard.db import audit_scan
from cpniguard.db import tables as t
from cpniguard.db.refusals import refusal
from cpniguard.errors import StorageUnavailable
from cpniguard.ports import Signer

HEAD_ID = 1
log = logging.getLogger(__name__)
COLUMNS = (*PAYLOAD_FIELDS, "hash")
NAMES = ", ".join(COLUMNS)
INSERT_AND_MOVE_HEAD = (
    f"WITH added AS (INSERT INTO audit_entries ({NAMES}) "
    f"SELECT * FROM unnest(%b::bigint[], {', '.join(['%b::text[]'] * (len(COLUMNS) - 1))})) "
    "UPDATE audit_head SET seq = %s, hash = %s WHERE id = %s"
)
# PostgreSQL links small groups in the database (migration 0009): the head's row lock is then
# held for the server's own work and the commit, not for round trips to this process.
APPEND_ON_SERVER = (
    "SELECT before_seq, last_seq, last_hash FROM cpniguard_audit_append("
    + ", ".join(["%b::text[]"] * (len(PAYLOAD_FIELDS) - 2))
    + ")"
)
COPY_FROM = 50  # rows; fewer go through executemany, as COPY costs PostgreSQL a round trip more


def entry_from_row(r: Any) -> AuditEntry:
    fields = (r.actor, r.action, r.customer_id, r.categories, r.purpose, r.basis, r.outcome, r.reason, r.details)
    return AuditEntry(r.id, r.at, *fields, r.seq, r.prev_hash, r.hash)


class SqlAuditRepository:
    def __init__(self, conn: Connection, signer: Signer | None, checkpoint_every: int) -> None:
        self._conn = conn
        self._signer = signer
        self._every = checkpoint_every
        self._pending: list[AuditEntry] = []
        self._held: tuple[int, str] | None = None  # the head, while this transaction locks it

    def add(self, entry: AuditEntry) -> None:
        self._pending.append(entry)

    def flush_and_commit(self, now: datetime, commit: Callable[[], None]) -> None:
        """Links the pending entries onto the head, under the head's row lock, then `commit`s.

        On PostgreSQL the last statement (the entries and the new head) and the COMMIT go to the
        server in one round trip (psycopg's pipeline mode)."""
        if not self._pending:
            commit()
            return
        if self._conn.dialect.name == "postgresql" and self._held is None and len(self._pending) < COPY_FROM:
            self._append_on_server(now, commit)
            return
        seq, head = self._held or self._lock_head()
        rows = link(self._pending, seq, head)
        self._pending = []
        last_seq, last_hash = rows[-1][0], rows[-1][-1]
        self._held = (last_seq, last_hash)
        if self._signer is not None and self._every > 0 and last_seq // self._every > seq // self._every:
            self.add_checkpoint(self.sign_head(last_seq, last_hash, now))
        if self._conn.dialect.name == "postgresql" and len(rows) < COPY_FROM:
            self._insert_and_move_head(rows, commit)
            return
        self._insert(rows)
        self._conn.execute(
            update(t.audit_head).where(t.audit_head.c.id == HEAD_ID).values(seq=last_seq, hash=last_hash)
        )
        commit()

    def _append_on_server(self, now: datetime, commit: Callable[[], None]) -> None:
        """PostgreSQL: the pending entries go to `cpniguard_audit_append` with the COMMIT, in one
        round trip; the function locks the head, links them as `link` would, and moves the head.
        A checkpoint due at the new head is signed and stored in a transaction of its own."""
        entries, self._pending = self._pending, []
        columns = unlinked_columns(entries)
        driver = self._conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        try:
            with driver.pipeline() if psycopg.Pipeline.is_supported() else contextlib.nullcontext():
                cursor = driver.execute(APPEND_ON_SERVER, columns)
                commit()
            row = cursor.fetchone()
        except (psycopg.Error, DBAPIError) as exc:  # nothing was committed: no caller hears allow
            with contextlib.suppress(psycopg.Error):
                driver.rollback()
            cause = exc.orig if isinstance(exc, DBAPIError) else exc
            raise StorageUnavailable(f"the change was not stored: {refusal(cause)}") from None
        assert row is not None
        before, last_seq, last_hash = int(row[0]), int(row[1]), str(row[2])
        if self._signer is not None and self._every > 0 and last_seq // self._every > before // self._every:
            self._checkpoint_after_commit(self.sign_head(last_seq, last_hash, now), commit)

    def _checkpoint_after_commit(self, checkpoint: Checkpoint, commit: Callable[[], None]) -> None:
        """The change is committed already: a checkpoint that cannot be stored (a full disk, a
        lost server) must not answer "not stored" for it, or a retried request stores it twice
        (issue 7). The chain verifies without it, and the next checkpoint due signs a later head."""
        try:
            self.add_checkpoint(checkpoint)
            commit()
        except DBAPIError as exc:
            with contextlib.suppress(DBAPIError):
                self._conn.rollback()
            log.warning("audit checkpoint at seq %d not stored: %s", checkpoint.seq, refusal(exc.orig))

    def _insert(self, rows: Sequence[StoredEntry]) -> None:
        """Rows go to the driver as they are (all text but seq), in this transaction."""
        driver = self._conn.connection.driver_connection
        assert driver is not None
        if self._conn.dialect.name == "postgresql" and len(rows) >= COPY_FROM:
            with driver.cursor() as cursor, cursor.copy(f"COPY audit_entries ({NAMES}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        mark = "?" if self._conn.dialect.name == "sqlite" else "%s"
        cursor = driver.cursor()
        try:
            cursor.executemany(f"INSERT INTO audit_entries ({NAMES}) VALUES ({', '.join([mark] * len(COLUMNS))})", rows)
        finally:
            cursor.close()

    def _insert_and_move_head(self, rows: Sequence[StoredEntry], commit: Callable[[], None]) -> None:
        """PostgreSQL: the entries and the new head in one statement, sent with the COMMIT.

        The rows go as one array per column, so the statement's text is the same for any
        number of rows: the driver parses it once and the server prepares it once (a VALUES
        list of 8 rows has 112 placeholders, which psycopg re-parsed in Python on every call)."""
        driver = self._conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        params = [list(column) for column in zip(*rows, strict=True)]
        with driver.pipeline() if psycopg.Pipeline.is_supported() else contextlib.nullcontext():
            driver.execute(INSERT_AND_MOVE_HEAD, [*params, rows[-1][0], rows[-1][-1], HEAD_ID])
            commit()

    def _lock_head(self) -> tuple[int, str]:
        query = select(t.audit_head.c.seq, t.audit_head.c.hash).where(t.audit_head.c.id == HEAD_ID)
        if self._conn.dialect.name != "sqlite":  # SQLite writers are already serialised
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        if row is None:  # the ledger's first append; another writer may be making the row too
            genesis = {"id": HEAD_ID, "seq": 0, "hash": GENESIS_HASH}
            make = postgresql.insert if self._conn.dialect.name == "postgresql" else sqlite.insert
            self._conn.execute(make(t.audit_head).values(genesis).on_conflict_do_nothing())
            row = self._conn.execute(query).one()
        return int(row.seq), str(row.hash)

    def head(self) -> tuple[int, str]:
        row = self._conn.execute(select(t.audit_head.c.seq, t.audit_head.c.hash)).first()
        return (int(row.seq), str(row.hash)) if row else (0, GENESIS_HASH)

    def sign_head(self, seq: int, head_hash: str, now: datetime) -> Checkpoint:
        if self._signer is None:
            raise RuntimeError("no signing key configured")
        signature = self._signer.sign(checkpoint_message(seq, head_hash))
        return Checkpoint(seq, head_hash, now, self._signer.public_key, signature)

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        self._conn.execute(insert(t.audit_checkpoints), [asdict(checkpoint)])

    def checkpoints(self) -> list[Checkpoint]:
        rows = self._conn.execute(select(t.audit_checkpoints).order_by(t.audit_checkpoints.c.seq))
        return [Checkpoint(r.seq, r.head_hash, r.at, r.public_key, r.signature) for r in rows]

    def last_checkpoint(self) -> Checkpoint | None:
        c = t.audit_checkpoints.c
        r = self._conn.execute(select(t.audit_checkpoints).order_by(c.seq.desc()).limit(1)).first()
        return Checkpoint(r.seq, r.head_hash, r.at, r.public_key, r.signature) if r else None

    def count(self) -> int:
        return int(self._conn.execute(select(func.count()).select_from(t.audit_entries)).scalar_one())

    def check_chain(
        self,
        checkpoints: Mapping[int, str],
        batch_size: int,
        parallel_from: int,
        progress: audit_scan.Progress | None = None,
    ) -> list[Run]:
        """Every stored entry checked in chain order (see `audit_scan`), in one stretch or, for
        a ledger of `parallel_from` entries or more on a file or a server, one per CPU."""
        c = t.audit_entries.c
        first, last = self._conn.execute(select(func.min(c.seq), func.max(c.seq))).one()
        target = self._worker_target()
        plan = audit_scan.stretches(first, last, parallel_from) if target else [audit_scan.WHOLE]
        driver = self._conn.connection.driver_connection
        dialect = self._conn.dialect.name
        return audit_scan.check_ledger(driver, dialect, target, plan, batch_size, checkpoints, progress)

    def _worker_target(self) -> dict[str, str] | None:
        """Where a worker process finds this database, when it can."""
        url = self._conn.engine.url
        if self._conn.dialect.name == "postgresql":
            return {"postgresql": url.set(drivername="postgresql").render_as_string(hide_password=False)}
        path = url.database
        if self._conn.dialect.name == "sqlite" and path and not url.query and os.path.isfile(path):
            return {"sqlite": os.path.abspath(path)}
        return None  # an in-memory or URI-named SQLite database

    def entry(self, seq: int) -> AuditEntry | None:
        row = self._conn.execute(select(t.audit_entries).where(t.audit_entries.c.seq == seq)).first()
        return entry_from_row(row) if row else None

    def find(
        self, customer: uuid.UUID | None, action: str | None, limit: int, before: int | None = None
    ) -> list[AuditEntry]:
        """The newest entries first; `before` (a seq) starts the page below it (keyset paging)."""
        c = t.audit_entries.c
        query = select(t.audit_entries).order_by(c.seq.desc()).limit(limit)
        if before is not None:
            query = query.where(c.seq < before)
        if customer is not None:
            query = query.where(c.customer_id == str(customer))
        if action:
            query = query.where(c.action.like(f"{action}%"))
        return [entry_from_row(r) for r in self._conn.execute(query)]
