"""The annual certification built from a seeded year on SQLite and PostgreSQL: the CERT-3 counts
by Eastern year, the ledger's counts (found by seq), training (SAFE-2), breach records (BREACH-6),
the record of the build with its ledger entry, and nothing recorded when the PDF is not kept."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Connection, func, insert, select

from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.bootstrap import App
from cpniguard.clock import FixedClock
from cpniguard.db import office_tables as o
from cpniguard.db import tables as t
from cpniguard.delivery.certification_pdf import load_statement, render_certification
from cpniguard.errors import InvalidInput
from cpniguard.privacy_office.certification import Carrier, month_bounds
from cpniguard.privacy_office.certification_service import BuildRequest, build_certification, list_certifications

BUILT_AT = datetime(2027, 2, 1, 15, 0, tzinfo=UTC)
CARRIER = Carrier("Acme Telephone", "812345", "1 Main St, Springfield", "HR-7.3")
# Instants at the edges of 2026 in Eastern time: 04:59Z on 1 January is still 2025 there.
LAST_OF_2025 = datetime(2026, 1, 1, 4, 59, tzinfo=UTC)
FIRST_OF_2026 = datetime(2026, 1, 1, 5, 0, tzinfo=UTC)
LAST_OF_2026 = datetime(2027, 1, 1, 4, 30, tzinfo=UTC)
FIRST_OF_2027 = datetime(2027, 1, 1, 5, 0, tzinfo=UTC)


def _complaint(received_at: datetime, category: str) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "received_at": received_at,
        "category": category,
        "channel": "phone",
        "customer_id": None,
        "summary": "caller says a stranger knew her call history",
        "status": "open",
        "resolution": "",
        "closed_at": None,
        "recorded_by": "staff:tester",
        "recorded_at": received_at,
    }


def _breach(discovered_at: datetime, notified: datetime | None) -> dict[str, object]:
    blank = dict.fromkeys(("determination_reason", "good_faith_reason", "other_data_description", "harm_evidence"), "")
    return {
        **blank,
        "id": uuid.uuid4(),
        "title": "Pretexter obtained call detail",
        "rules": "strictest",
        "discovered_at": discovered_at,
        "determined_at": discovered_at + timedelta(days=1),
        "determined_by": "privacy officer",
        "intent": "intentional",
        "cpni_description": "call detail of three customers",
        "data_types": "call-detail",
        "circumstances": "a caller posed as the account holder",
        "method_of_compromise": "pretexting",
        "affected_count": 3,
        "affected_count_basis": "call logs",
        "harm_reasoning": "",
        "encrypted": False,
        "key_compromised": "unknown",
        "financial_loss": "none known",
        "urgent_need": False,
        "law_enforcement_notified_at": notified,
        "law_enforcement_pending_reason": "",
        "records_kept_until": date(2028, 12, 31),
        "created_by": "tester",
        "created_at": discovered_at,
    }


def _training(name: str, completed: date, expires: date) -> dict[str, object]:
    at = datetime(2026, 1, 2, tzinfo=UTC)
    return {
        "id": uuid.uuid4(),
        "staff_name": name,
        "course": "CPNI basics",
        "completed_on": completed,
        "expires_on": expires,
        "recorded_by": "tester",
        "recorded_at": at,
    }


def _outbox(created_at: datetime, event: str, status: str) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "created_at": created_at,
        "customer_id": None,
        "event": event,
        "language": "en",
        "route": "[]",
        "step": 0,
        "channel": "email",
        "recipient": "someone@example.com",
        "subject": "Your account changed",
        "body": "...",
        "confidential": False,
        "status": status,
        "attempts": 1,
        "next_attempt_at": created_at,
    }


def _ledger(app: App, actor: Actor, entries: list[tuple[datetime, str]]) -> None:
    """Appends in time order, as the clock would have stamped them."""
    with app.uow() as uow:
        for at, action in sorted(entries):
            uow.audit.add(AuditEntry.of(action, actor, at))
        uow.commit()


def _opt_outs(conn: Connection) -> None:
    """Four accounts (two open from January, two from June) and their consent events."""
    opened = [datetime(2026, 1, 15, tzinfo=UTC)] * 2 + [datetime(2026, 6, 15, tzinfo=UTC)] * 2
    ids = [uuid.uuid4() for _ in opened]
    customer = {"name": "C", "kind": "residential", "language": "en", "listing_status": "non-published"}
    conn.execute(
        insert(t.customers), [{**customer, "id": i, "created_at": at} for i, at in zip(ids, opened, strict=True)]
    )
    events = [
        (ids[0], "opt-out", LAST_OF_2025),  # 2025 in Eastern time
        (ids[0], "opt-out", datetime(2026, 2, 10, tzinfo=UTC)),
        (ids[1], "opt-in", datetime(2026, 3, 10, tzinfo=UTC)),  # not an opt-out
        (ids[2], "opt-out", datetime(2026, 7, 10, tzinfo=UTC)),
        (ids[3], "opt-out", datetime(2026, 7, 11, tzinfo=UTC)),
    ]
    conn.execute(
        insert(t.consent_events),
        [
            {"id": uuid.uuid4(), "customer_id": c, "kind": kind, "channel": "web", "at": at, "recorded_at": at}
            | {"recorded_by": "staff:tester", "evidence": ""}
            for c, kind, at in events
        ],
    )


def seed_year(app: App, actor: Actor) -> None:
    """A 2026 with records on both sides of its Eastern-time edges."""
    complaints = [
        _complaint(LAST_OF_2025, "online-access"),
        _complaint(FIRST_OF_2026, "employee-access"),
        _complaint(datetime(2026, 3, 10, 12, tzinfo=UTC), "online-access"),
        _complaint(datetime(2026, 3, 11, 12, tzinfo=UTC), "online-access"),
        _complaint(datetime(2026, 7, 4, 12, tzinfo=UTC), "unauthorized-disclosure"),
        _complaint(LAST_OF_2026, "other"),
        _complaint(FIRST_OF_2027, "employee-access"),
    ]
    officer = {"id": uuid.uuid4(), "name": "Olivia", "roles": "admin", "created_at": FIRST_OF_2026}
    with app.engine.begin() as conn:
        conn.execute(insert(o.complaints), complaints)
        _opt_outs(conn)
        conn.execute(insert(t.users), [{**officer, "corporate_officer": True, "title": "Chief Executive Officer"}])
        conn.execute(
            insert(t.users),
            [{**officer, "id": uuid.uuid4(), "name": "Carl", "corporate_officer": False, "title": "Analyst"}],
        )
        conn.execute(
            insert(o.breach_incidents),
            [
                _breach(datetime(2026, 5, 4, 14, tzinfo=UTC), datetime(2026, 5, 8, 14, tzinfo=UTC)),
                _breach(datetime(2025, 5, 4, 14, tzinfo=UTC), None),  # another year's
            ],
        )
        conn.execute(
            insert(o.training_records),
            [
                _training("Ann", date(2025, 6, 1), date(2026, 6, 1)),  # counted: current part of 2026
                _training("Bob", date(2026, 2, 1), date(2027, 2, 1)),  # current on 31 December
                _training("Bob", date(2024, 1, 1), date(2025, 1, 1)),  # expired before 2026
            ],
        )
        conn.execute(
            insert(o.data_broker_actions),
            [
                {
                    "id": uuid.uuid4(),
                    "taken_on": date(2026, 9, 1),
                    "forum": "court",
                    "broker": "DataHarvest LLC",
                    "description": "Suit to stop the sale of call records",
                    "recorded_by": "tester",
                    "recorded_at": FIRST_OF_2026,
                }
            ],
        )
        conn.execute(
            insert(t.outbox),
            [
                _outbox(datetime(2026, 4, 1, tzinfo=UTC), "email-changed", "delivered"),
                _outbox(datetime(2026, 4, 2, tzinfo=UTC), "pin-changed", "pending"),
                _outbox(LAST_OF_2025, "pin-changed", "delivered"),
            ],
        )
        conn.execute(
            insert(t.alerts),
            [
                {"id": uuid.uuid4(), "kind": "pretexting-suspected", "raised_at": at, "details": ""}
                for at in (datetime(2026, 2, 2, tzinfo=UTC), datetime(2026, 8, 2, tzinfo=UTC), LAST_OF_2025)
            ],
        )
        conn.execute(
            insert(o.closure_days),
            [{"day": date(2026, 2, 27), "reason": "storm", "added_by": "x", "added_at": FIRST_OF_2026}],
        )
    _ledger(
        app,
        actor,
        [
            (LAST_OF_2025, "decisions:cpni-use:allowed"),
            *[(FIRST_OF_2026 + timedelta(days=9 * n), "decisions:cpni-use:allowed") for n in range(30)],
            *[(datetime(2026, 6, 1, tzinfo=UTC) + timedelta(hours=n), "decisions:cpni-use:denied") for n in range(4)],
            (datetime(2026, 6, 2, tzinfo=UTC), "auth:pin:locked"),
            (datetime(2026, 6, 3, tzinfo=UTC), "auth:pin:failed"),
            (LAST_OF_2026, "auth:password:verified"),
            (FIRST_OF_2027, "auth:password:verified"),
        ],
    )


def build(app: App, actor: Actor, signatory: str | None = "Olivia", **kw: object) -> dict[str, object]:
    assert isinstance(app.clock, FixedClock)
    app.clock.move_to(BUILT_AT)
    statement = load_statement("")
    request = BuildRequest(2026, signatory)
    built = build_certification(app.uow(), app.clock, actor, request, CARRIER, statement, render_certification, **kw)  # type: ignore[arg-type]
    return built.document


def test_cert_3_complaints_are_counted_per_category_for_1_january_to_31_december_eastern(
    app: App, actor: Actor
) -> None:
    seed_year(app, actor)
    doc = build(app, actor)
    assert doc["complaints"] == {"employee-access": 1, "unauthorized-disclosure": 1, "online-access": 2, "other": 1}
    per_month = doc["complaints_per_month"]
    assert isinstance(per_month, dict)
    assert (per_month["Jan"], per_month["Mar"], per_month["Jul"], per_month["Dec"]) == (1, 2, 1, 1)


def test_cert_2_the_statement_counts_the_ledger_s_year_training_notices_breaches_and_brokers(
    app: App, actor: Actor
) -> None:
    seed_year(app, actor)
    doc = build(app, actor)
    controls = {c["id"]: c for c in doc["controls"]}  # type: ignore[attr-defined]
    assert controls["SAFE-1"]["evidence"][0] == "34 uses of CPNI decided by the purpose gate (30 allowed, 4 denied)"
    assert controls["SAFE-2"]["evidence"][:2] == [
        "2 training records on the use of CPNI counted during the year, covering 2 people",
        "1 person held current training on 31 December",
    ]
    assert controls["NOTIFY"]["evidence"] == ["2 account-change notices queued with the change, 1 delivered"]
    assert controls["AUTH"]["evidence"][0] == "2 checks of a password, PIN or answer (1 passed, 1 failed)"
    assert controls["BREACH"]["evidence"] == [
        "1 incident recorded; law enforcement told of 1, customers of 0",
        "0 breach notices queued to customers, 0 delivered",
    ]
    assert doc["data_broker_actions"] == [
        {
            "taken_on": "2026-09-01",
            "forum": "court",
            "broker": "DataHarvest LLC",
            "description": "Suit to stop the sale of call records",
        }
    ]
    assert doc["pretexting"] == {
        "alerts": {"pretexting-suspected": 2},
        "suspected_pretexting_alerts": 2,
        "lockouts": 1,
        "failed_authentications": 1,
        "intentional_breaches": 1,
    }


def test_cert_1_cert_5_an_officer_and_full_evidence_give_a_final_certification(app: App, actor: Actor) -> None:
    seed_year(app, actor)
    doc = build(app, actor)
    assert doc["missing"] == [] and doc["draft"] is False
    assert doc["header"]["signatory_title"] == "Chief Executive Officer"  # type: ignore[index]


def test_cert_1_a_signatory_who_is_no_officer_builds_a_draft_and_an_unknown_one_is_refused(
    app: App, actor: Actor
) -> None:
    seed_year(app, actor)
    doc = build(app, actor, signatory="Carl")
    assert doc["draft"] is True and doc["missing"] == ["CERT-1: Carl is not a corporate officer and cannot sign"]
    with pytest.raises(InvalidInput, match="unknown signatory: 'Nobody'"):
        build(app, actor, signatory="Nobody")


def test_amb_10_a_closure_day_on_the_friday_before_moves_the_internal_due_date(app: App, actor: Actor) -> None:
    seed_year(app, actor)
    app.clock.move_to(BUILT_AT)  # type: ignore[attr-defined]
    built = build_certification(
        app.uow(), app.clock, actor, BuildRequest(2025), CARRIER, load_statement(""), render_certification
    )
    assert (built.document["due"], built.document["legal_due"]) == ("2026-02-26", "2026-03-02")


def test_each_build_is_recorded_with_its_ledger_entry_in_the_same_unit_of_work(app: App, actor: Actor) -> None:
    seed_year(app, actor)
    doc = build(app, actor)
    (record,) = list_certifications(app.uow(), 2026)
    with app.uow() as uow:
        entries = uow.audit.find(None, "privacy:certification:built", 10)
    assert str(record.id) == doc["id"] and record.signatory == "Olivia" and not record.draft
    assert json.loads(record.content)["complaints_total"] == 5
    assert len(entries) == 1 and json.loads(entries[0].details)["certification"] == doc["id"]


def test_a_pdf_that_cannot_be_kept_leaves_no_record_and_no_ledger_entry(app: App, actor: Actor) -> None:
    def refuse(pdf: bytes) -> None:
        raise InvalidInput("--out /full/disk.pdf: cannot write the PDF (No space left on device)")

    seed_year(app, actor)
    with pytest.raises(InvalidInput, match="cannot write"):
        build(app, actor, keep_pdf=refuse)
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(o.certifications)).scalar_one() == 0
        built = t.audit_entries.c.action == "privacy:certification:built"
        assert conn.execute(select(func.count()).where(built)).scalar_one() == 0


def test_the_opt_out_rate_per_month_counts_opt_outs_per_hundred_accounts_open_at_month_end(
    app: App, actor: Actor
) -> None:
    seed_year(app, actor)
    doc = build(app, actor)
    opt_outs, rates = doc["opt_outs_per_month"], doc["opt_out_rate_per_month"]
    assert isinstance(opt_outs, dict) and isinstance(rates, dict)
    assert [opt_outs[m] for m in ("Jan", "Feb", "Mar", "Jul", "Dec")] == [0, 1, 0, 2, 0]
    assert (rates["Feb"], rates["Jul"]) == (50.0, 50.0)  # 1 of 2 accounts, 2 of 4
    assert list(rates) == ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def test_the_ledger_s_year_is_found_by_seq_even_with_entries_years_away_and_some_out_of_order(
    app: App, actor: Actor
) -> None:
    far = [(datetime(2019 + n, 6, 1, tzinfo=UTC), "auth:pin:verified") for n in range(5)]
    _ledger(app, actor, far)
    _ledger(app, actor, [(datetime(2026, 12, 30, tzinfo=UTC), "auth:pin:verified")])
    _ledger(app, actor, [(datetime(2027, 1, 2, tzinfo=UTC), "auth:pin:verified")])
    # Stamped on 31 December when its use case began, numbered after the 2 January entry.
    _ledger(app, actor, [(datetime(2026, 12, 31, 12, tzinfo=UTC), "auth:pin:verified")])
    _ledger(app, actor, [(datetime(2030, 1, 1, tzinfo=UTC), "auth:pin:verified")])
    with app.uow() as uow:
        evidence = uow.evidence.year(2026, month_bounds(2026))
        empty = uow.evidence.year(2018, month_bounds(2018))
    assert evidence.ledger == {"auth:pin:verified": 2}
    assert empty.ledger == {}
