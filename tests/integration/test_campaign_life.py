"""The end of a campaign's life and its records, on SQLite and PostgreSQL: completion with its
moment kept, archiving, the SAFE-3 fields at submission, the frozen audience of a running
campaign left as it is, exclusions counted by reason in the report, dates in Eastern time."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import select, text

from cpniguard.actors import Actor
from cpniguard.bootstrap import App
from cpniguard.campaigns.closing import archive_campaign, complete_campaign
from cpniguard.campaigns.model import Campaign, CampaignChannel, CampaignStatus
from cpniguard.campaigns.report import campaign_disclosures, campaign_report
from cpniguard.campaigns.review_queue import campaign_record
from cpniguard.campaigns.service import (
    build_audience,
    create_campaign,
    export_audience,
    review_campaign,
    submit_campaign,
)
from cpniguard.clock import FixedClock
from cpniguard.db import tables as t
from cpniguard.db.migrate import alembic_config, upgrade
from cpniguard.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.conftest import T0
from tests.integration.test_campaigns import (  # noqa: F401 - staff is a fixture
    COMMUNICATIONS,
    THIRD_PARTY,
    approved,
    customers,
    staff,
    status_of,
)

pytestmark = pytest.mark.usefixtures("staff")


def running(app: App, actor: Actor, spec: object = COMMUNICATIONS) -> Campaign:
    campaign = approved(app, spec)  # type: ignore[arg-type]
    build_audience(app.uow(), app.clock, actor, campaign.id)
    export_audience(app.uow(), app.clock, actor, campaign.id)
    return campaign


def history(app: App, campaign: uuid.UUID) -> list[tuple[str, str, str]]:
    with app.uow() as uow:
        return [(e.status, e.by, e.reason) for e in uow.campaigns.events(campaign)]


def test_a_running_campaign_is_completed_with_its_moment_and_then_archived(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customers(app, actor)
    campaign = running(app, actor)
    clock.move_to(T0 + timedelta(days=20))
    completed = complete_campaign(app.uow(), app.clock, campaign.id, "mia", "all offers sent")
    assert (completed.status, completed.completed_at) == (CampaignStatus.COMPLETED, T0 + timedelta(days=20))
    with app.uow() as uow:
        stored = uow.campaigns.get(campaign.id)
    assert stored is not None and stored.completed_at == T0 + timedelta(days=20)
    clock.move_to(T0 + timedelta(days=21))
    archived = archive_campaign(app.uow(), app.clock, campaign.id, "cora")
    assert archived.status is CampaignStatus.ARCHIVED and archived.completed_at == T0 + timedelta(days=20)
    assert history(app, campaign.id)[-2:] == [("completed", "mia", "all offers sent"), ("archived", "cora", "archived")]
    with app.uow() as uow:
        actions = [e.action for e in uow.audit.find(None, "campaigns:campaign:", 50)]
    assert {"campaigns:campaign:completed", "campaigns:campaign:archived"} <= set(actions)


def test_only_a_running_campaign_completes_and_a_running_one_is_not_archived(app: App, actor: Actor) -> None:
    customers(app, actor)
    ready = approved(app)
    with pytest.raises(Conflict, match=r"^an approved campaign cannot become completed$"):
        complete_campaign(app.uow(), app.clock, ready.id, "mia")
    export_ready = running(app, actor)
    with pytest.raises(Conflict, match=r"^a running campaign cannot become archived$"):
        archive_campaign(app.uow(), app.clock, export_ready.id, "mia")
    with pytest.raises(Forbidden, match="al may not complete campaigns"):
        complete_campaign(app.uow(), app.clock, export_ready.id, "al")
    with pytest.raises(NotFound, match="unknown campaign"):
        complete_campaign(app.uow(), app.clock, uuid.uuid4(), "mia")
    assert status_of(app, export_ready.id) is CampaignStatus.RUNNING
    assert archive_campaign(app.uow(), app.clock, ready.id, "mia", "never ran").status is CampaignStatus.ARCHIVED


def test_safe_3_a_campaign_without_a_description_is_not_submitted_and_stays_a_draft(app: App) -> None:
    campaign = create_campaign(app.uow(), app.clock, replace(COMMUNICATIONS, description=" "), "mia")
    with pytest.raises(InvalidInput, match=r"needs a description \(SAFE-3"):
        submit_campaign(app.uow(), app.clock, campaign.id, "mia")
    assert history(app, campaign.id) == [("draft", "mia", "created")]


def test_the_frozen_audience_of_a_running_campaign_is_not_built_again(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customers(app, actor)
    campaign = approved(app)
    build_audience(app.uow(), app.clock, actor, campaign.id)
    clock.move_to(T0 + timedelta(hours=1))
    build_audience(app.uow(), app.clock, actor, campaign.id)  # before the first export: replaced
    export_audience(app.uow(), app.clock, actor, campaign.id)
    with app.uow() as uow:
        before = (sorted(uow.campaigns.audience(campaign.id)), uow.campaigns.audience_built(campaign.id))
    clock.move_to(T0 + timedelta(hours=2))
    with pytest.raises(Conflict, match="the campaign is running: its frozen audience is the record"):
        build_audience(app.uow(), app.clock, actor, campaign.id)
    with app.uow() as uow:
        assert (sorted(uow.campaigns.audience(campaign.id)), uow.campaigns.audience_built(campaign.id)) == before
    assert before[1] == (T0 + timedelta(hours=1), T0 + timedelta(hours=1))


def test_the_exclusions_are_kept_with_the_snapshot_and_the_report_shows_them_with_eastern_dates(
    app: App, actor: Actor, clock: FixedClock
) -> None:
    customers(app, actor)
    late = datetime(2026, 3, 3, 2, 30, tzinfo=T0.tzinfo)  # 21:30 on 2 March in New York
    clock.move_to(late)
    campaign = approved(app)
    built = build_audience(app.uow(), app.clock, actor, campaign.id)
    record = campaign_record(app.uow(), campaign.id)
    assert record.audience is not None
    assert (record.audience.included, record.audience.excluded) == (3, built.denied)
    assert built.denied["customer objected"] == 1 and sum(built.denied.values()) == 3
    [row] = [r for r in campaign_report(app.uow()) if r["campaign"] == str(campaign.id)]
    assert row["audience"] == "3" and row["audience_built_on"] == "2026-03-02"
    assert row["excluded"] == "; ".join(f"{reason}: {n}" for reason, n in sorted(built.denied.items()))
    assert row["reviews"] == "approved by cora on 2026-03-02: checked against CONSENT-4"
    assert row["channel"] == "email" and row["completed_on"] == ""
    with app.engine.connect() as conn:
        stored = conn.execute(select(t.campaigns.c.audience_excluded).where(t.campaigns.c.id == campaign.id))
        assert json.loads(stored.scalar_one()) == built.denied


def test_safe_3_the_disclosures_of_a_campaign_are_listed(app: App, actor: Actor) -> None:
    made = customers(app, actor)
    campaign = running(app, actor, THIRD_PARTY)
    found = campaign_disclosures(app.uow(), campaign.id)
    assert {d.customer_id for d in found} == {made["opted_in"].id, made["opted_in_too"].id}
    assert {(d.recipient, d.categories, d.by) for d in found} == {("third-party", "services", actor.label)}
    with pytest.raises(NotFound):
        campaign_disclosures(app.uow(), uuid.uuid4())


def test_a_channel_stored_before_it_was_an_enumeration_becomes_email_as_the_export_treated_it(app: App) -> None:
    campaign = create_campaign(app.uow(), app.clock, COMMUNICATIONS, "mia")
    config = alembic_config(app.engine)
    command.downgrade(config, "0007")
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE campaigns SET channel = 'fax'"))
    upgrade(app.engine)
    with app.uow() as uow:
        stored = uow.campaigns.get(campaign.id)
    assert stored is not None and stored.channel is CampaignChannel.EMAIL


def test_a_reviewed_campaign_cannot_be_reviewed_again(app: App) -> None:
    campaign = approved(app)
    with pytest.raises(Conflict, match=r"^an approved campaign cannot become rejected$"):
        review_campaign(app.uow(), app.clock, campaign.id, "cora", False, "second thoughts")
