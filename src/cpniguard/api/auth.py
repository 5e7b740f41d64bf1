"""API keys on every route but /health and /docs: who calls, and may they do this.

The key arrives as `X-API-Key: <secret>` or `Authorization: Bearer <secret>`. The key that
authenticates becomes the `Actor` the service functions receive, so the ledger names the
calling system (house rule 5).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from cpniguard.access.model import digest
from cpniguard.access.service import authenticate
from cpniguard.actors import Actor
from cpniguard.errors import Forbidden, Unauthorized

ADMIN = "admin"  # implies every other scope

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key's secret (cpg_...).")
bearer = HTTPBearer(auto_error=False, description="The same secret as a bearer token.")


class KeyCache:
    """Successful key lookups, kept in this process for `ttl` seconds, keyed by the digest.

    Every check request is authenticated, and the check is the hot path, so a lookup is not
    repeated for each one. The price: a revoked key keeps working in each API process for at
    most `ttl` seconds after `cpniguard api-keys revoke`. Failed lookups are never cached, so a
    new key works at once and guessed secrets cannot fill the cache.
    """

    def __init__(self, ttl: float, timer: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._timer = timer  # monotonic: an expiry is a duration, not a moment on the Clock
        self._actors: dict[str, tuple[float, Actor]] = {}

    def get(self, key_digest: str) -> Actor | None:
        found = self._actors.get(key_digest)
        if found is None:
            return None
        if self._timer() >= found[0]:
            self._actors.pop(key_digest, None)
            return None
        return found[1]

    def put(self, key_digest: str, actor: Actor) -> None:
        if self._ttl > 0:
            self._actors[key_digest] = (self._timer() + self._ttl, actor)


def presented_secret(api_key: str | None, credentials: HTTPAuthorizationCredentials | None) -> str:
    secret = api_key or (credentials.credentials if credentials else None)
    if not secret:
        raise Unauthorized("an API key is required: send X-API-Key or Authorization: Bearer")
    return secret.strip()


def secret_in(headers: Mapping[str, str]) -> str:
    """The secret of a request's headers, read as `caller` reads them; 401 without one."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    return presented_secret(headers.get("x-api-key") or (credentials if scheme.lower() == "bearer" else None), None)


async def caller(
    request: Request,
    api_key: Annotated[str | None, Security(api_key_header)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
) -> Actor:
    """The actor behind the presented key; 401 when there is none, or it is unknown or revoked."""
    return await actor_for(request.app.state, presented_secret(api_key, credentials))


async def actor_for(state: Any, secret: str) -> Actor:
    """The actor of a secret, from the cache or (on a miss) the database."""
    cache: KeyCache = state.key_cache
    key_digest = digest(secret)
    actor = cache.get(key_digest)
    if actor is None:
        app = state.cpniguard
        # A cache miss reads the database; off the event loop, so other requests go on.
        actor = await run_in_threadpool(authenticate, app.uow(), app.clock, secret)
        cache.put(key_digest, actor)
    return actor


def permits(actor: Actor, scope: str) -> bool:
    return scope in actor.roles or ADMIN in actor.roles


def require_scope(actor: Actor, scope: str) -> Actor:
    if not permits(actor, scope):
        raise Forbidden(f"this API key lacks the {scope!r} scope")
    return actor


def scoped(scope: str) -> Callable[..., Coroutine[Any, Any, Actor]]:
    """A dependency giving the caller's actor when its key has `scope` (or admin), else 403."""

    async def actor_with_scope(actor: Annotated[Actor, Depends(caller)]) -> Actor:
        return require_scope(actor, scope)

    return actor_with_scope


Reader = Annotated[Actor, Depends(scoped("read"))]
Writer = Annotated[Actor, Depends(scoped("write"))]
Decider = Annotated[Actor, Depends(scoped("decide"))]
Auditor = Annotated[Actor, Depends(scoped("audit"))]
Authenticator = Annotated[Actor, Depends(scoped("authenticate"))]
