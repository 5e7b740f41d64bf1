"""A campaign's frozen audience stored as one value: the customers' ids sorted, 16 bytes each.

PostgreSQL builds it from the gate's selection in one statement (`store_decided`), so a million
ids never pass through Python; SQLite's build lists the ids in Python and packs them here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, LargeBinary, Select, delete, func, insert, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from cpniguard.db import tables as t

a = t.campaign_audiences.c
ID_BYTES = 16


def pack(ids: Iterable[uuid.UUID]) -> bytes:
    return b"".join(i.bytes for i in sorted(set(ids)))


def unpack(packed: bytes) -> list[uuid.UUID]:
    data = bytes(packed)
    return [uuid.UUID(bytes=data[i : i + ID_BYTES]) for i in range(0, len(data), ID_BYTES)]


def read(conn: Connection, campaign_id: uuid.UUID) -> list[uuid.UUID]:
    packed = conn.execute(select(a.customers).where(a.campaign_id == campaign_id)).scalar()
    return unpack(packed) if packed is not None else []


def clear(conn: Connection, campaign_id: uuid.UUID) -> None:
    conn.execute(delete(t.campaign_audiences).where(a.campaign_id == campaign_id))


def add(conn: Connection, campaign_id: uuid.UUID, ids: Iterable[uuid.UUID]) -> None:
    """Adds to the stored set (made empty if there is none); a stored set with nothing to add
    is left as it is, unread (a million ids are 16 MB)."""
    extra = list(ids)
    stored = conn.execute(select(a.included).where(a.campaign_id == campaign_id)).scalar()
    if stored is not None and not extra:
        return
    merged = pack([*read(conn, campaign_id), *extra])
    clear(conn, campaign_id)
    count = len(merged) // ID_BYTES
    conn.execute(insert(t.campaign_audiences).values(campaign_id=campaign_id, customers=merged, included=count))


def store_decided(conn: Connection, campaign_id: uuid.UUID, decided: Select[Any]) -> int:
    """PostgreSQL: the ids of `decided` (a selection with an `id` and a `reason` column) whose
    reason is NULL, packed in order by the server; returns how many."""
    d = decided.subquery()
    packed = func.coalesce(
        func.string_agg(func.uuid_send(d.c.id), aggregate_order_by(literal(b"", LargeBinary), d.c.id)),
        literal(b"", LargeBinary),
    )
    chosen = select(literal(campaign_id, t.campaign_audiences.c.campaign_id.type), packed, func.count())
    statement = insert(t.campaign_audiences).from_select(
        ["campaign_id", "customers", "included"], chosen.where(d.c.reason.is_(None))
    )
    return int(conn.execute(statement.returning(a.included)).scalar_one())


def delete_for(conn: Connection, campaigns: Select[Any]) -> int:
    """Deletes the sets of these campaigns; returns how many customers they held."""
    held = conn.execute(select(func.coalesce(func.sum(a.included), 0)).where(a.campaign_id.in_(campaigns))).scalar()
    conn.execute(delete(t.campaign_audiences).where(a.campaign_id.in_(campaigns)))
    return int(held or 0)
