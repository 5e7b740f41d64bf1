"""The outbox in SQL: notices committed with the change they announce, claimed by workers.

A claim leases rows to one worker (`status = sending`, `lease_until`). On PostgreSQL the claim
skips rows another worker holds (`FOR UPDATE SKIP LOCKED`), so several workers share the queue
and each message goes to one of them; SQLite has one writer, so its claims are serial anyway.
A row still `sending` after its lease belonged to a worker that died mid-batch: it is claimed
again and marked `resumed`, and its resend carries the same idempotency key.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update

from cpniguard.db import tables as t
from cpniguard.notifications.model import Channel, Notice, NoticeEvent, Stop
from cpniguard.ports import ClaimedMessage, DeliveryResult, NoticeRecord

LISTED = [c for c in t.outbox.c if c.name != "attachment"]
UNDELIVERED = ("pending", "sending")
WAITING_BATCH = 10_000


def _route_text(route: Sequence[Stop]) -> str:
    return json.dumps([[stop.channel.value, stop.recipient] for stop in route])


def _notice(r: Any, attachment: bytes | None = None) -> Notice:
    route = tuple(Stop(Channel(channel), recipient) for channel, recipient in json.loads(r.route))
    return Notice(
        r.id,
        r.created_at,
        r.customer_id,
        NoticeEvent(r.event),
        r.language,
        route,
        r.subject,
        r.body,
        r.confidential,
        r.attachment_name,
        attachment,
        r.letter_body,
        r.reply_to,
    )


class SqlOutboxRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, notice: Notice) -> None:
        first = notice.route[0]
        row = {
            "id": notice.id,
            "created_at": notice.created_at,
            "customer_id": notice.customer_id,
            "event": notice.event.value,
            "language": notice.language,
            "route": _route_text(notice.route),
            "step": 0,
            "channel": first.channel.value,
            "recipient": first.recipient,
            "subject": notice.subject,
            "body": notice.body,
            "confidential": notice.confidential,
            "attachment_name": notice.attachment_name,
            "attachment": notice.attachment,
            "letter_body": notice.letter_body,
            "reply_to": notice.reply_to,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": notice.created_at,
        }
        self._conn.execute(insert(t.outbox), [row])

    def claim(self, worker: str, now: datetime, lease: timedelta, limit: int) -> list[ClaimedMessage]:
        c = t.outbox.c
        due = or_(
            and_(c.status == "pending", c.next_attempt_at <= now),
            and_(c.status == "sending", c.lease_until <= now),
        )
        query = select(t.outbox).where(due).order_by(c.next_attempt_at).limit(limit)
        if self._conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = self._conn.execute(query).all()
        if not rows:
            return []
        self._conn.execute(
            update(t.outbox)
            .where(c.id.in_([r.id for r in rows]))
            .values(status="sending", attempts=c.attempts + 1, lease_until=now + lease, claimed_by=worker)
        )
        return [ClaimedMessage(_notice(r, r.attachment), r.step, r.attempts + 1, r.status == "sending") for r in rows]

    def record(self, worker: str, results: Sequence[DeliveryResult]) -> None:
        if not results:
            return
        self._conn.execute(insert(t.deliveries), [_delivery_row(worker, r) for r in results])
        c = t.outbox.c
        # Only while the row is still this worker's: if its lease ran out and another worker took
        # the message over, that worker's outcome stands (the attempt above stays on record).
        self._conn.execute(
            update(t.outbox)
            .where(c.id == bindparam("b_id"), c.status == "sending", c.claimed_by == worker)
            .values(
                status=bindparam("b_status"),
                step=bindparam("b_step"),
                channel=bindparam("b_channel"),
                recipient=bindparam("b_recipient"),
                next_attempt_at=bindparam("b_next"),
                delivered_at=bindparam("b_delivered"),
                last_error=bindparam("b_error"),
                attempts=bindparam("b_attempts"),
                lease_until=None,
            ),
            [_outbox_update(r) for r in results],
        )

    def notices(self, customer: uuid.UUID | None, limit: int) -> list[NoticeRecord]:
        c = t.outbox.c
        query = select(*LISTED).order_by(c.created_at.desc(), c.id).limit(limit)
        if customer is not None:
            query = query.where(c.customer_id == customer)
        return [
            NoticeRecord(_notice(r), r.channel, r.recipient, r.status, r.attempts, r.delivered_at, r.last_error)
            for r in self._conn.execute(query)
        ]

    def notice(self, notice_id: uuid.UUID) -> NoticeRecord | None:
        c = t.outbox.c
        r = self._conn.execute(select(*LISTED).where(c.id == notice_id)).first()
        if r is None:
            return None
        return NoticeRecord(_notice(r), r.channel, r.recipient, r.status, r.attempts, r.delivered_at, r.last_error)

    def waiting(self, event: NoticeEvent, customers: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `customers` with a notice of `event` queued and not yet delivered nor failed."""
        c = t.outbox.c
        found: set[uuid.UUID] = set()
        for i in range(0, len(customers), WAITING_BATCH):  # SQLite caps the parameters of a statement
            chunk = customers[i : i + WAITING_BATCH]
            one_of = t.one_of(self._conn, c.customer_id, chunk)
            query = select(c.customer_id).where(c.event == event.value, c.status.in_(UNDELIVERED), one_of)
            found.update(self._conn.execute(query.distinct()).scalars())
        return found

    def counts(self) -> dict[str, int]:
        c = t.outbox.c
        rows = self._conn.execute(select(c.status, func.count()).group_by(c.status))
        return {status: int(n) for status, n in rows}


def _delivery_row(worker: str, r: DeliveryResult) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "message_id": r.message.notice.id,
        "attempt": r.message.attempts,
        "channel": r.message.stop.channel.value,
        "recipient": r.message.stop.recipient,
        "idempotency_key": r.message.idempotency_key,
        "started_at": r.started_at,
        "outcome": r.outcome,
        "provider_reference": r.reference,
        "error": r.error,
        "worker": worker,
    }


def _outbox_update(r: DeliveryResult) -> dict[str, Any]:
    stop = r.message.notice.route[r.next_step]
    moved = r.next_step != r.message.step
    return {
        "b_id": r.message.notice.id,
        "b_status": r.status,
        "b_step": r.next_step,
        "b_channel": stop.channel.value,
        "b_recipient": stop.recipient,
        "b_next": r.next_attempt_at,
        "b_delivered": r.started_at if r.status == "delivered" else None,
        "b_error": r.error,
        "b_attempts": 0 if moved else r.message.attempts,  # attempts are counted per stop
    }
