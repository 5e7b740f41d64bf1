"""Liveness for load balancers: no key needed, and it touches the database."""

from __future__ import annotations

from fastapi import APIRouter

from cpniguard.api.deps import AppDep
from cpniguard.api.errors import ERROR_RESPONSES
from cpniguard.api.responses import HealthOut
from cpniguard.db.migrate import current_revision

router = APIRouter(tags=["system"], responses={503: ERROR_RESPONSES[503]})


@router.get("/health")
def health(app: AppDep) -> HealthOut:
    """ok, with the schema revision; 503 when the database cannot be reached."""
    return HealthOut(status="ok", schema_revision=current_revision(app.engine))
