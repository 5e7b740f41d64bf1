"""The privacy office on SQLite and PostgreSQL: policy versions and their notices, complaints,
data-broker actions, training and the roles it opens (SAFE-2, CERT-1, CERT-3, CERT-5)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.campaigns.service import add_user
from cpniguard.clock import FixedClock
from cpniguard.customers.model import ContactKind, Language
from cpniguard.customers.service import add_contact
from cpniguard.db import tables as t
from cpniguard.db.office_tables import complaints, policy_versions
from cpniguard.errors import Conflict, Forbidden, InvalidInput, NotFound
from cpniguard.notifications.service import Letterhead
from cpniguard.privacy_office.policies import PolicyDraft
from cpniguard.privacy_office.policy_service import (
    list_policies,
    policy_in_force,
    policy_notice,
    publish_policy,
    publish_sample_policy,
)
from cpniguard.privacy_office.service import (
    NewBrokerAction,
    NewComplaint,
    close_complaint,
    complaint_counts,
    list_broker_actions,
    list_complaints,
    record_broker_action,
    record_complaint,
)
from cpniguard.privacy_office.staff import due_training, grant_role, record_training
from tests.conftest import T0, a_customer

LETTERHEAD = Letterhead("Acme Telecom", "611")


def actions(app: App) -> list[str]:
    with app.engine.connect() as conn:
        return list(conn.execute(select(t.audit_entries.c.action).order_by(t.audit_entries.c.seq)).scalars())


def outbox(app: App) -> list[dict[str, object]]:
    """The privacy-policy notices in the outbox."""
    o = t.outbox.c
    with app.engine.connect() as conn:
        query = select(t.outbox).where(o.event == "privacy-policy-changed").order_by(o.recipient)
        rows = conn.execute(query).mappings().all()
    return [dict(r) for r in rows]


def draft(version: str, effective: date, material: bool = False, language: str = "en") -> PolicyDraft:
    return PolicyDraft(version, language, effective, f"# Policy {version}\n\nWe keep your data safe.", "New", material)


def test_a_material_version_queues_an_email_to_each_customer_of_its_language_at_their_first_email_of_record(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    old = T0 - timedelta(days=60)
    ada = a_customer(app, actor, emails=("ada@example.com",), at=old)
    add_contact(app.uow(), FixedClock(old + timedelta(days=1)), actor, ada.id, ContactKind.EMAIL, "ada2@example.com")
    a_customer(app, actor, name="No Email", telephone_numbers=("+12025550124",), emails=(), at=old)
    a_customer(app, actor, name="New Email", telephone_numbers=("+12025550125",), emails=("new@example.com",))
    a_customer(app, actor, name="Deutsch", telephone_numbers=("+12025550126",), language=Language.DE, at=old)
    done = publish_policy(app.uow(), clock, actor, LETTERHEAD, draft("2.0", date(2026, 4, 1), material=True))
    # DEF-5: an address on the account for less than 30 days is not of record, so "New Email" has none
    assert (done.notices_queued, done.customers_without_email) == (1, 2)
    [notice] = outbox(app)
    assert notice["customer_id"] == ada.id and notice["recipient"] == "ada@example.com"
    assert notice["event"] == "privacy-policy-changed" and notice["status"] == "pending"
    assert json.loads(str(notice["route"])) == [["email", "ada@example.com"]]
    assert "Version 2.0 takes effect on April 1, 2026" in str(notice["body"]) and "New" in str(notice["body"])
    assert "Acme Telecom" in str(notice["body"])
    assert actions(app)[-2:] == ["privacy:policy:published", "notifications:privacy-policy-changed:queued"]
    german = publish_policy(app.uow(), clock, actor, LETTERHEAD, draft("2.0", date(2026, 4, 1), True, "de"))
    assert german.notices_queued == 1
    body = next(str(n["body"]) for n in outbox(app) if n["language"] == "de")
    assert "Version 2.0 gilt ab dem 01.04.2026" in body


def test_a_version_that_is_not_material_queues_nothing(app: App, actor: Actor, clock: FixedClock) -> None:
    a_customer(app, actor, at=T0 - timedelta(days=60))
    done = publish_policy(app.uow(), clock, actor, LETTERHEAD, draft("1.0", date(2026, 1, 1)))
    assert (done.notices_queued, done.customers_without_email) == (0, 0)
    assert outbox(app) == [] and actions(app)[-1] == "privacy:policy:published"


def test_a_refused_version_leaves_nothing_written(app: App, actor: Actor, clock: FixedClock) -> None:
    a_customer(app, actor, at=T0 - timedelta(days=60))
    publish_policy(app.uow(), clock, actor, LETTERHEAD, draft("2.0", date(2026, 3, 1), material=True))
    before = (outbox(app), actions(app))
    with pytest.raises(Conflict, match="published already"):
        publish_policy(app.uow(), clock, actor, LETTERHEAD, draft("2.0", date(2026, 3, 5), material=True))
    with pytest.raises(InvalidInput, match=r"before that of version 2\.0"):
        publish_policy(app.uow(), clock, actor, LETTERHEAD, draft("1.9", date(2026, 2, 1), material=True))
    assert (outbox(app), actions(app)) == before
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(policy_versions)).scalar_one() == 1


def test_the_version_in_force_and_the_portal_notice_follow_the_effective_dates(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    with pytest.raises(NotFound, match="no privacy policy in en"):
        policy_in_force(app.uow(), "en", T0)
    publish_policy(app.uow(), clock, actor, LETTERHEAD, draft("1.0", date(2025, 1, 1)))
    publish_policy(app.uow(), clock, actor, LETTERHEAD, draft("2.0", date(2026, 4, 1), material=True))
    assert policy_in_force(app.uow(), "en", T0).version == "1.0"
    assert policy_notice(app.uow(), "en", T0) is None  # announced by email, shown once in force
    april = datetime(2026, 4, 1, 16, tzinfo=UTC)
    assert policy_in_force(app.uow(), "en", april).version == "2.0"
    assert policy_notice(app.uow(), "en", april).version == "2.0"  # type: ignore[union-attr]
    assert policy_notice(app.uow(), "en", april + timedelta(days=91)) is None
    assert [v.version for v in list_policies(app.uow(), "en")] == ["1.0", "2.0"]
    assert list_policies(app.uow(), "de") == []


def test_the_sample_policy_is_published_once_per_language(app: App, actor: Actor, clock: FixedClock) -> None:
    first = publish_sample_policy(app.uow(), clock, actor, LETTERHEAD)
    assert sorted(p.version.language.value for p in first) == ["de", "en"]
    assert publish_sample_policy(app.uow(), clock, actor, LETTERHEAD) == []
    assert "Datenschutzerklärung" in policy_in_force(app.uow(), "de", T0).text


def test_cert_3_complaints_are_recorded_closed_and_counted_by_eastern_calendar_year(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    ada = a_customer(app, actor)
    new_year_eve = datetime(2027, 1, 1, 4, 30, tzinfo=UTC)  # 23:30 on 31 December 2026 in New York
    clock.move_to(datetime(2027, 2, 1, tzinfo=UTC))
    made = [
        record_complaint(app.uow(), clock, actor, NewComplaint(category, "phone", "s", ada.id, at))
        for category, at in [
            ("employee-access", datetime(2026, 1, 1, 5, 0, tzinfo=UTC)),
            ("online-access", new_year_eve),
            ("online-access", datetime(2026, 1, 1, 4, 59, tzinfo=UTC)),  # still 2025 in New York
            ("other", datetime(2027, 1, 1, 5, 0, tzinfo=UTC)),
        ]
    ]
    counts = complaint_counts(app.uow(), 2026)
    assert counts.total == 2
    assert counts.by_category["employee-access"] == 1 and counts.by_category["online-access"] == 1
    assert counts.by_month[12]["online-access"] == 1 and counts.by_month[1]["employee-access"] == 1
    assert [c.id for c in list_complaints(app.uow(), 2026, "online-access")] == [made[1].id]
    closed = close_complaint(app.uow(), clock, actor, made[0].id, "access revoked, agent disciplined")
    assert closed.status == "closed" and list_complaints(app.uow(), 2026)[0].status == "closed"
    with pytest.raises(Conflict):
        close_complaint(app.uow(), clock, actor, made[0].id, "again")
    assert actions(app).count("privacy:complaint:recorded") == 4 and "privacy:complaint:closed" in actions(app)


def test_cert_3_a_complaint_needs_a_known_category_a_known_customer_and_a_past_date(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    with pytest.raises(InvalidInput, match="unknown complaint category 'pretexting'"):
        record_complaint(app.uow(), clock, actor, NewComplaint("pretexting", "phone", "s"))
    with pytest.raises(NotFound, match="unknown customer"):
        record_complaint(app.uow(), clock, actor, NewComplaint("other", "phone", "s", uuid.uuid4()))
    with pytest.raises(InvalidInput, match="future"):
        record_complaint(app.uow(), clock, actor, NewComplaint("other", "phone", "s", None, T0 + timedelta(hours=1)))
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(complaints)).scalar_one() == 0


def test_cert_3_actions_against_data_brokers_are_listed_by_year(app: App, actor: Actor, clock: FixedClock) -> None:
    record_broker_action(app.uow(), clock, actor, NewBrokerAction(date(2025, 12, 31), "court", "DataCo", "suit"))
    record_broker_action(app.uow(), clock, actor, NewBrokerAction(date(2026, 1, 5), "fcc", "InfoBroker", "petition"))
    assert [a.broker for a in list_broker_actions(app.uow(), 2026)] == ["InfoBroker"]
    assert len(list_broker_actions(app.uow())) == 2
    with pytest.raises(InvalidInput, match="unknown forum 'senate'"):
        record_broker_action(app.uow(), clock, actor, NewBrokerAction(date(2026, 1, 5), "senate", "X", "y"))
    assert actions(app).count("privacy:broker-action:recorded") == 2


def test_safe_2_a_member_of_staff_without_current_training_cannot_be_made_an_agent(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    with pytest.raises(Forbidden, match="SAFE-2"):
        add_user(app.uow(), clock, actor, "al", frozenset({"agent"}))
    record_training(app.uow(), clock, actor, "al", "CPNI basics", date(2025, 1, 1), date(2026, 1, 1))  # expired
    with pytest.raises(Forbidden, match="SAFE-2"):
        add_user(app.uow(), clock, actor, "al", frozenset({"agent"}))
    with app.uow() as uow:
        assert uow.users.by_name("al") is None
    record_training(app.uow(), clock, actor, "al", "CPNI basics", date(2026, 2, 1), date(2027, 2, 1))
    assert add_user(app.uow(), clock, actor, "al", frozenset({"agent"})).roles == {"agent"}
    assert actions(app)[-1] == "access:user:added"


def test_safe_2_a_role_that_opens_cpni_is_granted_only_with_current_training(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    add_user(app.uow(), clock, actor, "audrey", frozenset({"auditor"}))  # opens no CPNI
    with pytest.raises(Forbidden, match="marketing role"):
        grant_role(app.uow(), clock, actor, "audrey", "marketing")
    record_training(app.uow(), clock, actor, "audrey", "CPNI basics", date(2026, 3, 2), date(2027, 3, 2))
    assert grant_role(app.uow(), clock, actor, "audrey", "marketing").roles == {"auditor", "marketing"}
    with app.uow() as uow:
        assert uow.users.by_name("audrey").roles == {"auditor", "marketing"}  # type: ignore[union-attr]
    with pytest.raises(Conflict, match="already"):
        grant_role(app.uow(), clock, actor, "audrey", "marketing")
    with pytest.raises(NotFound):
        grant_role(app.uow(), clock, actor, "nobody", "auditor")
    assert actions(app)[-1] == "access:role:granted"


def test_cert_1_cert_5_an_officer_is_stored_with_the_title_the_certificate_names(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    add_user(app.uow(), clock, actor, "Olivia Officer", frozenset({"admin"}), True, "Chief Compliance Officer")
    with app.uow() as uow:
        stored = uow.users.by_name("Olivia Officer")
    assert stored is not None and stored.corporate_officer and stored.title == "Chief Compliance Officer"


def test_safe_2_training_due_lists_cpni_staff_whose_training_ends_soon(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    record_training(app.uow(), clock, actor, "al", "CPNI basics", date(2025, 4, 1), date(2026, 4, 1))
    add_user(app.uow(), clock, actor, "al", frozenset({"agent"}))
    add_user(app.uow(), clock, actor, "audrey", frozenset({"auditor"}))
    assert due_training(app.uow(), clock, 10) == []
    [due] = due_training(app.uow(), clock, 30)
    assert (due.staff_name, due.expires_on, due.status) == ("al", date(2026, 4, 1), "expiring")
    with pytest.raises(InvalidInput, match="training cannot be completed in the future"):
        record_training(app.uow(), clock, actor, "al", "CPNI basics", date(2026, 3, 3), date(2027, 3, 3))


def test_notices_to_many_customers_go_in_bulk_pages_and_read_back_like_any_notice(
    app: App, actor: Actor, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cpniguard.db.privacy_repo.NOTICE_BATCH", 16)  # several keyset pages
    for n in range(60):  # past bulk.BULK_FROM, so PostgreSQL takes them by COPY
        phone = f"+1202555{5000 + n}"
        a_customer(
            app,
            actor,
            name=f"C {n}",
            telephone_numbers=(phone,),
            emails=(f"c{n}@example.com",),
            at=T0 - timedelta(days=40),
        )
    done = publish_policy(app.uow(), clock, actor, LETTERHEAD, draft("2.0", date(2026, 4, 1), material=True))
    assert (done.notices_queued, done.customers_without_email) == (60, 0)
    with app.uow() as uow:
        records = uow.outbox.notices(None, 100)
    assert len(records) == 60 and len({r.notice.customer_id for r in records}) == 60
    assert all(r.channel == "email" and r.notice.route[0].recipient == r.recipient for r in records)
