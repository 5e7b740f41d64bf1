"""The audit ledger in SQL: entries are chained onto the locked head when the unit of work
commits, so the chain order is the commit order, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from cpniguard.audit.model import GENESIS_HASH, AuditEntry, Checkpoint, chain, checkpoint_message
from cpniguard.db import bulk
from cpniguard.db import tables as t
from cpniguard.ports import Signer

HEAD_ID = 1


def entry_from_row(r: Any) -> AuditEntry:
    return AuditEntry(
        r.id,
        r.at,
        r.actor,
        r.action,
        r.customer_id,
        r.categories,
        r.purpose,
        r.basis,
        r.outcome,
        r.reason,
        r.details,
        r.seq,
        r.prev_hash,
        r.hash,
    )


class SqlAuditRepository:
    def __init__(self, conn: Connection, signer: Signer | None, checkpoint_every: int) -> None:
        self._conn = conn
        self._signer = signer
        self._every = checkpoint_every
        self._pending: list[AuditEntry] = []

    def add(self, entry: AuditEntry) -> None:
        self._pending.append(entry)

    def flush(self, now: datetime) -> None:
        """Links the pending entries onto the head, under the head's row lock."""
        if not self._pending:
            return
        seq, head = self._lock_head()
        linked = chain(self._pending, seq, head)
        self._pending = []
        bulk.insert_records(self._conn, t.audit_entries, linked)
        last = linked[-1]
        self._conn.execute(
            update(t.audit_head).where(t.audit_head.c.id == HEAD_ID).values(seq=last.seq, hash=last.hash)
        )
        if self._signer is not None and self._every > 0 and last.seq // self._every > seq // self._every:
            self.add_checkpoint(self.sign_head(last.seq, last.hash, now))

    def _lock_head(self) -> tuple[int, str]:
        query = select(t.audit_head.c.seq, t.audit_head.c.hash).where(t.audit_head.c.id == HEAD_ID)
        if self._conn.dialect.name != "sqlite":  # SQLite writers are already serialised
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        if row is None:
            self._conn.execute(insert(t.audit_head), [{"id": HEAD_ID, "seq": 0, "hash": GENESIS_HASH}])
            return 0, GENESIS_HASH
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

    def entries(self, batch_size: int = 20_000) -> Iterator[AuditEntry]:
        """Every entry in chain order, fetched in keyset batches so memory stays flat."""
        c = t.audit_entries.c
        after = 0
        while True:
            rows = self._conn.execute(
                select(t.audit_entries).where(c.seq > after).order_by(c.seq).limit(batch_size)
            ).all()
            if not rows:
                return
            for r in rows:
                yield entry_from_row(r)
            after = rows[-1].seq

    def find(self, customer: uuid.UUID | None, action: str | None, limit: int) -> list[AuditEntry]:
        c = t.audit_entries.c
        query = select(t.audit_entries).order_by(c.seq.desc()).limit(limit)
        if customer is not None:
            query = query.where(c.customer_id == customer)
        if action:
            query = query.where(c.action.like(f"{action}%"))
        return [entry_from_row(r) for r in self._conn.execute(query)]
