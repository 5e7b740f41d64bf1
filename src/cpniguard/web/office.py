"""Pages of the office part of the site: the campaign review queue, breaches, the audit ledger
and the dashboard, each in its own module."""

from __future__ import annotations

from fastapi import APIRouter

from cpniguard.web import office_audit, office_breach_steps, office_breaches, office_campaigns

router = APIRouter(include_in_schema=False)
for part in (office_campaigns, office_breaches, office_breach_steps, office_audit):
    router.include_router(part.router)
