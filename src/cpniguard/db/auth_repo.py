"""Credentials, authentication attempts, one-time codes, call sessions, alerts and business
exemptions, in SQL. Secrets are stored only as argon2id hashes, codes only as digests."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from cpniguard.auth.codes import CodeChannel, OneTimeCode
from cpniguard.auth.lockout import Attempt
from cpniguard.auth.model import Credential, CredentialKind, VerifiedBy
from cpniguard.auth.release import BusinessExemption
from cpniguard.db import tables as t
from cpniguard.ids import CustomerId
from cpniguard.ports import Alert, CallSession


def _code(r: Any) -> OneTimeCode:
    return OneTimeCode(
        r.id,
        CustomerId(r.customer_id),
        r.purpose,
        CodeChannel(r.channel),
        r.recipient,
        r.code_hash,
        r.created_at,
        r.expires_at,
        r.max_attempts,
        r.attempts,
        r.used_at,
    )


def _session(r: Any) -> CallSession:
    return CallSession(
        r.id, CustomerId(r.customer_id), r.agent, r.channel, r.opened_at, r.proof, r.via_representative, r.closed_at
    )


class SqlAuthRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def credential(self, customer: CustomerId, kind: CredentialKind) -> Credential | None:
        c = t.credentials.c
        r = self._conn.execute(select(t.credentials).where(c.customer_id == customer, c.kind == kind.value)).first()
        if r is None:
            return None
        kind_ = CredentialKind(r.kind)
        return Credential(
            r.id, CustomerId(r.customer_id), kind_, r.secret_hash, VerifiedBy(r.verified_by), r.set_at, r.question
        )

    def save_credential(self, credential: Credential) -> None:
        c = t.credentials.c
        self._conn.execute(
            delete(t.credentials).where(c.customer_id == credential.customer_id, c.kind == credential.kind.value)
        )
        row = {**asdict(credential), "kind": credential.kind.value, "verified_by": credential.verified_by.value}
        self._conn.execute(insert(t.credentials), [row])

    def add_attempt(self, customer: CustomerId, kind: str, at: datetime, succeeded: bool) -> None:
        row = {"id": uuid.uuid4(), "customer_id": customer, "kind": kind, "at": at, "succeeded": succeeded}
        self._conn.execute(insert(t.auth_attempts), [row])

    def hold_attempts(self, customer: CustomerId) -> None:
        """Serialises attempt recording for one customer until commit. SQLite writers hold the
        database's write lock already; PostgreSQL locks the customer's row."""
        if self._conn.dialect.name == "postgresql":
            self._conn.execute(select(t.customers.c.id).where(t.customers.c.id == customer).with_for_update())

    def attempts(self, customer: CustomerId, kind: str, since: datetime) -> list[Attempt]:
        c = t.auth_attempts.c
        rows = self._conn.execute(
            select(c.at, c.succeeded).where(c.customer_id == customer, c.kind == kind, c.at >= since).order_by(c.at)
        )
        return [Attempt(r.at, r.succeeded) for r in rows]

    def add_code(self, code: OneTimeCode) -> None:
        self._conn.execute(insert(t.one_time_codes), [{**asdict(code), "channel": code.channel.value}])

    def save_code(self, code: OneTimeCode) -> None:
        c = t.one_time_codes.c
        self._conn.execute(
            update(t.one_time_codes)
            .where(c.id == code.id)
            .values(attempts=code.attempts, used_at=code.used_at, expires_at=code.expires_at)
        )

    def codes(self, customer: CustomerId, since: datetime) -> list[OneTimeCode]:
        c = t.one_time_codes.c
        query = select(t.one_time_codes).where(c.customer_id == customer, c.created_at >= since)
        return [_code(r) for r in self._conn.execute(query.order_by(c.created_at))]

    def add_alert(self, alert: Alert) -> None:
        self._conn.execute(insert(t.alerts), [asdict(alert)])

    def alerts(self, customer: CustomerId | None, limit: int) -> list[Alert]:
        c = t.alerts.c
        query = select(t.alerts).order_by(c.raised_at.desc()).limit(limit)
        if customer is not None:
            query = query.where(c.customer_id == customer)
        return [
            Alert(r.id, r.customer_id, r.kind, r.raised_at, r.details, r.resolved_at) for r in self._conn.execute(query)
        ]

    def add_session(self, session: CallSession) -> None:
        row = {**asdict(session), "single_call_id": None}
        self._conn.execute(insert(t.call_sessions), [row])

    def session(self, session_id: uuid.UUID) -> CallSession | None:
        r = self._conn.execute(select(t.call_sessions).where(t.call_sessions.c.id == session_id)).first()
        return _session(r) if r else None

    def close_session(self, session_id: uuid.UUID, at: datetime) -> None:
        c = t.call_sessions.c
        self._conn.execute(
            update(t.call_sessions).where(c.id == session_id, c.closed_at.is_(None)).values(closed_at=at)
        )

    def set_session_proof(self, session_id: uuid.UUID, proof: str) -> None:
        c = t.call_sessions.c
        self._conn.execute(update(t.call_sessions).where(c.id == session_id).values(proof=proof))

    def exemption(self, customer: CustomerId) -> BusinessExemption | None:
        c = t.business_exemptions.c
        r = self._conn.execute(select(t.business_exemptions).where(c.customer_id == customer)).first()
        return BusinessExemption(r.representative, r.contract_id, r.cpni_clause) if r else None

    def save_exemption(self, customer: CustomerId, exemption: BusinessExemption, at: datetime) -> None:
        c = t.business_exemptions.c
        self._conn.execute(delete(t.business_exemptions).where(c.customer_id == customer))
        row = {
            "customer_id": customer,
            "representative": exemption.dedicated_representative,
            "contract_id": exemption.contract_id,
            "cpni_clause": exemption.cpni_clause,
            "recorded_at": at,
        }
        self._conn.execute(insert(t.business_exemptions), [row])
