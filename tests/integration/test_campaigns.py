"""A campaign's whole life on SQLite and PostgreSQL: review, audience by the gate, the re-check
at export, disclosure records (SAFE-3), the history of transitions (SAFE-4), append-only tables."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.campaigns.model import Approval, Campaign, CampaignChannel, CampaignStatus, Recipient
from cpniguard.campaigns.report import REPORT_COLUMNS, campaign_report
from cpniguard.campaigns.service import (
    CampaignSpec,
    add_user,
    build_audience,
    create_campaign,
    export_audience,
    review_campaign,
    submit_campaign,
)
from cpniguard.clock import FixedClock
from cpniguard.consent.model import Channel, ConsentEventKind
from cpniguard.consent.service import record_event
from cpniguard.customers.model import Customer, ServiceCategory
from cpniguard.db import tables as t
from cpniguard.decisions.model import Purpose, Request
from cpniguard.decisions.service import check_batch
from cpniguard.delivery.report_pdf import table_pdf
from cpniguard.errors import Conflict, Forbidden, InvalidInput
from cpniguard.privacy_office.staff import record_training
from tests.conftest import T0, a_customer

K = ConsentEventKind
COMMUNICATIONS = CampaignSpec(
    "Spring fiber", Purpose.MARKETING_COMMUNICATIONS, "Fiber upgrade", description="Fiber for copper customers"
)
THIRD_PARTY = CampaignSpec(
    "Partner bundle",
    Purpose.MARKETING_THIRD_PARTY,
    "Streaming bundle",
    recipients=(Recipient.THIRD_PARTY,),
    description="A streaming partner's bundle",
)


def trained(app: App, actor: Actor, name: str) -> str:
    """SAFE-2: staff are trained before they get a role that opens CPNI."""
    record_training(app.uow(), app.clock, actor, name, "CPNI basics", date(2026, 1, 15), date(2027, 1, 15))
    return name


@pytest.fixture
def staff(app: App, actor: Actor) -> None:
    for name, role in [("mia", "marketing"), ("cora", "cro"), ("al", "agent")]:
        add_user(app.uow(), app.clock, actor, trained(app, actor, name), frozenset({role}))


def customers(app: App, actor: Actor) -> dict[str, Customer]:
    """Opted in (two), presumed opt-out approval (email notice 40 days ago, AMB-3), still
    waiting (notice 10 days ago), objected, and nothing on record."""
    events = {
        "opted_in": [(K.OPT_IN, Channel.WEB, 60)],
        "opted_in_too": [(K.OPT_IN, Channel.PHONE, 50)],
        "presumed": [(K.OPT_OUT_NOTICE_SENT, Channel.EMAIL, 40)],
        "waiting": [(K.OPT_OUT_NOTICE_SENT, Channel.EMAIL, 10)],
        "objected": [(K.OPT_OUT_NOTICE_SENT, Channel.EMAIL, 40), (K.OPT_OUT, Channel.PHONE, 20)],
        "none": [],
    }
    made = {}
    for i, (label, history) in enumerate(events.items()):
        made[label] = a_customer(
            app,
            actor,
            name=f"Customer {label}",
            telephone_numbers=(f"+1202555{3000 + i}",),
            at=T0 - timedelta(days=100),
        )
        for kind, channel, days_ago in history:
            record_event(app.uow(), app.clock, actor, made[label].id, kind, channel, at=T0 - timedelta(days=days_ago))
    return made


def approved(app: App, spec: CampaignSpec = COMMUNICATIONS) -> Campaign:
    campaign = create_campaign(app.uow(), app.clock, spec, "mia")
    submit_campaign(app.uow(), app.clock, campaign.id, "mia")
    return review_campaign(app.uow(), app.clock, campaign.id, "cora", True, "checked against CONSENT-4")


def count(app: App, table: object, campaign: uuid.UUID) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(table.c.campaign_id == campaign)).scalar_one())  # type: ignore[attr-defined]


def audit_actions(app: App, campaign: uuid.UUID) -> list[str]:
    with app.engine.connect() as conn:
        rows = conn.execute(select(t.audit_entries.c.action, t.audit_entries.c.details).order_by(t.audit_entries.c.seq))
        return [r.action for r in rows if json.loads(r.details).get("campaign") == str(campaign)]


def status_of(app: App, campaign: uuid.UUID) -> CampaignStatus:
    with app.uow() as uow:
        found = uow.campaigns.get(campaign)
    assert found is not None
    return found.status


@pytest.mark.usefixtures("staff")
def test_a_user_without_a_making_role_cannot_create_a_campaign(app: App) -> None:
    with pytest.raises(Forbidden, match="al may not create campaigns"):
        create_campaign(app.uow(), app.clock, COMMUNICATIONS, "al")
    with app.uow() as uow:
        assert uow.campaigns.all() == []


@pytest.mark.usefixtures("staff")
def test_submitting_states_the_approval_each_customer_needs(app: App) -> None:
    campaign = create_campaign(app.uow(), app.clock, COMMUNICATIONS, "mia")
    submitted, needed = submit_campaign(app.uow(), app.clock, campaign.id, "mia")
    assert needed is Approval.OPT_OUT
    assert submitted.status is CampaignStatus.SUBMITTED and submitted.submitted_by == "mia"
    assert status_of(app, campaign.id) is CampaignStatus.SUBMITTED


@pytest.mark.usefixtures("staff")
def test_an_unlawful_or_unauthorised_submit_writes_nothing(app: App) -> None:
    spec = replace(COMMUNICATIONS, name="JV", recipients=(Recipient.JOINT_VENTURE,))
    campaign = create_campaign(app.uow(), app.clock, spec, "mia")
    with pytest.raises(InvalidInput, match="unlawful design"):
        submit_campaign(app.uow(), app.clock, campaign.id, "mia")
    lawful = create_campaign(app.uow(), app.clock, COMMUNICATIONS, "mia")
    with pytest.raises(Forbidden, match="al may not submit"):
        submit_campaign(app.uow(), app.clock, lawful.id, "al")
    for made in (campaign, lawful):
        assert status_of(app, made.id) is CampaignStatus.DRAFT
        assert count(app, t.campaign_events, made.id) == 1  # "created" only
        assert audit_actions(app, made.id) == ["campaigns:campaign:draft"]


@pytest.mark.usefixtures("staff")
def test_the_cro_approves_but_not_the_submitter_nor_an_agent(app: App, actor: Actor) -> None:
    add_user(app.uow(), app.clock, actor, trained(app, actor, "carl"), frozenset({"cro"}))
    campaign = create_campaign(app.uow(), app.clock, COMMUNICATIONS, "carl")
    submit_campaign(app.uow(), app.clock, campaign.id, "carl")
    with pytest.raises(Forbidden, match="made or submitted"):
        review_campaign(app.uow(), app.clock, campaign.id, "carl", True, "mine")
    with pytest.raises(Forbidden, match="cro or supervisor role"):
        review_campaign(app.uow(), app.clock, campaign.id, "al", True, "looks fine")
    assert status_of(app, campaign.id) is CampaignStatus.SUBMITTED
    assert review_campaign(app.uow(), app.clock, campaign.id, "cora", True, "ok").status is CampaignStatus.APPROVED


@pytest.mark.usefixtures("staff")
def test_only_an_approved_campaign_builds_an_audience_or_exports(app: App, actor: Actor) -> None:
    campaign = create_campaign(app.uow(), app.clock, COMMUNICATIONS, "mia")
    with pytest.raises(Conflict, match="the campaign is draft"):
        build_audience(app.uow(), app.clock, actor, campaign.id)
    submit_campaign(app.uow(), app.clock, campaign.id, "mia")
    with pytest.raises(Conflict, match="the campaign is submitted"):
        build_audience(app.uow(), app.clock, actor, campaign.id)
    review_campaign(app.uow(), app.clock, campaign.id, "cora", False, "no opt-out notice on file")
    with pytest.raises(Conflict, match="the campaign is rejected"):
        build_audience(app.uow(), app.clock, actor, campaign.id)
    with pytest.raises(Conflict, match="the campaign is rejected"):
        export_audience(app.uow(), app.clock, actor, campaign.id)
    ready = approved(app)
    with pytest.raises(Conflict, match="build the audience first"):
        export_audience(app.uow(), app.clock, actor, ready.id)
    assert status_of(app, ready.id) is CampaignStatus.APPROVED


@pytest.mark.usefixtures("staff")
def test_migration_0012_packs_each_frozen_audience_and_unpacks_it_going_down(app: App, actor: Actor) -> None:
    """A snapshot of one row per customer becomes one packed value, with the same customers
    and count; going down gives the rows back (issue 7, the audience build at scale)."""
    from alembic import command

    from cpniguard.db.migrate import alembic_config, upgrade

    made = customers(app, actor)
    campaign = approved(app)
    build_audience(app.uow(), app.clock, actor, campaign.id)
    expected = {made[x].id for x in ("opted_in", "opted_in_too", "presumed")}
    command.downgrade(alembic_config(app.engine, app.sealer), "0011")
    with app.engine.connect() as conn:
        rows = conn.execute(text("SELECT campaign_id, customer_id FROM campaign_audience")).all()
    assert len(rows) == 3 and {uuid.UUID(str(r[1])) for r in rows} == expected
    assert upgrade(app.engine, app.sealer) == "0012"
    with app.uow() as uow:
        assert set(uow.campaigns.audience(campaign.id)) == expected
        snapshot = uow.campaigns.audience_snapshot(campaign.id)
    assert snapshot is not None and snapshot.included == 3


@pytest.mark.usefixtures("staff")
def test_the_audience_is_exactly_whom_the_gate_allows_and_excluded_are_counted_by_reason(
    app: App, actor: Actor
) -> None:
    made = customers(app, actor)
    campaign = approved(app)
    outcome = build_audience(app.uow(), app.clock, actor, campaign.id)
    gate = check_batch(app.uow(), app.clock, actor, Request(Purpose.MARKETING_COMMUNICATIONS))
    expected = {str(made[x].id) for x in ("opted_in", "opted_in_too", "presumed")}
    with app.uow() as uow:
        frozen = {str(x) for x in uow.campaigns.audience(campaign.id)}
    assert frozen == set(gate.allowed) == expected and outcome.included == 3  # stored by the database itself
    assert outcome.denied == gate.denied
    assert sum(outcome.denied.values()) == 3 and outcome.denied.get("customer objected") == 1
    with app.uow() as uow:
        assert {str(x) for x in uow.campaigns.audience(campaign.id)} == expected


@pytest.mark.usefixtures("staff")
def test_an_objection_after_the_build_removes_the_customer_at_export(app: App, actor: Actor, clock: FixedClock) -> None:
    made = customers(app, actor)
    campaign = approved(app)
    build_audience(app.uow(), app.clock, actor, campaign.id)
    clock.move_to(T0 + timedelta(hours=1))
    record_event(app.uow(), app.clock, actor, made["presumed"].id, K.OPT_OUT, Channel.PHONE)
    clock.move_to(T0 + timedelta(hours=2))
    done = export_audience(app.uow(), app.clock, actor, campaign.id)
    assert set(done.customers) == {made["opted_in"].id, made["opted_in_too"].id}
    assert done.removed == {"customer objected": 1}
    assert done.disclosures == 0 and count(app, t.disclosures, campaign.id) == 0  # carrier only
    assert status_of(app, campaign.id) is CampaignStatus.RUNNING


@pytest.mark.usefixtures("staff")
def test_a_third_party_export_leaves_one_disclosure_per_exported_customer(app: App, actor: Actor) -> None:
    made = customers(app, actor)
    campaign = approved(app, THIRD_PARTY)
    build_audience(app.uow(), app.clock, actor, campaign.id)
    done = export_audience(app.uow(), app.clock, actor, campaign.id)
    assert set(done.customers) == {made["opted_in"].id, made["opted_in_too"].id}  # opt-in only (CONSENT-4)
    assert done.disclosures == count(app, t.disclosures, campaign.id) == 2
    with app.engine.connect() as conn:
        rows = conn.execute(select(t.disclosures).where(t.disclosures.c.campaign_id == campaign.id)).all()
    assert {r.customer_id for r in rows} == set(done.customers)
    assert {(r.recipient, r.categories, r.export_id, r.by) for r in rows} == {
        ("third-party", "services", done.export_id, actor.label)
    }
    export_audience(app.uow(), app.clock, actor, campaign.id)  # every export is recorded again
    assert count(app, t.disclosures, campaign.id) == 4


@pytest.mark.usefixtures("staff")
def test_every_transition_is_recorded_with_who_when_why_and_in_the_ledger(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customers(app, actor)
    campaign = create_campaign(app.uow(), app.clock, COMMUNICATIONS, "mia")
    clock.move_to(T0 + timedelta(minutes=1))
    submit_campaign(app.uow(), app.clock, campaign.id, "mia")
    clock.move_to(T0 + timedelta(minutes=2))
    review_campaign(app.uow(), app.clock, campaign.id, "cora", True, "checked against CONSENT-4")
    build_audience(app.uow(), app.clock, actor, campaign.id)
    clock.move_to(T0 + timedelta(minutes=3))
    export_audience(app.uow(), app.clock, actor, campaign.id)
    export_audience(app.uow(), app.clock, actor, campaign.id)  # no second "running"
    with app.uow() as uow:
        history = [(e.status, e.by, e.at, e.reason) for e in uow.campaigns.events(campaign.id)]
    assert history == [
        ("draft", "mia", T0, "created"),
        ("submitted", "mia", T0 + timedelta(minutes=1), "each customer needs opt-out approval"),
        ("approved", "cora", T0 + timedelta(minutes=2), "checked against CONSENT-4"),
        ("running", actor.label, T0 + timedelta(minutes=3), "first export"),
    ]
    assert audit_actions(app, campaign.id) == [
        "campaigns:campaign:draft",
        "campaigns:campaign:submitted",
        "campaigns:campaign:approved",
        "campaigns:audience:built",
        "campaigns:campaign:running",
        "campaigns:audience:exported",
        "campaigns:audience:exported",
    ]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE campaign_events SET reason = 'rewritten'",
        "DELETE FROM campaign_events",
        "UPDATE disclosures SET recipient = 'carrier'",
        "DELETE FROM disclosures",
    ],
)
@pytest.mark.usefixtures("staff")
def test_the_database_refuses_to_change_campaign_events_and_disclosures(app: App, actor: Actor, statement: str) -> None:
    customers(app, actor)
    campaign = approved(app, THIRD_PARTY)
    build_audience(app.uow(), app.clock, actor, campaign.id)
    export_audience(app.uow(), app.clock, actor, campaign.id)
    before = (count(app, t.campaign_events, campaign.id), count(app, t.disclosures, campaign.id))
    assert before[1] > 0
    with pytest.raises(DBAPIError, match="append-only"), app.engine.begin() as conn:
        conn.execute(text(statement))
    assert (count(app, t.campaign_events, campaign.id), count(app, t.disclosures, campaign.id)) == before


@pytest.mark.usefixtures("staff")
def test_safe_3_the_campaign_report_lists_cpni_used_offer_reviews_audience_and_disclosures(
    app: App, actor: Actor
) -> None:
    customers(app, actor)
    campaign = approved(app)
    build_audience(app.uow(), app.clock, actor, campaign.id)
    rows = {row["campaign"]: row for row in campaign_report(app.uow())}
    row = rows[str(campaign.id)]
    assert row["cpni_used"] == ", ".join(campaign.cpni) and row["offer"] == campaign.offer
    assert row["reviews"].startswith("approved by cora") and row["audience"] == "3"  # two opt-ins, one presumed
    assert row["disclosures"] == "0" and set(row) == set(REPORT_COLUMNS)
    pdf = table_pdf("Campaigns", app.clock.now(), list(REPORT_COLUMNS), [list(r.values()) for r in rows.values()])
    assert pdf.startswith(b"%PDF")


@pytest.mark.usefixtures("staff")
def test_safe_4_a_request_for_approval_is_reviewed_first_and_reaches_only_those_without_it(
    app: App, actor: Actor
) -> None:
    made = customers(app, actor)
    spec = CampaignSpec(
        "Ask for opt-in",
        Purpose.MARKETING_THIRD_PARTY,
        "Partner offers",
        recipients=(Recipient.THIRD_PARTY,),
        channel=CampaignChannel.PHONE,
        asks_for_approval=True,
        description="Calls asking for opt-in to partner offers",
    )
    campaign = create_campaign(app.uow(), app.clock, spec, "mia")
    with pytest.raises(Conflict):  # nobody is called before a supervisor or the CRO approved
        build_audience(app.uow(), app.clock, actor, campaign.id)
    submit_campaign(app.uow(), app.clock, campaign.id, "mia")
    review_campaign(app.uow(), app.clock, campaign.id, "cora", True, "script reviewed")
    outcome = build_audience(app.uow(), app.clock, actor, campaign.id)
    expected = {str(made[k].id) for k in ("presumed", "waiting", "none")}  # no opt-in, no objection
    with app.uow() as uow:
        assert {str(x) for x in uow.campaigns.audience(campaign.id)} == expected == set(outcome.allowed)
    assert outcome.denied == {"already approved": 2, "customer objected": 1}


@pytest.mark.usefixtures("staff")
@pytest.mark.parametrize(
    ("purpose", "channel", "reason"),
    [
        (Purpose.MARKETING_COMMUNICATIONS, CampaignChannel.PHONE, "NOTICE-5"),  # opt-out approval only in writing
        (Purpose.MARKETING_SUBSCRIBED, CampaignChannel.EMAIL, "nothing to ask for"),
    ],
)
def test_a_request_for_approval_with_an_unlawful_design_is_refused(
    app: App, purpose: Purpose, channel: CampaignChannel, reason: str
) -> None:
    spec = CampaignSpec(
        "Ask",
        purpose,
        "Fiber",
        offer_category=ServiceCategory.LOCAL,
        channel=channel,
        asks_for_approval=True,
        description="Asking for approval",
    )
    campaign = create_campaign(app.uow(), app.clock, spec, "mia")
    with pytest.raises(InvalidInput, match=reason):
        submit_campaign(app.uow(), app.clock, campaign.id, "mia")


@pytest.mark.usefixtures("staff")
def test_the_export_gives_each_customer_s_contact_for_the_channel_and_counts_those_it_cannot_reach(
    app: App, actor: Actor
) -> None:
    reachable = a_customer(app, actor, name="By Post", at=T0 - timedelta(days=100))
    unreachable = a_customer(
        app,
        actor,
        name="No Post",
        telephone_numbers=("+12025550188",),
        postal_addresses=(),
        at=T0 - timedelta(days=100),
    )
    for customer in (reachable, unreachable):
        record_event(app.uow(), app.clock, actor, customer.id, K.OPT_IN, Channel.WEB, at=T0 - timedelta(days=50))
    spec = replace(COMMUNICATIONS, name="Letters", channel=CampaignChannel.MAIL)
    campaign = approved(app, spec)
    build_audience(app.uow(), app.clock, actor, campaign.id)
    done = export_audience(app.uow(), app.clock, actor, campaign.id)
    assert [(r.customer_id, r.name, r.contact) for r in done.rows] == [
        (reachable.id, "By Post", "12 Analytical Way, Springfield, IL 62701")
    ]
    assert done.removed == {"no contact of record for the channel": 1}


@pytest.mark.usefixtures("staff")
def test_the_audience_criterion_keeps_only_customers_who_subscribe_to_the_segment(app: App, actor: Actor) -> None:
    wireless = a_customer(
        app, actor, name="Wireless", services=(ServiceCategory.WIRELESS,), at=T0 - timedelta(days=100)
    )
    local = a_customer(app, actor, name="Local", telephone_numbers=("+12025550189",), at=T0 - timedelta(days=100))
    for customer in (wireless, local):
        record_event(app.uow(), app.clock, actor, customer.id, K.OPT_IN, Channel.WEB, at=T0 - timedelta(days=50))
    spec = CampaignSpec(
        "Wireless upgrade",
        Purpose.MARKETING_COMMUNICATIONS,
        "5G plan",
        description="An upgrade offer for wireless customers",
        segment=ServiceCategory.WIRELESS,
    )
    campaign = approved(app, spec)
    outcome = build_audience(app.uow(), app.clock, actor, campaign.id)
    with app.uow() as uow:
        assert uow.campaigns.audience(campaign.id) == [wireless.id] and outcome.included == 1
    [row] = [r for r in campaign_report(app.uow()) if r["campaign"] == str(campaign.id)]
    assert row["segment"] == "wireless" and row["description"] == "An upgrade offer for wireless customers"
