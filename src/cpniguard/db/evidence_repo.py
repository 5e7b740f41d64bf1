"""Set-based reads of a year's evidence for the annual CPNI certification, and its records.

Every count is one GROUP BY (or one row of conditional sums for the twelve months), never a
query per row. The ledger and the consent events can hold millions of rows and have no index on
their time columns, but both are appended in time order under a growing `seq` key: the year is
found by a binary search on that key (a few dozen primary-key lookups), and the counts scan only
its stretch, with the exact time test applied inside it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, insert, or_, select

from cpniguard.audit.model import AuditEntry, stamp
from cpniguard.auth.service import PRETEXTING
from cpniguard.consent.failures import TASK
from cpniguard.db import office_tables as o
from cpniguard.db import tables as t
from cpniguard.db.audit_repo import entry_from_row
from cpniguard.privacy_office.certification_evidence import (
    BreachRecord,
    BrokerProceeding,
    CertificationRecord,
    Signatory,
    TrainingCoverage,
    YearEvidence,
)
from cpniguard.privacy_office.dashboard_counts import DashboardCounts, OpenTask

Months = Sequence[tuple[datetime, datetime]]
# How far out of `seq` order a time may be: entries are stamped when their use case starts and
# numbered when it commits, seconds apart; a week is room for any clock correction as well.
ORDER_SLACK = timedelta(days=7)
OPT_OUT = "opt-out"
OPT_IN = "opt-in"


class SqlEvidenceReader:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def year(self, year: int, months: Months) -> YearEvidence:
        start, end = months[0][0], months[-1][1]
        complaints, complaints_by_month = self._complaints(months)
        notices, delivered = self._notices(start, end)
        return YearEvidence(
            year=year,
            ledger=self._ledger(start, end),
            notices=notices,
            notices_delivered=delivered,
            complaints=complaints,
            complaints_by_month=complaints_by_month,
            opt_outs_by_month=self._opt_outs(months),
            customers_by_month=self._customers(months),
            training=self._training(date(year, 1, 1), date(year, 12, 31)),
            campaign_events=self._grouped(t.campaign_events.c.status, t.campaign_events.c.at, start, end),
            disclosures=self._disclosures(start, end),
            breaches=self._breaches(start, end),
            broker_actions=self._broker_actions(date(year, 1, 1), date(year + 1, 1, 1)),
            alerts=self._grouped(t.alerts.c.kind, t.alerts.c.raised_at, start, end),
        )

    def _ledger(self, start: datetime, end: datetime) -> dict[str, int]:
        a = t.audit_entries.c
        first = self._first_seq(a.seq, a.at, stamp(start - ORDER_SLACK))
        after = self._first_seq(a.seq, a.at, stamp(end + ORDER_SLACK))
        query = (
            select(a.action, func.count())
            .where(a.seq >= first, a.seq < after, a.at >= stamp(start), a.at < stamp(end))
            .group_by(a.action)
        )
        return {action: int(n) for action, n in self._conn.execute(query)}

    def _first_seq(self, seq: Any, at: Any, bound: object) -> int:
        """The smallest seq whose time is at or after `bound` (one past the last when none is),
        by binary search on the primary key: time grows with seq up to ORDER_SLACK."""
        table = seq.table
        low, high = self._conn.execute(select(func.min(seq), func.max(seq)).select_from(table)).one()
        if low is None:
            return 0
        low, high = int(low), int(high) + 1
        while low < high:
            middle = (low + high) // 2
            found = self._conn.execute(select(seq, at).where(seq >= middle).order_by(seq).limit(1)).first()
            if found is None or found[1] >= bound:
                high = middle
            else:
                low = int(found[0]) + 1
        return low

    def _opt_outs(self, months: Months) -> tuple[int, ...]:
        c = t.consent_events.c
        # Events are recorded when or after they happen, so none in the year was recorded
        # before its start (less the slack); the scan runs from there to the newest event.
        first = self._first_seq(c.seq, c.recorded_at, months[0][0] - ORDER_SLACK)
        return self._by_month(c.at, months, and_(c.seq >= first, c.kind == OPT_OUT))

    def _customers(self, months: Months) -> tuple[int, ...]:
        c = t.customers.c
        sums = [func.sum(case((c.created_at < end, 1), else_=0)) for _, end in months]
        row = self._conn.execute(select(*sums)).one()
        return tuple(int(n or 0) for n in row)

    def _by_month(self, column: Any, months: Months, where: ColumnElement[bool]) -> tuple[int, ...]:
        sums = [func.sum(case((and_(column >= a, column < b), 1), else_=0)) for a, b in months]
        row = self._conn.execute(select(*sums).where(where, column >= months[0][0], column < months[-1][1])).one()
        return tuple(int(n or 0) for n in row)

    def _complaints(self, months: Months) -> tuple[dict[str, int], tuple[int, ...]]:
        c = o.complaints.c
        sums = [func.sum(case((and_(c.received_at >= a, c.received_at < b), 1), else_=0)) for a, b in months]
        query = (
            select(c.category, *sums)
            .where(c.received_at >= months[0][0], c.received_at < months[-1][1])
            .group_by(c.category)
        )
        by_category: dict[str, int] = {}
        by_month = [0] * 12
        for category, *counts in self._conn.execute(query):
            by_category[category] = sum(int(n or 0) for n in counts)
            by_month = [m + int(n or 0) for m, n in zip(by_month, counts, strict=True)]
        return by_category, tuple(by_month)

    def _notices(self, start: datetime, end: datetime) -> tuple[dict[str, int], dict[str, int]]:
        c = t.outbox.c
        query = (
            select(c.event, c.status, func.count())
            .where(c.created_at >= start, c.created_at < end)
            .group_by(c.event, c.status)
        )
        queued: dict[str, int] = {}
        delivered: dict[str, int] = {}
        for event, status, n in self._conn.execute(query):
            queued[event] = queued.get(event, 0) + int(n)
            if status == "delivered":
                delivered[event] = delivered.get(event, 0) + int(n)
        return queued, delivered

    def _grouped(self, key: Any, at: Any, start: datetime, end: datetime) -> dict[str, int]:
        query = select(key, func.count()).where(at >= start, at < end).group_by(key)
        return {str(k): int(n) for k, n in self._conn.execute(query)}

    def _training(self, first: date, last: date) -> TrainingCoverage:
        c = o.training_records.c
        counted = and_(c.completed_on <= last, c.expires_on >= first)
        current = case((c.expires_on >= last, c.staff_name), else_=None)
        query = select(func.count(), func.count(c.staff_name.distinct()), func.count(current.distinct()))
        records, people, at_end = self._conn.execute(query.where(counted)).one()
        return TrainingCoverage(int(records), int(people), int(at_end))

    def _disclosures(self, start: datetime, end: datetime) -> int:
        c = t.disclosures.c
        return int(self._conn.execute(select(func.count()).where(c.at >= start, c.at < end)).scalar_one())

    def _breaches(self, start: datetime, end: datetime) -> tuple[BreachRecord, ...]:
        c = o.breach_incidents.c
        in_year = or_(
            and_(c.discovered_at >= start, c.discovered_at < end), and_(c.determined_at >= start, c.determined_at < end)
        )
        rows = self._conn.execute(select(o.breach_incidents).where(in_year).order_by(c.discovered_at, c.id))
        return tuple(_breach(r) for r in rows)

    def _broker_actions(self, first: date, after: date) -> tuple[BrokerProceeding, ...]:
        c = o.data_broker_actions.c
        query = select(c.taken_on, c.forum, c.broker, c.description).where(c.taken_on >= first, c.taken_on < after)
        rows = self._conn.execute(query.order_by(c.taken_on, c.id))
        return tuple(BrokerProceeding(r.taken_on, r.forum, r.broker, r.description) for r in rows)

    def dashboard(self, months: Months) -> DashboardCounts:
        """The privacy office's monthly figures, each one set-based query over the window."""
        c, a = t.consent_events.c, t.auth_attempts.c
        first = self._first_seq(c.seq, c.recorded_at, months[0][0] - ORDER_SLACK)
        lockouts = self._by_month(t.alerts.c.raised_at, months, t.alerts.c.kind == PRETEXTING)
        return DashboardCounts(
            opt_outs=self._by_month(c.at, months, and_(c.seq >= first, c.kind == OPT_OUT)),
            opt_ins=self._by_month(c.at, months, and_(c.seq >= first, c.kind == OPT_IN)),
            customers=self._customers(months),
            auth_failures=self._by_month(a.at, months, a.succeeded.is_(False)),
            lockouts=lockouts,
            notices=self._notices_by_channel(months[0][0], months[-1][1]),
            letter_tasks=self._letter_tasks(),
        )

    def _notices_by_channel(self, start: datetime, end: datetime) -> dict[tuple[str, str], int]:
        c = t.outbox.c
        query = select(c.channel, c.status, func.count()).where(c.created_at >= start, c.created_at < end)
        return {(ch, st): int(n) for ch, st, n in self._conn.execute(query.group_by(c.channel, c.status))}

    def _letter_tasks(self) -> tuple[OpenTask, ...]:
        c = t.alerts.c
        query = select(c.raised_at, c.details).where(c.kind == TASK, c.resolved_at.is_(None)).order_by(c.raised_at)
        return tuple(_task(r.raised_at, r.details) for r in self._conn.execute(query))

    def ledger(
        self,
        customer: uuid.UUID | None,
        action: str | None,
        since: datetime,
        until: datetime,
        limit: int,
        before: int | None = None,
    ) -> list[AuditEntry]:
        """The newest entries in [since, until) first; the stretch is found by `seq`, as for a year;
        `before` (a seq) starts the page below it (keyset paging)."""
        e = t.audit_entries.c
        first = self._first_seq(e.seq, e.at, stamp(since - ORDER_SLACK))
        after = self._first_seq(e.seq, e.at, stamp(until + ORDER_SLACK))
        if before is not None:
            after = min(after, before)
        query = select(t.audit_entries).where(e.seq >= first, e.seq < after, e.at >= stamp(since), e.at < stamp(until))
        if customer is not None:
            query = query.where(e.customer_id == str(customer))
        if action:
            query = query.where(e.action.like(f"{action}%"))
        return [entry_from_row(r) for r in self._conn.execute(query.order_by(e.seq.desc()).limit(limit))]

    def signatory(self, name: str) -> Signatory | None:
        c = t.users.c
        r = self._conn.execute(select(c.name, c.title, c.corporate_officer).where(c.name == name)).first()
        return Signatory(r.name, r.title, bool(r.corporate_officer)) if r else None

    def closure_days(self, first: date, last: date) -> frozenset[date]:
        c = o.closure_days.c
        return frozenset(self._conn.execute(select(c.day).where(c.day >= first, c.day <= last)).scalars())

    def add_certification(self, record: CertificationRecord) -> None:
        self._conn.execute(insert(o.certifications), [_row(record)])

    def certification(self, certification_id: uuid.UUID) -> CertificationRecord | None:
        c = o.certifications.c
        r = self._conn.execute(select(o.certifications).where(c.id == certification_id)).first()
        return _record(r) if r else None

    def certifications(self, year: int | None) -> list[CertificationRecord]:
        c = o.certifications.c
        query = select(o.certifications).order_by(c.built_at.desc(), c.id)
        if year is not None:
            query = query.where(c.year == year)
        return [_record(r) for r in self._conn.execute(query)]


def _task(raised_at: datetime, details: str) -> OpenTask:
    found = json.loads(details)
    due = found.get("due_on")
    return OpenTask(raised_at, date.fromisoformat(due) if due else None, str(found.get("mechanisms", "")))


def _breach(r: Any) -> BreachRecord:
    return BreachRecord(
        r.title,
        r.discovered_at,
        r.determined_at,
        r.law_enforcement_notified_at,
        r.law_enforcement_pending_reason,
        r.customer_notices_at,
        r.affected_count,
        r.intent,
    )


def _row(record: CertificationRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "year": record.year,
        "built_at": record.built_at,
        "built_by": record.built_by,
        "signatory": record.signatory,
        "draft": record.draft,
        "content": record.content,
        "pdf_sha256": record.pdf_sha256,
    }


def _record(r: Any) -> CertificationRecord:
    return CertificationRecord(r.id, r.year, r.built_at, r.built_by, r.signatory, r.draft, r.content, r.pdf_sha256)
