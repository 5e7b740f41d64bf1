"""The unit of work: one connection, one transaction, every repository on it (rule 2).

Audit entries are linked onto the chain inside `commit`, in the same transaction as the
change they record; leaving the block without `commit` rolls everything back.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from types import TracebackType

import psycopg
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import InternalError, OperationalError

from cpniguard.clock import Clock
from cpniguard.db.api_key_repo import SqlApiKeyRepository
from cpniguard.db.audit_repo import SqlAuditRepository
from cpniguard.db.auth_repo import SqlAuthRepository
from cpniguard.db.batch import SqlBatchDecisions
from cpniguard.db.breach_repo import SqlBreachRepository, SqlCalendarRepository
from cpniguard.db.campaign_repo import SqlCampaignRepository, SqlUserRepository
from cpniguard.db.consent_repo import SqlConsentRepository
from cpniguard.db.customer_repo import SqlCpniRepository, SqlCustomerRepository
from cpniguard.db.evidence_repo import SqlEvidenceReader
from cpniguard.db.gate_reads import SqlGateReads
from cpniguard.db.outbox_repo import SqlOutboxRepository
from cpniguard.db.privacy_repo import SqlPrivacyRepository
from cpniguard.db.purge import SqlPurge
from cpniguard.db.refusals import refusal
from cpniguard.db.web_repo import SqlWebRepository
from cpniguard.errors import StorageUnavailable
from cpniguard.ports import CpniSealer, Signer

DRIVER_STORAGE_ERRORS = (sqlite3.OperationalError, psycopg.OperationalError, psycopg.InternalError)


class WriterLock:
    """Queues SQLite writers in the kernel. SQLite admits one writer; a second one polls with
    growing sleeps (up to 100 ms) until the first is done, which under load gave seconds of
    tail latency with two API processes. A blocking flock on a file beside the database wakes
    the next writer the moment the lock is released. PostgreSQL needs none: it queues itself."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    @classmethod
    def take(cls, engine: Engine) -> WriterLock:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        if not database or database == ":memory:" or database.startswith("file:"):
            return cls(None)
        try:
            fd = os.open(f"{database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StorageUnavailable(f"database unavailable: unable to open database file ({exc.strerror})") from None
        fcntl.flock(fd, fcntl.LOCK_EX)  # released when the descriptor is closed
        return cls(fd)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


class SqlUnitOfWork:
    def __init__(
        self, engine: Engine, clock: Clock, signer: Signer | None, checkpoint_every: int, sealer: CpniSealer
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._signer = signer
        self._checkpoint_every = checkpoint_every
        self._sealer = sealer
        self._conn: Connection | None = None
        self._lock = WriterLock(None)

    def __enter__(self) -> SqlUnitOfWork:
        self._lock = WriterLock.take(self._engine)
        try:
            conn = self._engine.connect()
            conn.begin()
        except OperationalError as exc:
            self._lock.release()
            raise StorageUnavailable(f"database unavailable: {exc.orig}") from None
        self._conn = conn
        self.customers = SqlCustomerRepository(conn)
        self.cpni = SqlCpniRepository(conn, self._clock.now, self._sealer)
        self.consent = SqlConsentRepository(conn)
        self.audit = SqlAuditRepository(conn, self._signer, self._checkpoint_every)
        self.outbox = SqlOutboxRepository(conn)
        self.api_keys = SqlApiKeyRepository(conn)
        self.batch = SqlBatchDecisions(conn)
        self.auth = SqlAuthRepository(conn)
        self.users = SqlUserRepository(conn)
        self.campaigns = SqlCampaignRepository(conn)
        self.purge = SqlPurge(conn)
        self.breaches = SqlBreachRepository(conn)
        self.calendar = SqlCalendarRepository(conn)
        self.privacy = SqlPrivacyRepository(conn)
        self.evidence = SqlEvidenceReader(conn)
        self.web = SqlWebRepository(conn)
        self.gate = SqlGateReads(conn, self.customers, self.consent)
        return self

    @property
    def connection(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open")
        return self._conn

    def commit(self) -> None:
        try:
            self.audit.flush_and_commit(self._clock.now(), self.connection.commit)
        except (OperationalError, InternalError) as exc:
            # The database is unreachable, read-only, full, or aborted this transaction.
            raise StorageUnavailable(f"the change was not stored: {refusal(exc.orig)}") from None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        try:
            if conn is not None and conn.in_transaction():
                conn.rollback()
        finally:
            if conn is not None:
                conn.close()
            self._lock.release()
        if isinstance(exc, (OperationalError, InternalError, *DRIVER_STORAGE_ERRORS)):
            # A write the database refused inside the use case (read-only, full, gone), through
            # SQLAlchemy or the driver (the ledger's bulk paths): the same answer as one refused
            # at commit, and everything of this unit of work rolled back.
            cause = exc.orig if isinstance(exc, OperationalError | InternalError) else exc
            raise StorageUnavailable(f"the change was not stored: {refusal(cause)}") from None
