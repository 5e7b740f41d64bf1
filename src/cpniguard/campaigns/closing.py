"""The end of a campaign's life: running, completed, archived.

Completing a campaign records the moment its records start their year (SAFE-3, SAFE-4: at
least a year; AMB-8: approval records while in effect and a year after): the purge keeps its
audience snapshot until a year after that moment, and its events and disclosures for good.
Archiving only files it away; a draft, an approved campaign that never ran, a rejected one or a
completed one may be archived, a running one is completed first.
"""

from __future__ import annotations

import uuid

from cpniguard.campaigns.model import Campaign, CampaignStatus
from cpniguard.campaigns.service import MAKERS, _campaign, _record, _user
from cpniguard.clock import Clock
from cpniguard.errors import Forbidden
from cpniguard.ports import UnitOfWork
from cpniguard.text import clean_text

CLOSERS = MAKERS


def complete_campaign(uow: UnitOfWork, clock: Clock, campaign_id: uuid.UUID, by: str, reason: str = "") -> Campaign:
    """A running campaign has reached everyone it will reach; its completion moment is kept."""
    now = clock.now()
    why = clean_text(reason, "a reason", 0, 2000) or "completed"
    with uow:
        user = _user(uow, by)
        _may_close(user.name, user.roles, "complete")
        completed = _campaign(uow, campaign_id).completed(now)
        uow.campaigns.save(completed)
        _record(uow, completed, user, now, why)
        uow.commit()
    return completed


def archive_campaign(uow: UnitOfWork, clock: Clock, campaign_id: uuid.UUID, by: str, reason: str = "") -> Campaign:
    """Files a campaign away; its records stay (the purge keeps them, SAFE-3)."""
    now = clock.now()
    why = clean_text(reason, "a reason", 0, 2000) or "archived"
    with uow:
        user = _user(uow, by)
        _may_close(user.name, user.roles, "archive")
        archived = _campaign(uow, campaign_id).moved(CampaignStatus.ARCHIVED)
        uow.campaigns.save(archived)
        _record(uow, archived, user, now, why)
        uow.commit()
    return archived


def _may_close(name: str, roles: frozenset[str], what: str) -> None:
    if not roles & CLOSERS:
        raise Forbidden(f"{name} may not {what} campaigns (marketing, cro, supervisor or admin)")
