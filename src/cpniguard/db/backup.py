"""Backups of the whole database and restores from them.

SQLite: the online backup API copies a consistent snapshot while the service runs, and a
restore writes the target through the same API in one transaction under SQLite's own locks.
Replacing the file by rename instead would leave open connections on the old file and a
`-wal` file beside it that SQLite would replay onto the new one. PostgreSQL: `pg_dump
--format=custom` (one snapshot), restored by pg_restore into psql in one transaction, so a
failed restore changes nothing. When the URL sets `search_path` (one schema per tenant or test), only that
schema is dumped and restored.

The audit signing key is never part of a backup: a stolen backup must not be able to sign
checkpoints. The checkpoints carry their public keys, so a restored ledger verifies without it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL

from cpniguard.db.engine import application_name, is_sqlite, search_path
from cpniguard.errors import InvalidInput

SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables every cpniguard database has since the first migration.
MARKER_TABLES = frozenset({"alembic_version", "audit_entries", "customers"})
PG_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ")
PG_SCHEMA = re.compile(r"^\d+; \d+ \d+ SCHEMA - (\S+) ")


class BackupFailed(Exception):
    """The backup or restore tool failed for a reason other than the input (exit 1)."""


@dataclass(frozen=True)
class BackupFile:
    path: str
    bytes: int
    sha256: str


def backup(engine: Engine, out: Path) -> BackupFile:
    """Writes a consistent copy of the database to `out`, atomically: a temp file beside it is
    synced and renamed, so `out` is either the whole backup or untouched."""
    if out.is_dir():
        raise InvalidInput(f"{out} is a directory; name the backup file")
    if not out.parent.is_dir():
        raise InvalidInput(f"no such directory: {out.parent}")
    with _beside(out) as tmp:
        if is_sqlite(engine):
            _sqlite_backup(_sqlite_path(engine), tmp)
        else:
            _pg_dump(engine.url, tmp)
        _sync(tmp)
        tmp.replace(out)
    _sync_dir(out.parent)
    return describe(out)


def restore(engine: Engine, source: Path, force: bool = False) -> BackupFile:
    """Replaces the database's content with the backup at `source`. Refuses a target that
    holds tables unless `force`, and anything that is not a cpniguard backup of this backend."""
    described = describe(source)
    if is_sqlite(engine):
        _check_sqlite_backup(source)
    else:
        _check_pg_backup(source, search_path(engine.url))
    if not force and has_tables(engine):
        raise InvalidInput("the target database is not empty; pass --force to replace its content")
    if not is_sqlite(engine):
        _others_connected(engine)
    engine.dispose()  # no pooled connection of ours holds a lock or a stale schema
    if is_sqlite(engine):
        _sqlite_restore(source, _sqlite_path(engine))
    else:
        _pg_restore(engine.url, source)
        _analyze(engine)
    return described


def describe(path: Path) -> BackupFile:
    try:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a directory, not a backup file") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    return BackupFile(str(path), path.stat().st_size, digest.hexdigest())


def has_tables(engine: Engine) -> bool:
    return bool(inspect(engine).get_table_names())


# SQLite


def _sqlite_path(engine: Engine) -> Path:
    name = engine.url.database
    if not name or name == ":memory:":
        raise InvalidInput("an in-memory SQLite database cannot be backed up or restored")
    return Path(name)


def _sqlite_backup(db: Path, tmp: Path) -> None:
    if not db.is_file():
        raise InvalidInput(f"no database file at {db}")
    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst)
        # A backup is one self-contained file: no -wal beside it to lose in a copy.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _check_sqlite_backup(source: Path) -> None:
    with source.open("rb") as f:
        if f.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise InvalidInput(f"{source} is not a cpniguard backup for SQLite")
    conn = sqlite3.connect(f"file:{source}?mode=ro&immutable=1", uri=True)
    try:
        ok = conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"{source} is not a readable SQLite database: {exc}") from None
    finally:
        conn.close()
    if not ok:
        raise InvalidInput(f"{source} is damaged (SQLite quick_check failed)")
    if not MARKER_TABLES.issubset(names):
        raise InvalidInput(f"{source} is an SQLite database but not a cpniguard backup")


def _sqlite_restore(source: Path, db: Path) -> None:
    if not db.parent.is_dir():
        raise InvalidInput(f"no such directory: {db.parent}")
    src = sqlite3.connect(f"file:{source}?mode=ro&immutable=1", uri=True)
    dst = sqlite3.connect(db, timeout=30)
    try:
        dst.execute("PRAGMA journal_mode=WAL")
        src.backup(dst)  # all pages in one step: one write transaction on the target
    except sqlite3.OperationalError as exc:
        raise BackupFailed(f"restore into {db} failed: {exc}") from None
    finally:
        dst.close()
        src.close()


# PostgreSQL


def _others_connected(engine: Engine) -> None:
    """A restore under running API processes or workers would have them write into the data it
    replaces, or just after, on top of a ledger head they read before: they must be stopped.
    Their connections are named (`engine.application_name`); this process's pool is closed first."""
    engine.dispose()
    with engine.connect() as conn:
        others = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = :name AND pid <> pg_backend_pid()"
            ),
            {"name": application_name(engine.url)},
        ).scalar_one()
    engine.dispose()
    if others:
        raise InvalidInput(
            f"{others} other cpniguard connection(s) to this database are open: stop the API and the "
            "workers before a restore"
        )


def _pg_binary(tool: str) -> str:
    binary = shutil.which(tool) or _pg_bin(tool)
    if binary is None:
        raise InvalidInput(f"{tool} not found: install the PostgreSQL client tools or put them on PATH")
    return binary


def _pg_command(tool: str, url: URL, *args: str) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if url.password is not None:  # in the environment, not on a command line others can read
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return [_pg_binary(tool), f"--dbname={conninfo}", *args], env


def _pg_bin(tool: str) -> str | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"), reverse=True):
        return str(candidate)
    return None


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The binary is found on PATH and the arguments are a list, never a shell line.
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603


def _first_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0].strip() if lines else "no message"


def _pg_dump(url: URL, tmp: Path) -> None:
    schema = search_path(url)
    args = ["--format=custom", f"--file={tmp}", *([f"--schema={schema}"] if schema else [])]
    command, env = _pg_command("pg_dump", url, *args)
    done = _run(command, env)
    if done.returncode != 0:
        raise BackupFailed(f"pg_dump failed: {_first_line(done.stderr)}")


def _pg_tables(source: Path) -> dict[str, set[str]]:
    done = _run([_pg_binary("pg_restore"), "--list", str(source)], dict(os.environ))
    if done.returncode != 0:
        raise InvalidInput(f"{source} is not a cpniguard backup for PostgreSQL")
    tables: dict[str, set[str]] = {}
    for line in done.stdout.splitlines():
        if found := PG_TABLE.match(line):
            tables.setdefault(found.group(1), set()).add(found.group(2))
    return tables


def _check_pg_backup(source: Path, schema: str | None) -> None:
    tables = _pg_tables(source)
    holding = sorted(s for s, names in tables.items() if MARKER_TABLES.issubset(names))
    if not holding:
        raise InvalidInput(f"{source} is a PostgreSQL archive but not a cpniguard backup")
    wanted = schema or "public"
    if holding != [wanted]:
        raise InvalidInput(f"{source} holds schema {', '.join(holding)}; the database URL uses {wanted}")


def _pg_restore(url: URL, source: Path) -> None:
    """The schema is emptied and filled again in one psql transaction, fed by pg_restore as it
    reads the archive. Not `pg_restore --clean`: its drops start with the constraints of the
    month partitions of call detail (0011), which PostgreSQL refuses to drop on their own."""
    schema = search_path(url) or "public"
    quoted = '"' + schema.replace('"', '""') + '"'
    clean = f"DROP SCHEMA IF EXISTS {quoted} CASCADE;\n"
    if schema not in _pg_schemas(source):  # the archive makes its schema itself when it holds it
        clean += f"CREATE SCHEMA {quoted};\n"
    reader = [_pg_binary("pg_restore"), "--no-owner", "--no-acl", "--file=-", str(source)]
    command, env = _pg_command("psql", url, "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--single-transaction")
    with tempfile.TemporaryDirectory(prefix="cpniguard-restore-") as folder:
        first = Path(folder) / "clean.sql"
        first.write_text(clean)
        command += [f"--file={first}", "--file=-"]
        with subprocess.Popen(reader, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as archive:  # noqa: S603
            done = subprocess.run(  # noqa: S603 - a list of arguments, never a shell line
                command, stdin=archive.stdout, env=env, capture_output=True, text=True, check=False
            )
            if archive.stdout is not None:
                archive.stdout.close()
            read_error = archive.stderr.read().decode(errors="replace") if archive.stderr else ""
            archive.wait()
    if archive.returncode != 0:
        raise BackupFailed(f"pg_restore failed, nothing changed: {_first_line(read_error)}")
    if done.returncode != 0:
        raise BackupFailed(f"restore failed, nothing changed: {_first_line(done.stderr)}")


def _analyze(engine: Engine) -> None:
    """A dump carries no planner statistics: until autovacuum gets to the restored tables the
    planner takes them for empty, and the first `audit verify` or audience build of a large
    database is planned as if they were. The restored schema's tables are analysed now."""
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars()
        quote = engine.dialect.identifier_preparer.quote
        for table in list(tables):
            conn.execute(text(f"ANALYZE {quote(table)}"))
        conn.commit()
    engine.dispose()


def _pg_schemas(source: Path) -> set[str]:
    done = _run([_pg_binary("pg_restore"), "--list", str(source)], dict(os.environ))
    return {found.group(1) for line in done.stdout.splitlines() if (found := PG_SCHEMA.match(line))}


# Files


@contextmanager
def _beside(out: Path) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # the tools create it themselves
    try:
        yield tmp
    finally:
        with suppress(FileNotFoundError):
            tmp.unlink()


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_dir(path: Path) -> None:
    with suppress(OSError):  # not every file system lets a directory be synced
        _sync(path)
