"""API keys for calling systems: create (the secret is shown once), authenticate, revoke."""

from __future__ import annotations

import re

from cpniguard.access.model import SCOPES, ApiKey, digest, new_secret
from cpniguard.actors import Actor
from cpniguard.audit.model import AuditEntry
from cpniguard.clock import Clock
from cpniguard.errors import Conflict, InvalidInput, NotFound, Unauthorized
from cpniguard.ids import new_id
from cpniguard.ports import UnitOfWork

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def create_api_key(
    uow: UnitOfWork, clock: Clock, actor: Actor, name: str, scopes: frozenset[str]
) -> tuple[ApiKey, str]:
    if not NAME.match(name):
        raise InvalidInput("a key name has 1 to 100 letters, digits, dots, dashes or underscores")
    unknown = scopes - SCOPES
    if unknown or not scopes:
        raise InvalidInput(f"scopes must be some of: {', '.join(sorted(SCOPES))}")
    secret = new_secret()
    key = ApiKey(new_id(), name, digest(secret), scopes, clock.now(), actor.label)
    with uow:
        if uow.api_keys.by_name(name) is not None:
            raise Conflict(f"an API key named {name!r} exists already")
        uow.api_keys.add(key)
        uow.audit.add(
            AuditEntry.of(
                "access:api-key:created", actor, key.created_at, details={"name": name, "scopes": sorted(scopes)}
            )
        )
        uow.commit()
    return key, secret


def authenticate(uow: UnitOfWork, clock: Clock, secret: str) -> Actor:
    with uow:
        key = uow.api_keys.by_digest(digest(secret))
    if key is None or not key.active(clock.now()):
        raise Unauthorized("invalid or revoked API key")
    return key.actor()


def revoke_api_key(uow: UnitOfWork, clock: Clock, actor: Actor, name: str) -> ApiKey:
    with uow:
        key = uow.api_keys.by_name(name)
        if key is None:
            raise NotFound(f"unknown API key: {name!r}")
        uow.api_keys.revoke(key.id, clock.now())
        uow.audit.add(AuditEntry.of("access:api-key:revoked", actor, clock.now(), details={"name": name}))
        uow.commit()
    return key


def list_api_keys(uow: UnitOfWork) -> list[ApiKey]:
    with uow:
        return uow.api_keys.all()
