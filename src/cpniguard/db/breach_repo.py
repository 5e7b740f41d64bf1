"""Breach incidents, their timeline and documents; the closure days of the business calendar."""

from __future__ import annotations

from sqlalchemy import Connection


class SqlBreachRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn


class SqlCalendarRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
