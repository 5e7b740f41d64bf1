"""Call sessions on SQLite and PostgreSQL: which routes release call detail after which proof
(AUTH-2, AUTH-3, AUTH-4, AUTH-6, AUTH-9, AMB-14, DEF-5, DEF-6), every release through the gate,
and sent call detail as a real message with the records attached."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from cpniguard.actors import Actor
from cpniguard.auth.model import CredentialKind, VerifiedBy
from cpniguard.auth.photo_id import PhotoId, PhotoIdKind
from cpniguard.auth.release import BusinessExemption, Channel, ReleaseRoute, RouteKind
from cpniguard.auth.service import record_exemption, set_credential
from cpniguard.auth.sessions import (
    CallerSuppliedCall,
    Release,
    close_session,
    open_session,
    release_call_detail,
    session_routes,
    verify_in_session,
)
from cpniguard.bootstrap import App
from cpniguard.clock import FixedClock
from cpniguard.customers.model import ContactKind, Customer, CustomerKind
from cpniguard.customers.records import CallDetailRecord, Direction
from cpniguard.customers.service import add_contact, change_contact
from cpniguard.db import tables as t
from cpniguard.errors import Conflict, Forbidden, InvalidInput, NotFound, StorageUnavailable
from cpniguard.ids import new_id
from cpniguard.ports import CallSession
from tests.conftest import T0, a_customer
from tests.integration.auth_support import audit_actions, cheap_argon2_app, pins_for, row_counts

PHONE, EMAIL = "+12025550123", "ada@example.com"
POSTAL = "12 Analytical Way, Springfield, IL 62701"
TWO_YEARS_AGO = T0 - timedelta(days=730)
ALL_SENDS = [("callback", PHONE), ("send-email", EMAIL), ("send-letter", POSTAL)]
GATE_ALLOWED = "decisions:cpni-use:allowed"


@pytest.fixture
def app(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[App]:
    built = cheap_argon2_app(database_url, clock, tmp_path)
    yield built
    built.close()


def a_caller(app: App, actor: Actor, clock: FixedClock, **overrides: object) -> tuple[Customer, str]:
    """A two-year-old account whose PIN was chosen when the service started, and its calls."""
    customer = a_customer(app, actor, at=TWO_YEARS_AGO, **overrides)
    [pin] = pins_for(customer.id)
    clock.move_to(TWO_YEARS_AGO + timedelta(hours=1))
    how = VerifiedBy.SERVICE_INITIATION
    set_credential(app.uow(), app.clock, actor, app.auth, customer.id, CredentialKind.PIN, pin, how)
    clock.move_to(T0)
    with app.uow() as uow:
        uow.cpni.add_call_detail(calls(customer))
        uow.commit()
    return customer, pin


def calls(customer: Customer) -> list[CallDetailRecord]:
    def call(number: str, started: datetime, seconds: int, cents: int) -> CallDetailRecord:
        return CallDetailRecord(new_id(), customer.id, PHONE, started, Direction.OUTBOUND, number, seconds, cents)

    return [
        call("+13125550199", datetime(2026, 2, 27, 14, 15, tzinfo=UTC), 184, 21),  # 09:15 in New York
        call("+13125550199", datetime(2026, 2, 27, 21, 40, tzinfo=UTC), 60, 8),  # same number, same day
        call("+14155550142", datetime(2026, 2, 25, 16, 0, tzinfo=UTC), 300, 45),
    ]


def open_(
    app: App,
    actor: Actor,
    customer: Customer,
    channel: Channel = Channel.INBOUND_CALL,
    pin: str | None = None,
    photo_id: PhotoId | None = None,
    via_representative: bool = False,
) -> tuple[CallSession, list[ReleaseRoute]]:
    credential = (CredentialKind.PIN, pin) if pin is not None else None
    return open_session(
        app.uow, app.clock, actor, app.auth, customer.id, channel, credential, photo_id, via_representative
    )


def release(
    app: App,
    actor: Actor,
    session: CallSession,
    kind: RouteKind,
    target: str | None = None,
    described: CallerSuppliedCall | None = None,
) -> Release:
    return release_call_detail(app.uow, app.clock, actor, app.auth, session.id, kind, target, described)


def pairs(routes: list[ReleaseRoute]) -> list[tuple[str, str | None]]:
    return [(r.kind.value, r.target) for r in routes]


def gate_entries(app: App, customer: Customer) -> list[tuple[str, str]]:
    with app.uow() as uow:
        return [(e.purpose, e.reason) for e in uow.audit.find(customer.id, GATE_ALLOWED, 100)]


# --- AUTH-2: the PIN opens live discussion, through the gate -----------------------------------


def test_auth_2_a_caller_with_the_right_pin_may_discuss_call_detail_and_the_gate_records_the_session(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer, pin = a_caller(app, actor, clock)
    session, routes = open_(app, actor, customer, pin=pin)
    assert session.proof == "pin" and pairs(routes) == [("discuss", None)]
    released = release(app, actor, session, RouteKind.DISCUSS)
    assert sorted((r.other_party_number, r.charge_cents) for r in released.records) == [
        ("+13125550199", 8),
        ("+13125550199", 21),
        ("+14155550142", 45),
    ]
    assert released.notice_id is None
    [(purpose, reason)] = gate_entries(app, customer)
    assert purpose == "customer-care" and f"call session {session.id}, discuss" in reason


@pytest.mark.parametrize("pin", [None, "000000"], ids=["no-pin", "wrong-pin"])
def test_auth_2_auth_3_without_the_pin_discuss_is_refused_naming_the_routes_to_contacts_of_record(
    app: App, actor: Actor, clock: FixedClock, pin: str | None
) -> None:
    customer, _ = a_caller(app, actor, clock)
    session, routes = open_(app, actor, customer, pin=pin)
    assert session.proof == "none" and pairs(routes) == ALL_SENDS
    with pytest.raises(Forbidden) as refused:
        release(app, actor, session, RouteKind.DISCUSS)
    assert all(f"{kind} to {target}" in str(refused.value) for kind, target in ALL_SENDS)
    assert gate_entries(app, customer) == []


def test_auth_3_def_5_an_email_changed_12_days_ago_is_refused_and_the_old_postal_address_offered(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer, _ = a_caller(app, actor, clock)
    change_contact(app.uow(), FixedClock(T0 - timedelta(12)), actor, customer.id, ContactKind.EMAIL, "new@example.com")
    session, routes = open_(app, actor, customer)
    assert pairs(routes) == [("callback", PHONE), ("send-letter", POSTAL)]
    for target in ("new@example.com", None):
        with pytest.raises(Forbidden):
            release(app, actor, session, RouteKind.SEND_EMAIL, target)
    assert gate_entries(app, customer) == []
    assert release(app, actor, session, RouteKind.SEND_LETTER).notice_id is not None


def test_def_6_a_call_back_goes_to_the_number_of_the_service_never_to_a_contact_number_just_given(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer, _ = a_caller(app, actor, clock)
    add_contact(app.uow(), app.clock, actor, customer.id, ContactKind.TELEPHONE, "+13125550177")
    session, routes = open_(app, actor, customer)
    assert [r.target for r in routes if r.kind is RouteKind.CALLBACK] == [PHONE]
    with pytest.raises(Forbidden):
        release(app, actor, session, RouteKind.CALLBACK, "+13125550177")


# --- AUTH-3: sent, not shown ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "channel", "recipient"),
    [
        (RouteKind.SEND_EMAIL, "email", EMAIL),
        (RouteKind.SEND_LETTER, "letter", "Ada Lovelace\n12 Analytical Way\nSpringfield, IL 62701"),
    ],
    ids=["email", "letter"],
)
def test_auth_3_call_detail_is_sent_to_the_address_of_record_with_the_records_attached_and_the_agent_sees_none(
    app: App, actor: Actor, clock: FixedClock, kind: RouteKind, channel: str, recipient: str
) -> None:
    customer, _ = a_caller(app, actor, clock)
    session, _ = open_(app, actor, customer)
    released = release(app, actor, session, kind)
    assert released.records == [] and released.notice_id is not None
    with app.engine.connect() as conn:
        row = conn.execute(select(t.outbox).where(t.outbox.c.id == released.notice_id)).one()
    assert (row.event, row.channel, row.recipient, row.customer_id) == ("call-detail", channel, recipient, customer.id)
    assert row.attachment_name == "call-detail.csv" and "(3 calls)" in row.body
    sent = list(csv.DictReader(io.StringIO(bytes(row.attachment).decode())))
    assert sorted((r["other_party_number"], r["charge_cents"]) for r in sent) == [
        ("+13125550199", "21"),
        ("+13125550199", "8"),
        ("+14155550142", "45"),
    ]
    [(_, reason)] = gate_entries(app, customer)
    assert f"{kind.value} to {recipient.splitlines()[-2] if kind is RouteKind.SEND_LETTER else recipient}" in reason


def test_when_the_gate_cannot_read_consent_no_call_detail_is_sent(app: App, actor: Actor, clock: FixedClock) -> None:
    customer, _ = a_caller(app, actor, clock)
    session, _ = open_(app, actor, customer)
    before = row_counts(app, t.outbox)
    with app.engine.begin() as conn:
        conn.execute(text("ALTER TABLE consent_state RENAME TO consent_state_gone"))
    try:
        # SQLite answers a denial; PostgreSQL aborts the transaction. Either way: fail closed.
        with pytest.raises((Forbidden, StorageUnavailable)):
            release(app, actor, session, RouteKind.SEND_EMAIL)
    finally:
        with app.engine.begin() as conn:
            conn.execute(text("ALTER TABLE consent_state_gone RENAME TO consent_state"))
    assert row_counts(app, t.outbox) == before


# --- AUTH-4: the one call the caller described -------------------------------------------------


def test_auth_4_the_one_call_the_caller_described_unaided_is_shown_and_no_other(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer, _ = a_caller(app, actor, clock)
    session, _ = open_(app, actor, customer)
    assert pairs(session_routes(app.uow(), app.clock, session.id, caller_supplied=True)[1])[-1] == ("single-call", None)
    described = CallerSuppliedCall("(312) 555-0199", date(2026, 2, 27), 21)
    released = release(app, actor, session, RouteKind.SINGLE_CALL, described=described)
    assert [(r.other_party_number, r.charge_cents, r.duration_seconds) for r in released.records] == [
        ("+13125550199", 21, 184)
    ]
    [(_, reason)] = gate_entries(app, customer)
    assert "single-call" in reason and "caller supplied: number, date, amount" in reason


@pytest.mark.parametrize(
    "described",
    [
        pytest.param(CallerSuppliedCall("3125550199", date(2026, 2, 27)), id="two-calls-match"),
        pytest.param(CallerSuppliedCall("4155550142", date(2026, 2, 26)), id="no-call-matches"),
        pytest.param(CallerSuppliedCall("3125550199", date(2026, 2, 27), 99), id="wrong-amount"),
    ],
)
def test_auth_4_unless_exactly_one_call_matches_nothing_is_shown(
    app: App, actor: Actor, clock: FixedClock, described: CallerSuppliedCall
) -> None:
    customer, _ = a_caller(app, actor, clock)
    session, _ = open_(app, actor, customer)
    with pytest.raises(NotFound, match="nothing may be shown"):
        release(app, actor, session, RouteKind.SINGLE_CALL, described=described)
    assert gate_entries(app, customer) == []


def test_auth_4_a_single_call_release_without_the_callers_description_is_refused(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer, _ = a_caller(app, actor, clock)
    session, _ = open_(app, actor, customer)
    with pytest.raises(Forbidden):
        release(app, actor, session, RouteKind.SINGLE_CALL)


# --- AUTH-6: in person ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("photo_id", "discuss"),
    [
        pytest.param(PhotoId(PhotoIdKind.DRIVERS_LICENCE, "Lovelace Ada", date(2027, 1, 1)), True, id="valid"),
        pytest.param(PhotoId(PhotoIdKind.DRIVERS_LICENCE, "Ada Lovelace", date(2026, 3, 1)), False, id="expired"),
        pytest.param(PhotoId(PhotoIdKind.PASSPORT, "Ada King", date(2027, 1, 1)), False, id="other-name"),
    ],
)
def test_auth_6_in_person_only_a_valid_matching_photo_id_opens_discussion(
    app: App, actor: Actor, clock: FixedClock, photo_id: PhotoId, discuss: bool
) -> None:
    customer, _ = a_caller(app, actor, clock)
    session, routes = open_(app, actor, customer, Channel.IN_PERSON, photo_id=photo_id)
    assert (session.proof == "photo-id") is discuss
    assert pairs(routes) == ([("discuss", None)] if discuss else ALL_SENDS)
    if discuss:
        assert len(release(app, actor, session, RouteKind.DISCUSS).records) == 3
    else:
        with pytest.raises(Forbidden):
            release(app, actor, session, RouteKind.DISCUSS)


def test_auth_2_a_valid_photo_id_shown_as_well_does_not_undo_the_pin_on_a_call(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer, pin = a_caller(app, actor, clock)
    photo_id = PhotoId(PhotoIdKind.PASSPORT, "Ada Lovelace", date(2027, 1, 1))
    session, routes = open_(app, actor, customer, pin=pin, photo_id=photo_id)
    assert session.proof == "pin" and pairs(routes) == [("discuss", None)]


def test_auth_2_auth_6_on_a_phone_call_a_photo_id_opens_no_discussion_and_in_person_a_pin_opens_none(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer, pin = a_caller(app, actor, clock)
    photo_id = PhotoId(PhotoIdKind.PASSPORT, "Ada Lovelace", date(2027, 1, 1))
    by_phone, routes = open_(app, actor, customer, Channel.INBOUND_CALL, photo_id=photo_id)
    assert by_phone.proof == "photo-id" and pairs(routes) == ALL_SENDS
    in_store, routes = open_(app, actor, customer, Channel.IN_PERSON, pin=pin)
    assert in_store.proof == "pin" and pairs(routes) == ALL_SENDS


# --- AUTH-9, AMB-14: business customers ----------------------------------------------------------

EXEMPTION = BusinessExemption("rep-17", "contract-2026-4", cpni_clause=True)


def test_auth_9_amb_14_an_exempt_business_may_discuss_call_detail_only_through_its_representative(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer, _ = a_caller(app, actor, clock, kind=CustomerKind.BUSINESS, name="Analytical Engines LLC")
    record_exemption(app.uow(), app.clock, actor, customer.id, EXEMPTION)
    assert "auth:business-exemption:recorded" in audit_actions(app, customer)
    via_rep, routes = open_(app, actor, customer, via_representative=True)
    assert pairs(routes) == [("discuss", None)]
    assert len(release(app, actor, via_rep, RouteKind.DISCUSS).records) == 3
    _, general_line = open_(app, actor, customer)
    assert pairs(general_line) == ALL_SENDS


def test_auth_9_without_the_cpni_clause_the_standard_rules_apply_even_through_the_representative(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer, _ = a_caller(app, actor, clock, kind=CustomerKind.BUSINESS, name="Analytical Engines LLC")
    no_clause = BusinessExemption("rep-17", "contract-2026-4", cpni_clause=False)
    record_exemption(app.uow(), app.clock, actor, customer.id, no_clause)
    session, routes = open_(app, actor, customer, via_representative=True)
    assert pairs(routes) == ALL_SENDS
    with pytest.raises(Forbidden):
        release(app, actor, session, RouteKind.DISCUSS)


def test_auth_9_a_residential_customer_cannot_record_an_exemption_and_nothing_is_written(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer, _ = a_caller(app, actor, clock)
    before = row_counts(app, t.business_exemptions, t.audit_entries)
    with pytest.raises(InvalidInput, match="business customer"):
        record_exemption(app.uow(), app.clock, actor, customer.id, EXEMPTION)
    assert row_counts(app, t.business_exemptions, t.audit_entries) == before
    with app.uow() as uow:  # a stray row (say, from before the account became residential) changes nothing
        uow.auth.save_exemption(customer.id, EXEMPTION, T0)
        uow.commit()
    _, routes = open_(app, actor, customer, via_representative=True)
    assert pairs(routes) == ALL_SENDS


# --- the session's life --------------------------------------------------------------------------


def test_a_closed_session_releases_nothing_and_an_unknown_session_is_not_found(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer, pin = a_caller(app, actor, clock)
    session, _ = open_(app, actor, customer, pin=pin)
    clock.move_to(T0 + timedelta(minutes=4))
    closed = close_session(app.uow(), app.clock, actor, session.id)
    assert closed.closed_at == T0 + timedelta(minutes=4)
    with pytest.raises(Conflict, match="closed"):
        release(app, actor, session, RouteKind.DISCUSS)
    with pytest.raises(Conflict):
        session_routes(app.uow(), app.clock, session.id)
    with pytest.raises(Conflict):
        close_session(app.uow(), app.clock, actor, session.id)
    assert gate_entries(app, customer) == []
    unknown = uuid.uuid4()
    with pytest.raises(NotFound, match="unknown call session"):
        release_call_detail(app.uow, app.clock, actor, app.auth, unknown, RouteKind.DISCUSS)
    assert audit_actions(app, customer, "auth:call-session:") == [
        "auth:call-session:opened",
        "auth:call-session:closed",
    ]


def test_auth_2_a_pin_given_during_the_session_verifies_it_and_opens_discussion_on_the_call(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customer, pin = a_caller(app, actor, clock)
    session, _ = open_session(app.uow, app.clock, actor, app.auth, customer.id, Channel.INBOUND_CALL)
    wrong, _ = verify_in_session(app.uow, app.clock, actor, app.auth, session.id, CredentialKind.PIN, "0550")
    assert not wrong.verified
    right, routes = verify_in_session(app.uow, app.clock, actor, app.auth, session.id, CredentialKind.PIN, pin)
    assert right.verified and any(r.kind.value == "discuss" for r in routes)
    with app.uow() as uow:
        assert uow.auth.session(session.id).proof == "pin"  # type: ignore[union-attr]
