"""The unit of work: one connection, one transaction, every repository on it (rule 2).

Audit entries are linked onto the chain inside `commit`, in the same transaction as the
change they record; leaving the block without `commit` rolls everything back.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import InternalError, OperationalError

from cpniguard.clock import Clock
from cpniguard.db.audit_repo import SqlAuditRepository
from cpniguard.db.batch import SqlBatchDecisions
from cpniguard.db.consent_repo import SqlConsentRepository
from cpniguard.db.customer_repo import SqlCpniRepository, SqlCustomerRepository
from cpniguard.db.outbox_repo import SqlApiKeyRepository, SqlOutboxRepository
from cpniguard.errors import StorageUnavailable
from cpniguard.ports import Signer


class SqlUnitOfWork:
    def __init__(self, engine: Engine, clock: Clock, signer: Signer | None, checkpoint_every: int) -> None:
        self._engine = engine
        self._clock = clock
        self._signer = signer
        self._checkpoint_every = checkpoint_every
        self._conn: Connection | None = None

    def __enter__(self) -> SqlUnitOfWork:
        try:
            conn = self._engine.connect()
            conn.begin()
        except OperationalError as exc:
            raise StorageUnavailable(f"database unavailable: {exc.orig}") from None
        self._conn = conn
        self.customers = SqlCustomerRepository(conn)
        self.cpni = SqlCpniRepository(conn, self._clock.now)
        self.consent = SqlConsentRepository(conn)
        self.audit = SqlAuditRepository(conn, self._signer, self._checkpoint_every)
        self.outbox = SqlOutboxRepository(conn)
        self.api_keys = SqlApiKeyRepository(conn)
        self.batch = SqlBatchDecisions(conn)
        return self

    @property
    def connection(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open")
        return self._conn

    def commit(self) -> None:
        try:
            self.audit.flush(self._clock.now())
            self.connection.commit()
        except (OperationalError, InternalError) as exc:
            # The database is unreachable, read-only, full, or aborted this transaction.
            raise StorageUnavailable(f"the change was not stored: {str(exc.orig).splitlines()[0]}") from None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                conn.rollback()
        finally:
            conn.close()
