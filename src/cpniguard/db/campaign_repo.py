"""Staff users and marketing campaigns in SQL: transitions and disclosures are append-only."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from cpniguard.access.model import User
from cpniguard.campaigns.model import Campaign, CampaignChannel, CampaignStatus, Recipient
from cpniguard.customers.model import ServiceCategory
from cpniguard.db import audience_sets
from cpniguard.db import tables as t
from cpniguard.decisions.model import Purpose
from cpniguard.ports import AudienceSnapshot, CampaignEvent, Disclosure

LIFE_ORDER = {status.value: i for i, status in enumerate(CampaignStatus)}


class SqlUserRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, user: User) -> None:
        self._conn.execute(insert(t.users), [{**asdict(user), "roles": ",".join(sorted(user.roles))}])

    def by_name(self, name: str) -> User | None:
        r = self._conn.execute(select(t.users).where(t.users.c.name == name)).first()
        return _user(r) if r else None

    def all(self) -> list[User]:
        return [_user(r) for r in self._conn.execute(select(t.users).order_by(t.users.c.name))]

    def set_roles(self, user_id: uuid.UUID, roles: frozenset[str]) -> None:
        self._conn.execute(update(t.users).where(t.users.c.id == user_id).values(roles=",".join(sorted(roles))))


def _user(r: Any) -> User:
    roles = frozenset(filter(None, r.roles.split(",")))
    return User(r.id, r.name, roles, r.created_at, r.corporate_officer, r.title)


def _campaign(r: Any) -> Campaign:
    return Campaign(
        r.id,
        r.name,
        Purpose(r.purpose),
        r.offer,
        ServiceCategory(r.offer_category) if r.offer_category else None,
        r.communications_related,
        tuple(filter(None, r.cpni.split(","))),
        tuple(Recipient(x) for x in filter(None, r.recipients.split(","))),
        CampaignChannel(r.channel),
        r.owner,
        r.created_at,
        CampaignStatus(r.status),
        r.submitted_by,
        r.asks_for_approval,
        r.description,
        ServiceCategory(r.segment) if r.segment else None,
        r.completed_at,
    )


def _row(c: Campaign) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "purpose": c.purpose.value,
        "offer": c.offer,
        "offer_category": c.offer_category.value if c.offer_category else None,
        "communications_related": c.communications_related,
        "cpni": ",".join(c.cpni),
        "recipients": ",".join(r.value for r in c.recipients),
        "channel": c.channel.value,
        "owner": c.owner,
        "created_at": c.created_at,
        "status": c.status.value,
        "submitted_by": c.submitted_by,
        "asks_for_approval": c.asks_for_approval,
        "description": c.description,
        "segment": c.segment.value if c.segment else None,
        "completed_at": c.completed_at,
    }


class SqlCampaignRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, campaign: Campaign) -> None:
        self._conn.execute(insert(t.campaigns), [_row(campaign)])

    def get(self, campaign_id: uuid.UUID) -> Campaign | None:
        r = self._conn.execute(select(t.campaigns).where(t.campaigns.c.id == campaign_id)).first()
        return _campaign(r) if r else None

    def all(self) -> list[Campaign]:
        c = t.campaigns.c
        return [_campaign(r) for r in self._conn.execute(select(t.campaigns).order_by(c.created_at, c.id))]

    def save(self, campaign: Campaign) -> None:
        c = t.campaigns.c
        self._conn.execute(
            update(t.campaigns)
            .where(c.id == campaign.id)
            .values(
                status=campaign.status.value, submitted_by=campaign.submitted_by, completed_at=campaign.completed_at
            )
        )

    def add_event(self, event: CampaignEvent) -> None:
        self._conn.execute(insert(t.campaign_events), [{"id": uuid.uuid4(), **asdict(event)}])

    def events(self, campaign_id: uuid.UUID) -> list[CampaignEvent]:
        c = t.campaign_events.c
        rows = self._conn.execute(select(t.campaign_events).where(c.campaign_id == campaign_id))
        events = [CampaignEvent(r.campaign_id, r.status, r.by, r.at, r.reason) for r in rows]
        # Statuses only move forward in the enumeration's order, so it orders two transitions
        # recorded in the same microsecond (a fixed clock, or a fast script).
        return sorted(events, key=lambda e: (e.at, LIFE_ORDER.get(e.status, len(LIFE_ORDER))))

    def freeze_audience(
        self,
        campaign_id: uuid.UUID,
        customers: Sequence[str],
        excluded: Mapping[str, int],
        built_at: datetime,
        at: datetime,
    ) -> None:
        audience_sets.add(self._conn, campaign_id, (uuid.UUID(x) for x in customers))
        c = t.campaigns.c
        counts = json.dumps(dict(sorted(excluded.items())))
        self._conn.execute(
            update(t.campaigns)
            .where(c.id == campaign_id)
            .values(audience_built_at=built_at, audience_for=at, audience_excluded=counts)
        )

    def clear_audience(self, campaign_id: uuid.UUID) -> None:
        audience_sets.clear(self._conn, campaign_id)

    def audience(self, campaign_id: uuid.UUID) -> list[uuid.UUID]:
        return audience_sets.read(self._conn, campaign_id)

    def audience_built(self, campaign_id: uuid.UUID) -> tuple[datetime, datetime] | None:
        c = t.campaigns.c
        r = self._conn.execute(select(c.audience_built_at, c.audience_for).where(c.id == campaign_id)).first()
        return (r.audience_built_at, r.audience_for) if r and r.audience_built_at else None

    def audience_snapshot(self, campaign_id: uuid.UUID) -> AudienceSnapshot | None:
        c, a = t.campaigns.c, t.campaign_audiences.c
        included = select(a.included).where(a.campaign_id == campaign_id).scalar_subquery()
        query = select(c.audience_built_at, c.audience_for, c.audience_excluded, included.label("included"))
        r = self._conn.execute(query.where(c.id == campaign_id)).first()
        if r is None or r.audience_built_at is None:
            return None
        excluded = {str(k): int(v) for k, v in json.loads(r.audience_excluded or "{}").items()}
        return AudienceSnapshot(r.audience_built_at, r.audience_for, int(r.included or 0), excluded)

    def add_disclosures(self, disclosures: Sequence[Disclosure]) -> None:
        if disclosures:
            self._conn.execute(insert(t.disclosures), [{"id": uuid.uuid4(), **asdict(d)} for d in disclosures])

    def disclosure_count(self, campaign_id: uuid.UUID) -> int:
        d = t.disclosures.c
        return int(self._conn.execute(select(func.count()).where(d.campaign_id == campaign_id)).scalar_one())

    def disclosures(self, campaign_id: uuid.UUID) -> list[Disclosure]:
        d = t.disclosures.c
        rows = self._conn.execute(
            select(t.disclosures).where(d.campaign_id == campaign_id).order_by(d.at, d.export_id, d.customer_id)
        )
        return [
            Disclosure(r.campaign_id, r.customer_id, r.recipient, r.categories, r.at, r.by, r.export_id) for r in rows
        ]
