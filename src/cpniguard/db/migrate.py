"""Alembic, driven from code: `cpniguard init` upgrades the database to head."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from cpniguard.ports import CpniSealer

MIGRATIONS = Path(__file__).parent / "migrations"
SEALED_FROM = "0010"  # the revision that seals stored CPNI


def alembic_config(engine: Engine, sealer: CpniSealer | None = None) -> Config:
    """`sealer`: the CPNI keys, for migrations that seal or open stored CPNI (0010); without
    it they refuse to run over a table that has rows."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    config.attributes["cpni_sealer"] = sealer
    return config


def upgrade(engine: Engine, sealer: CpniSealer | None = None) -> str | None:
    """Brings the schema to the newest revision; returns the revision it is at."""
    config = alembic_config(engine, sealer)
    before = current_revision(engine)
    command.upgrade(config, "head")
    _forget_clear_cpni(engine, sealed_now=before is not None and before < SEALED_FROM)
    return current_revision(engine)


def _forget_clear_cpni(engine: Engine, sealed_now: bool) -> None:
    """After 0010 sealed stored rows, the old row versions that held them in clear go too
    (BREACH23-8): SQLite keeps page images in its write-ahead log until a checkpoint, and
    PostgreSQL keeps dead tuples (and dropped columns) in the table files until a rewrite."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()  # outside a transaction: a checkpoint cannot run inside one
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()
    elif sealed_now:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM FULL call_detail_records, bills")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
