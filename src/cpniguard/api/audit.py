"""The audit ledger over HTTP: verify the chain, search entries, sign a checkpoint."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from cpniguard.api.auth import Auditor
from cpniguard.api.deps import AppDep
from cpniguard.api.errors import ERROR_RESPONSES
from cpniguard.api.responses import CheckpointOut, EntryOut, VerificationOut
from cpniguard.audit.service import checkpoint, search, verify
from cpniguard.views import checkpoint_view, entry_view, verification_view

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERROR_RESPONSES)


@router.get("/verify")
def verify_chain(app: AppDep, actor: Auditor) -> VerificationOut:
    """Re-hash every stored entry and check the signed checkpoints; `ok` is false when tampered."""
    return VerificationOut.model_validate(verification_view(verify(app.uow(), app.verifier)))


@router.get("/entries")
def entries(
    app: AppDep,
    actor: Auditor,
    customer: Annotated[uuid.UUID | None, Query(description="Only this customer's entries")] = None,
    action: Annotated[str | None, Query(description="A tag or its start, e.g. decisions:cpni-use")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
) -> list[EntryOut]:
    """The newest entries first, by customer and action."""
    return [EntryOut.model_validate(entry_view(e)) for e in search(app.uow(), customer, action, limit)]


@router.post("/checkpoints", status_code=201)
def sign_checkpoint(app: AppDep, actor: Auditor) -> CheckpointOut:
    """Sign the current head of the chain now."""
    return CheckpointOut.model_validate(checkpoint_view(checkpoint(app.uow(), app.clock, actor, app.sign_checkpoint)))
