"""A breach incident from discovery to the customer notices, on SQLite and PostgreSQL: the
timeline, the agency notice, a hold that blocks the notices and a delay order that moves them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.breaches import agency as breach_agency
from cpniguard.breaches import closures, service
from cpniguard.breaches import customer_notices as breach_notices
from cpniguard.breaches.clocks import RuleVersion
from cpniguard.breaches.model import HarmAssessment, Intent
from cpniguard.breaches.reminders import remind_due
from cpniguard.calendar import parse_when
from cpniguard.clock import FixedClock
from cpniguard.consent.retention import purge
from cpniguard.errors import Conflict, InvalidInput
from cpniguard.ids import CustomerId
from cpniguard.notifications.service import Letterhead
from tests.conftest import a_customer

CONTACT = "Example Telephone Co.; 1 Main St, Springfield, IL 62701"
PRETEXTING = service.NewIncident(
    "Pretexter obtained call records",
    parse_when("2026-12-16T09:00"),
    Intent.INTENTIONAL,
    ("call-detail", "name"),
    "A caller posing as the customer talked an agent into reading out call records.",
    cpni_description="call detail of November 2026 for the accounts named",
    method_of_compromise="pretexting by telephone",
    incident_start=date(2026, 12, 14),
    financial_loss="none",
)


def opened(app: App, actor: Actor, clock: FixedClock, rules: RuleVersion = RuleVersion.STRICTEST) -> service.Incident:  # type: ignore[name-defined]
    clock.move_to(parse_when("2026-12-16T10:00"))
    incident = service.open_incident(app.uow(), clock, actor, PRETEXTING, rules)
    clock.move_to(parse_when("2026-12-18T16:00"))
    service.record_determination(
        app.uow(), clock, actor, incident.id, parse_when("2026-12-18T15:00"), "Pat Privacy", "call logs confirm it"
    )
    return incident


def affected(app: App, actor: Actor, clock: FixedClock, incident_id, language: str = "en") -> CustomerId:  # type: ignore[no-untyped-def]
    customer = a_customer(app, actor, at=parse_when("2025-01-02"))
    service.record_affected(app.uow(), clock, actor, incident_id, 1, "the one account the agent opened", [customer.id])
    return customer.id


def notified(app: App, actor: Actor, clock: FixedClock, incident_id, when: str = "2026-12-21T11:00") -> None:  # type: ignore[no-untyped-def]
    clock.move_to(parse_when(when))
    breach_agency.record_agency_notice(
        app.uow(), clock, actor, incident_id, parse_when(when), ("USSS", "FBI", "FCC"), "CRF-1", CONTACT
    )


def test_breach_6_the_incident_keeps_its_timeline_and_its_clocks_run_from_the_determination(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    incident = opened(app, actor, clock)
    found = service.status(app.uow(), clock, incident.id)
    assert [e.kind for e in found.events] == ["opened", "determined"]
    assert found.deadlines is not None and found.deadlines.law_enforcement_notice_due == date(2026, 12, 30)
    assert found.incident.records_kept_until == date(2028, 12, 18)
    assert found.incident.determined_by == "Pat Privacy"


def test_breach23_4_the_agency_notice_is_refused_while_a_required_field_is_empty(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    incident = opened(app, actor, clock)
    with pytest.raises(InvalidInput, match="carrier_contact"):
        breach_agency.record_agency_notice(
            app.uow(), clock, actor, incident.id, clock.now(), ("USSS", "FBI", "FCC"), "", carrier_contact=""
        )
    draft = breach_agency.draft_agency_notice(app.uow(), incident.id, CONTACT)
    assert draft.missing() == [] and draft.approximate_customers == "unknown"


def test_breach23_3_the_agency_notice_must_name_every_recipient(app: App, actor: Actor, clock: FixedClock) -> None:
    incident = opened(app, actor, clock)
    with pytest.raises(InvalidInput, match="missing: FCC"):
        breach_agency.record_agency_notice(
            app.uow(), clock, actor, incident.id, clock.now(), ("USSS", "FBI"), "", CONTACT
        )


def test_breach_2_a_hold_blocks_the_customer_notice_until_seven_full_business_days_pass(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    incident = opened(app, actor, clock)
    customer = affected(app, actor, clock, incident.id)
    with pytest.raises(Conflict, match="agency notice"):
        breach_notices.send_customer_notices(app.uow(), clock, actor, incident.id, Letterhead())
    notified(app, actor, clock, incident.id)
    clock.move_to(parse_when("2026-12-31T16:00"))
    with pytest.raises(Conflict, match="hold"):
        breach_notices.send_customer_notices(app.uow(), clock, actor, incident.id, Letterhead())
    with app.uow() as uow:
        assert uow.outbox.notices(customer, 10) == []  # nothing half-written
    clock.move_to(parse_when("2027-01-04T09:00"))
    assert breach_notices.send_customer_notices(app.uow(), clock, actor, incident.id, Letterhead()) == {
        "queued": 1,
        "unreachable": 0,
    }
    with app.uow() as uow:
        [notice] = uow.outbox.notices(customer, 10)
    assert notice.notice.event.value == "breach-notice" and "fcc.gov" in notice.notice.body
    found = service.status(app.uow(), clock, incident.id)
    assert found.incident.records_kept_until == date(2029, 1, 4)  # BREACH-6: two years after the last notice


def test_breach_4_a_delay_order_moves_the_notice_and_its_all_clear_releases_it(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    incident = opened(app, actor, clock, RuleVersion.V2023)
    affected(app, actor, clock, incident.id)
    notified(app, actor, clock, incident.id)
    order = ("fbi-delay.pdf", "application/pdf", b"%PDF- written direction")
    with pytest.raises(InvalidInput, match="written document"):
        breach_agency.record_direction(
            app.uow(), clock, actor, incident.id, "directed", clock.now(), "FBI", ("x.pdf", "", b""), days=30
        )
    clock.move_to(parse_when("2026-12-22T10:00"))
    breach_agency.record_direction(app.uow(), clock, actor, incident.id, "directed", clock.now(), "FBI", order, days=30)
    found = service.status(app.uow(), clock, incident.id)
    assert found.deadlines is not None and found.deadlines.customer_notice_not_before == date(2027, 1, 22)
    clock.move_to(parse_when("2027-01-05T09:00"))
    with pytest.raises(Conflict, match="hold"):
        breach_notices.send_customer_notices(app.uow(), clock, actor, incident.id, Letterhead())
    breach_agency.record_direction(app.uow(), clock, actor, incident.id, "ended", clock.now(), "FBI", order)
    assert breach_notices.send_customer_notices(app.uow(), clock, actor, incident.id, Letterhead())["queued"] == 1
    with app.uow() as uow:
        document_id = next(e.document_id for e in uow.breaches.events(incident.id) if e.document_id)
        assert uow.breaches.document(document_id).content == order[2]  # type: ignore[union-attr]


def test_breach_3_the_consultation_releases_the_hold_only_when_an_urgent_need_was_stated(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    incident = opened(app, actor, clock, RuleVersion.V2007)
    affected(app, actor, clock, incident.id)
    notified(app, actor, clock, incident.id)
    with pytest.raises(Conflict, match="urgent"):
        breach_agency.record_consultation(app.uow(), clock, actor, incident.id, clock.now(), "FBI", "Agent Smith", "")
    urgent = service.open_incident(app.uow(), clock, actor, replace(PRETEXTING, urgent_need=True), RuleVersion.V2007)
    service.record_determination(app.uow(), clock, actor, urgent.id, clock.now(), "Pat", "confirmed")
    affected(app, actor, clock, urgent.id)
    notified(app, actor, clock, urgent.id, "2026-12-21T12:00")
    clock.move_to(parse_when("2026-12-22T15:00"))
    breach_agency.record_consultation(app.uow(), clock, actor, urgent.id, clock.now(), "FBI", "Agent Smith", "agreed")
    assert breach_notices.send_customer_notices(app.uow(), clock, actor, urgent.id, Letterhead())["queued"] == 1


def test_breach23_11_a_determination_later_than_a_likely_breach_note_is_flagged(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    clock.move_to(parse_when("2026-12-16T10:00"))
    incident = service.open_incident(app.uow(), clock, actor, PRETEXTING, RuleVersion.STRICTEST)
    service.record_triage_note(app.uow(), clock, actor, incident.id, clock.now(), "pretexting, clearly", True)
    clock.move_to(parse_when("2026-12-18T16:00"))
    service.record_determination(app.uow(), clock, actor, incident.id, clock.now(), "Pat", "confirmed")
    assert service.status(app.uow(), clock, incident.id).review_flags


def test_reminders_go_to_the_privacy_office_once_before_the_target_and_once_when_overdue(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    incident = opened(app, actor, clock)
    clock.move_to(parse_when("2026-12-23T09:00"))  # three business days before the target 12-29
    assert remind_due(app.uow(), clock, actor, "privacy@example.com", 2) == 0
    clock.move_to(parse_when("2026-12-24T09:00"))  # two (12-25 is Christmas)
    assert remind_due(app.uow(), clock, actor, "privacy@example.com", 2) == 1
    assert remind_due(app.uow(), clock, actor, "privacy@example.com", 2) == 0
    clock.move_to(parse_when("2026-12-31T09:00"))
    assert remind_due(app.uow(), clock, actor, "privacy@example.com", 2) == 1
    listed = service.list_incidents(app.uow(), clock)
    assert listed[0][2] == ["law-enforcement-notice"]
    with app.uow() as uow:
        reminders = [n for n in uow.outbox.notices(None, 50) if n.notice.event.value == "breach-reminder"]
    assert len(reminders) == 2 and "OVERDUE" in reminders[0].notice.subject + reminders[1].notice.subject
    assert incident.id


def test_breach23_8_a_no_harm_finding_is_stored_with_its_basis(app: App, actor: Actor, clock: FixedClock) -> None:
    incident = opened(app, actor, clock, RuleVersion.V2023)
    assessment = HarmAssessment(False, "only encrypted data left", "Pat", "key vault log 12", True, "no", True)
    service.record_harm(app.uow(), clock, actor, incident.id, assessment)
    service.record_affected(app.uow(), clock, actor, incident.id, 12, "rows in the export")
    found = service.status(app.uow(), clock, incident.id)
    assert found.incident.harm_evidence == "key vault log 12"
    assert found.deadlines is not None and found.deadlines.annual_summary_due == date(2027, 2, 1)


def test_cal_3_a_closure_day_added_by_staff_moves_every_clock(app: App, actor: Actor, clock: FixedClock) -> None:
    closures.add_closure(app.uow(), clock, actor, date(2026, 12, 24), "executive order closing federal offices")
    with pytest.raises(Conflict):
        closures.add_closure(app.uow(), clock, actor, date(2026, 12, 25), "already a holiday")
    incident = opened(app, actor, clock)
    found = service.status(app.uow(), clock, incident.id)
    assert found.deadlines is not None and found.deadlines.law_enforcement_notice_due == date(2026, 12, 31)


def test_breach_6_breach_records_survive_any_purge(app: App, actor: Actor, clock: FixedClock) -> None:
    incident = opened(app, actor, clock)
    clock.move_to(parse_when("2031-01-01"))
    purge(app.uow(), clock, actor, parse_when("2030-01-01"))
    assert service.status(app.uow(), clock, incident.id).incident.title == PRETEXTING.title


def test_breach_5_the_incident_closes_only_with_a_notice_on_record_for_each_listed_customer(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    incident = opened(app, actor, clock)
    affected(app, actor, clock, incident.id)
    with pytest.raises(Conflict, match="agency notice"):
        breach_notices.close_investigation(app.uow(), clock, actor, incident.id, clock.now())
    notified(app, actor, clock, incident.id)
    with pytest.raises(Conflict, match="no notice on record"):
        breach_notices.close_investigation(app.uow(), clock, actor, incident.id, clock.now())
    clock.move_to(parse_when("2027-01-04T09:00"))
    breach_notices.send_customer_notices(app.uow(), clock, actor, incident.id, Letterhead())
    closed = breach_notices.close_investigation(app.uow(), clock, actor, incident.id, clock.now())
    assert closed.investigation_closed_at == clock.now()


def test_breach23_5_the_annual_summary_lists_small_no_harm_breaches_with_their_basis(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    incident = opened(app, actor, clock, RuleVersion.V2023)
    service.record_affected(app.uow(), clock, actor, incident.id, 499, "rows in the misdirected file")
    assert service.annual_summary(app.uow(), 2026) == []  # harm not yet assessed: assumed likely
    service.record_harm(
        app.uow(), clock, actor, incident.id, HarmAssessment(False, "recalled unread", "Pat", "mail log")
    )
    [listed] = service.annual_summary(app.uow(), 2026)
    assert listed.affected_count_basis == "rows in the misdirected file"
    assert breach_notices.close_investigation(app.uow(), clock, actor, incident.id, clock.now()).investigation_closed_at
