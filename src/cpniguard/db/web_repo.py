"""Console and portal sessions, sign-in attempts, and the console passwords of staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from cpniguard.access.web import WebSession
from cpniguard.db import tables as t
from cpniguard.db.web_tables import login_attempts, web_sessions

COLUMNS = ("token_hash", "kind", "subject", "csrf", "created_at", "last_seen_at", "ended_at")


class SqlWebRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add_session(self, session: WebSession) -> None:
        self._conn.execute(insert(web_sessions).values(**{k: getattr(session, k) for k in COLUMNS}))

    def session(self, token_hash: str) -> WebSession | None:
        row = self._conn.execute(select(web_sessions).where(web_sessions.c.token_hash == token_hash)).first()
        return WebSession(*(getattr(row, k) for k in COLUMNS)) if row else None

    def touch(self, token_hash: str, at: datetime) -> None:
        self._conn.execute(update(web_sessions).where(web_sessions.c.token_hash == token_hash).values(last_seen_at=at))

    def end(self, token_hash: str, at: datetime) -> None:
        c = web_sessions.c
        self._conn.execute(
            update(web_sessions).where(c.token_hash == token_hash, c.ended_at.is_(None)).values(ended_at=at)
        )

    def add_attempt(self, key: str, at: datetime, succeeded: bool) -> None:
        self._conn.execute(insert(login_attempts).values(key=key[:300], at=at, succeeded=succeeded))

    def failures_since(self, key: str, since: datetime) -> int:
        """Failures after the last success since `since`: a successful sign-in clears the count."""
        c = login_attempts.c
        last_ok = select(func.max(c.at)).where(c.key == key[:300], c.succeeded.is_(True), c.at >= since)
        start = self._conn.execute(last_ok).scalar_one_or_none() or since
        query = select(func.count()).where(c.key == key[:300], c.succeeded.is_(False), c.at >= start)
        return int(self._conn.execute(query).scalar_one())

    def set_password(self, name: str, password_hash: str) -> None:
        self._conn.execute(update(t.users).where(t.users.c.name == name).values(password_hash=password_hash))

    def password_hash(self, name: str) -> str | None:
        return self._conn.execute(select(t.users.c.password_hash).where(t.users.c.name == name)).scalar_one_or_none()
