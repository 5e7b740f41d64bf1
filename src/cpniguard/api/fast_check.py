"""The check route without FastAPI's routing, dependency and validation machinery.

`POST /customers/{id}/checks` is the hot path every calling system hits once per use of CPNI.
Measured under wrk, FastAPI's per-request machinery cost as much CPU as deciding and
committing the check itself. This ASGI middleware answers that one route directly, ahead of
every other middleware (app.Api), with the same parts the FastAPI route uses: the API-key
cache and scope rule (auth.py), the body model (bodies.CheckIn), the error table (errors.py)
and the group-commit queue (gate_queue.py).
The FastAPI route stays: it documents the call in OpenAPI and serves it if this is removed.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from cpniguard.api.auth import actor_for, require_scope
from cpniguard.api.bodies import CheckIn
from cpniguard.api.deps import parse_moment
from cpniguard.api.errors import UNEXPECTED, detail_of, field_problem, status_of
from cpniguard.api.gate_queue import GateQueue
from cpniguard.decisions.service import Check
from cpniguard.errors import InvalidInput, Unauthorized
from cpniguard.ids import parse_customer_id
from cpniguard.views import decision_view

LOG = logging.getLogger("cpniguard.api")
PATH = re.compile(r"^/customers/([^/]+)/checks$")
JSON = (b"content-type", b"application/json")
MAX_BODY = 64 * 1024

Answer = tuple[int, dict[str, Any], list[tuple[bytes, bytes]]]


class FastCheck:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = PATH.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        status, body, headers = await self._answer(scope, receive, match.group(1))
        await send({"type": "http.response.start", "status": status, "headers": [JSON, *headers]})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    async def _answer(self, scope: Scope, receive: Receive, customer_text: str) -> Answer:
        state = scope["app"].state
        try:
            actor = require_scope(await actor_for(state, _secret(scope)), "decide")
            customer = parse_customer_id(customer_text)
            item = _body(await _read(receive))
            at = parse_moment(item.at) if item.at is not None else None
            queue: GateQueue = state.gate_queue
            decided_at, decision = await queue.check(Check(actor, customer, item.request(), at))
        except Exception as exc:  # the same table and body as every other route's refusals
            status, code = status_of(exc)
            if status == 500:  # a bug: logged with its traceback, answered without its text
                LOG.exception("unexpected error on the check route")
                return status, {"error": code, "detail": UNEXPECTED}, []
            headers = [(b"www-authenticate", b"Bearer")] if status == 401 else []
            return status, {"error": code, "detail": detail_of(exc)}, headers
        return 200, decision_view(decision, str(customer), decided_at), []


def _secret(scope: Scope) -> str:
    headers: dict[bytes, bytes] = dict(scope["headers"])
    secret = headers.get(b"x-api-key", b"").decode("latin-1").strip()
    if not secret:
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        secret = token.strip() if scheme.lower() == "bearer" else ""
    if not secret:
        raise Unauthorized("an API key is required: send X-API-Key or Authorization: Bearer")
    return secret


async def _read(receive: Receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise InvalidInput("request body too large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _body(raw: bytes) -> CheckIn:
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:  # worded as FastAPI words it on other routes
        where = getattr(exc, "pos", 0)
        reason = getattr(exc, "msg", "not UTF-8")
        raise InvalidInput(f"request body: JSON decode error ({reason}) at character {where}") from None
    try:
        return CheckIn.model_validate(parsed)
    except ValidationError as exc:
        raise InvalidInput("; ".join(field_problem({**e, "loc": ("body", *e["loc"])}) for e in exc.errors())) from None
