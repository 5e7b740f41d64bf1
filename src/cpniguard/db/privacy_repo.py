"""Policy versions, complaints, data-broker actions and training records."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Select, insert, select, update

from cpniguard.customers.model import ContactKind, Language
from cpniguard.db import tables as t
from cpniguard.db.bulk import insert_columns
from cpniguard.db.office_tables import complaints, data_broker_actions, policy_versions, training_records
from cpniguard.notifications.model import Channel, NoticeEvent
from cpniguard.privacy_office.model import (
    BrokerAction,
    Complaint,
    ComplaintCategory,
    ComplaintChannel,
    Forum,
    TrainingRecord,
)
from cpniguard.privacy_office.policies import PolicyVersion

NOTICE_BATCH = 10_000  # customers per keyset page when notices go to every customer


def _policy(r: Any) -> PolicyVersion:
    return PolicyVersion(
        r.id,
        r.version,
        Language(r.language),
        r.effective_on,
        r.text,
        r.summary,
        r.material,
        r.published_by,
        r.published_at,
    )


def _complaint(r: Any) -> Complaint:
    return Complaint(
        r.id,
        r.received_at,
        ComplaintCategory(r.category),
        ComplaintChannel(r.channel),
        r.customer_id,
        r.summary,
        r.recorded_by,
        r.recorded_at,
        r.status,
        r.resolution,
        r.closed_at,
    )


def _broker_action(r: Any) -> BrokerAction:
    return BrokerAction(r.id, r.taken_on, Forum(r.forum), r.broker, r.description, r.recorded_by, r.recorded_at)


def _training(r: Any) -> TrainingRecord:
    return TrainingRecord(r.id, r.staff_name, r.course, r.completed_on, r.expires_on, r.recorded_by, r.recorded_at)


class SqlPrivacyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add_policy(self, version: PolicyVersion) -> None:
        self._conn.execute(insert(policy_versions), [{**asdict(version), "language": version.language.value}])

    def policies(self, language: Language | None = None) -> list[PolicyVersion]:
        c = policy_versions.c
        query = select(policy_versions).order_by(c.effective_on, c.published_at, c.id)
        if language is not None:
            query = query.where(c.language == language.value)
        return [_policy(r) for r in self._conn.execute(query)]

    def queue_policy_notices(
        self, language: Language, subject: str, body: str, at: datetime, of_record_before: datetime
    ) -> tuple[int, int]:
        queued = without = 0
        after: uuid.UUID | None = None
        while True:
            page = self._conn.execute(_recipients(language, at, of_record_before, after)).all()
            if not page:
                return queued, without
            after = page[-1].id
            reachable = [(r.id, r.email) for r in page if r.email is not None]
            without += len(page) - len(reachable)
            queued += self._add_notices(reachable, language, subject, body, at)

    def _add_notices(
        self, reachable: list[tuple[uuid.UUID, str]], language: Language, subject: str, body: str, at: datetime
    ) -> int:
        n = len(reachable)
        if n == 0:
            return 0
        email = Channel.EMAIL.value
        return insert_columns(
            self._conn,
            t.outbox,
            id=[uuid.uuid4() for _ in range(n)],
            created_at=[at] * n,
            customer_id=[customer for customer, _ in reachable],
            event=[NoticeEvent.PRIVACY_POLICY_CHANGED.value] * n,
            language=[language.value] * n,
            route=[json.dumps([[email, address]]) for _, address in reachable],  # as outbox_repo writes it
            step=[0] * n,
            channel=[email] * n,
            recipient=[address for _, address in reachable],
            subject=[subject] * n,
            body=[body] * n,
            confidential=[False] * n,
            status=["pending"] * n,
            attempts=[0] * n,
            next_attempt_at=[at] * n,
        )

    def add_complaint(self, complaint: Complaint) -> None:
        row = asdict(complaint)
        row.update(category=complaint.category.value, channel=complaint.channel.value)
        self._conn.execute(insert(complaints), [row])

    def complaint(self, complaint_id: uuid.UUID) -> Complaint | None:
        r = self._conn.execute(select(complaints).where(complaints.c.id == complaint_id)).first()
        return _complaint(r) if r else None

    def close_complaint(self, complaint: Complaint) -> None:
        c = complaints.c
        self._conn.execute(
            update(complaints)
            .where(c.id == complaint.id)
            .values(status=complaint.status, resolution=complaint.resolution, closed_at=complaint.closed_at)
        )

    def complaints(
        self, since: datetime | None = None, until: datetime | None = None, category: ComplaintCategory | None = None
    ) -> list[Complaint]:
        c = complaints.c
        query = select(complaints).order_by(c.received_at, c.id)
        if since is not None:
            query = query.where(c.received_at >= since)
        if until is not None:
            query = query.where(c.received_at < until)
        if category is not None:
            query = query.where(c.category == category.value)
        return [_complaint(r) for r in self._conn.execute(query)]

    def add_broker_action(self, action: BrokerAction) -> None:
        self._conn.execute(insert(data_broker_actions), [{**asdict(action), "forum": action.forum.value}])

    def broker_actions(self, since: date | None = None, until: date | None = None) -> list[BrokerAction]:
        c = data_broker_actions.c
        query = select(data_broker_actions).order_by(c.taken_on, c.recorded_at, c.id)
        if since is not None:
            query = query.where(c.taken_on >= since)
        if until is not None:
            query = query.where(c.taken_on < until)
        return [_broker_action(r) for r in self._conn.execute(query)]

    def add_training(self, record: TrainingRecord) -> None:
        self._conn.execute(insert(training_records), [asdict(record)])

    def training(self, staff_name: str | None = None) -> list[TrainingRecord]:
        c = training_records.c
        query = select(training_records).order_by(c.staff_name, c.completed_on, c.id)
        if staff_name is not None:
            query = query.where(c.staff_name == staff_name)
        return [_training(r) for r in self._conn.execute(query)]


def _recipients(language: Language, at: datetime, of_record_before: datetime, after: uuid.UUID | None) -> Select[Any]:
    """A page of customers reading `language`, each with the first email address of record
    (DEF-5: on the account at `at`, added before the tenure threshold), or None."""
    cu, co = t.customers.c, t.contacts.c
    first_email = (
        select(co.value)
        .where(
            co.customer_id == cu.id,
            co.kind == ContactKind.EMAIL.value,
            co.added_at < of_record_before,
            (co.removed_at.is_(None)) | (co.removed_at > at),
        )
        .order_by(co.added_at, co.id)
        .limit(1)
        .scalar_subquery()
    )
    query = select(cu.id, first_email.label("email")).where(cu.language == language.value)
    if after is not None:
        query = query.where(cu.id > after)
    return query.order_by(cu.id).limit(NOTICE_BATCH)
