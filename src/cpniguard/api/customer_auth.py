"""Customer authentication over HTTP: one-time codes, credentials, lock status, alerts.

Customer-facing systems (IVR, portal) hold the `authenticate` scope. What they get back from
a verification is `verified` alone: a wrong secret, an unknown customer and a locked channel
answer the same (AUTH-1). Staff with the `read` scope can ask whether a channel is locked.
Secrets travel in request bodies, never in URLs, and are never returned or logged.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from cpniguard.api.auth import Authenticator, Reader, Writer
from cpniguard.api.bodies import Body
from cpniguard.api.deps import AppDep
from cpniguard.api.errors import ERROR_RESPONSES
from cpniguard.api.responses import Out, Time
from cpniguard.auth.codes import CodePurpose
from cpniguard.auth.lockout import locked_until
from cpniguard.auth.model import CredentialKind, VerifiedBy
from cpniguard.auth.photo_id import PhotoId, PhotoIdKind
from cpniguard.auth.service import confirm_code, send_code, set_credential, verify_credential
from cpniguard.errors import NotFound
from cpniguard.ids import CustomerId, parse_customer_id
from cpniguard.views import alert_view, iso

router = APIRouter(tags=["authentication"], responses=ERROR_RESPONSES)


class PhotoIdIn(Body):
    kind: PhotoIdKind = PhotoIdKind.DRIVERS_LICENCE
    name: str = Field(max_length=200)
    expires_on: date

    def photo_id(self) -> PhotoId:
        return PhotoId(self.kind, self.name, self.expires_on)


class CodeIn(Body):
    purpose: CodePurpose = CodePurpose.SET_CREDENTIAL


class CodeOut(Out):
    code_id: str
    channel: str = Field(description="Where the code went: sms, email or letter (a contact of record)")
    expires_at: Time


class ConfirmIn(Body):
    code: str = Field(min_length=1, max_length=20)


class ConfirmOut(Out):
    confirmed: bool


class CredentialIn(Body):
    secret: str = Field(min_length=1, max_length=200, description="Never stored or returned: hashed with argon2id")
    verified_by: VerifiedBy = Field(description="How the customer proved who they are first (AUTH-7)")
    question: str | None = Field(default=None, max_length=200, description="The backup question, for backup-answer")
    photo_id: PhotoIdIn | None = Field(default=None, description="For verified_by photo-id")


class CredentialOut(Out):
    customer_id: str
    kind: str
    verified_by: str
    set_at: Time


class SecretIn(Body):
    secret: str = Field(min_length=1, max_length=200)


class VerifiedOut(Out):
    verified: bool = Field(description="False for a wrong secret, an unknown customer or a locked channel alike")


class LockOut(Out):
    kind: str
    locked: bool
    locked_until: Time | None


class AlertOut(Out):
    id: str
    customer_id: str | None
    kind: str
    raised_at: Time
    details: str
    resolved_at: Time | None


@router.post("/customers/{customer_id}/codes", status_code=201)
def send_one_time_code(customer_id: str, body: CodeIn, app: AppDep, actor: Authenticator) -> CodeOut:
    """Send a single-use code to a contact of record (AUTH-7; for a forgotten secret, AMB-5)."""
    sent = send_code(app.uow(), app.clock, actor, app.auth, parse_customer_id(customer_id), body.purpose.value)
    return CodeOut(code_id=sent.code_id, channel=sent.channel, expires_at=sent.expires_at.isoformat())


@router.post("/customers/{customer_id}/codes/confirm")
def confirm_one_time_code(customer_id: str, body: ConfirmIn, app: AppDep, actor: Authenticator) -> ConfirmOut:
    """The code the customer read back: confirmed or not (each try counts against the code)."""
    return ConfirmOut(confirmed=confirm_code(app.uow(), app.clock, actor, parse_customer_id(customer_id), body.code))


@router.put("/customers/{customer_id}/credentials/{kind}")
def set_secret(customer_id: str, kind: CredentialKind, body: CredentialIn, app: AppDep, actor: Writer) -> CredentialOut:
    """Set or replace a password, PIN or backup answer; announced unless chosen at service initiation."""
    photo = body.photo_id.photo_id() if body.photo_id else None
    made = set_credential(
        app.uow(),
        app.clock,
        actor,
        app.auth,
        parse_customer_id(customer_id),
        kind,
        body.secret,
        body.verified_by,
        body.question,
        photo,
    )
    return CredentialOut(
        customer_id=str(made.customer_id),
        kind=made.kind.value,
        verified_by=made.verified_by.value,
        set_at=made.set_at.isoformat(),
    )


@router.post("/customers/{customer_id}/credentials/{kind}/verify")
def verify_secret(
    customer_id: str, kind: CredentialKind, body: SecretIn, app: AppDep, actor: Authenticator
) -> VerifiedOut:
    """Check a secret. The answer is the same for a wrong secret, an unknown customer and a lock."""
    try:
        customer = parse_customer_id(customer_id)
    except NotFound:  # a malformed id is an unknown customer, answered alike
        customer = CustomerId(uuid.UUID(int=0))
    result = verify_credential(app.uow, app.clock, actor, app.auth, customer, kind, body.secret)
    return VerifiedOut(verified=result.verified)


@router.get("/customers/{customer_id}/credentials/{kind}/lock")
def lock_status(customer_id: str, kind: CredentialKind, app: AppDep, actor: Reader) -> LockOut:
    """Staff only: whether the channel is locked after failed attempts (AUTH-1), and until when."""
    customer = parse_customer_id(customer_id)
    now = app.clock.now()
    policy = app.auth.lockout
    with app.uow() as uow:
        attempts = uow.auth.attempts(customer, kind.value, now - policy.window - policy.lock_for)
    until = locked_until(policy, attempts, now)
    return LockOut(kind=kind.value, locked=until is not None, locked_until=iso(until))


@router.get("/alerts")
def alerts(
    app: AppDep,
    actor: Reader,
    customer: Annotated[str | None, Query(description="Only this customer's alerts")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[AlertOut]:
    """Alerts for staff, newest first: `pretexting-suspected` after a lockout (AUTH-1)."""
    chosen = parse_customer_id(customer) if customer else None
    with app.uow() as uow:
        found = uow.auth.alerts(chosen, limit)
    return [AlertOut.model_validate(alert_view(a)) for a in found]
