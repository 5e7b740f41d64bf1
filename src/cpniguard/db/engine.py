"""Engines for SQLite (WAL, foreign keys on, writers serialised) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

DEFAULT_URL = "sqlite:///cpniguard.db"


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    # Rule 9: a failed statement's error text would quote its bound values (numbers, addresses,
    # hashes) into the exception, and so into a traceback in the log.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    # A server that does not answer must fail the request within seconds, not hang a worker.
    # No ping before each use (a round trip per transaction on the hot path): a connection
    # that died fails its statement, is discarded by the pool, and the request answers 503.
    connect_args: dict[str, Any] = {"connect_timeout": 5}
    if "application_name" not in make_url(url).query:
        connect_args["application_name"] = application_name(url)
    return create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800, connect_args=connect_args, **kwargs)


SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*([A-Za-z_][A-Za-z0-9_$]*)")


def search_path(url: str | URL) -> str | None:
    """The schema a PostgreSQL URL's `options` names (`-c search_path=...`), if any."""
    options = make_url(url).query.get("options", "")
    text = " ".join(options) if isinstance(options, tuple) else options
    found = SEARCH_PATH.search(text)
    return found.group(1) if found else None


def application_name(url: str | URL) -> str:
    """What cpniguard's connections call themselves on PostgreSQL (pg_stat_activity), with the
    schema when the URL names one: a restore finds the processes still using the same data."""
    schema = search_path(url)
    return f"cpniguard/{schema}"[:63] if schema else "cpniguard"


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling is switched off; "begin" below takes over.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")  # a committed audit entry survives power loss
        cursor.execute("PRAGMA busy_timeout=30000")
        # 64 MB instead of 2 MB: index pages under random keys (customer ids) stay cached
        # across a batch of appends instead of being re-read from the OS for each row.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Take the write lock at the start, so two writers never deadlock on a lock upgrade.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
