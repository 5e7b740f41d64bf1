"""API keys for calling systems, in SQL (stored as digests, never the secret)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from cpniguard.access.model import ApiKey
from cpniguard.db import tables as t


def _key(r: Any) -> ApiKey:
    return ApiKey(
        r.id, r.name, r.digest, frozenset(filter(None, r.scopes.split(","))), r.created_at, r.created_by, r.revoked_at
    )


class SqlApiKeyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, key: ApiKey) -> None:
        row = {**asdict(key), "scopes": ",".join(sorted(key.scopes))}
        self._conn.execute(insert(t.api_keys), [row])

    def by_digest(self, digest: str) -> ApiKey | None:
        r = self._conn.execute(select(t.api_keys).where(t.api_keys.c.digest == digest)).first()
        return _key(r) if r else None

    def by_name(self, name: str) -> ApiKey | None:
        r = self._conn.execute(select(t.api_keys).where(t.api_keys.c.name == name)).first()
        return _key(r) if r else None

    def revoke(self, key_id: uuid.UUID, at: datetime) -> None:
        self._conn.execute(update(t.api_keys).where(t.api_keys.c.id == key_id).values(revoked_at=at))

    def all(self) -> list[ApiKey]:
        return [_key(r) for r in self._conn.execute(select(t.api_keys).order_by(t.api_keys.c.created_at))]
