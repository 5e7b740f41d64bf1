"""The REST API: `create_app(app)` for a built App, `create_app_from_environment()` for uvicorn.

Nothing is read or connected at import time (house rule 4): `cpniguard serve` hands uvicorn
the factory, and each worker process builds its own App from the environment.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from cpniguard import __version__
from cpniguard.api import (
    audit,
    breaches,
    campaigns,
    certification,
    consent,
    customer_auth,
    decisions,
    docs,
    errors,
    privacy,
    registry,
    sessions,
    system,
)
from cpniguard.api.auth import KeyCache
from cpniguard.api.fast_check import FastCheck
from cpniguard.api.gate_queue import GateQueue
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.jobs.worker import run_worker
from cpniguard.web import install as web

KEY_CACHE_SECONDS = 5.0
# Writer threads per process for the check route (gate_queue.py). On PostgreSQL a second
# transaction reads while the first commits, and takes the audit head's lock as it is released;
# SQLite admits one writer, so a second lane would only wait.
GATE_LANES = {"postgresql": 2}

DESCRIPTION = """CPNI consent, the purpose gate and the audit ledger for a carrier.

Send an API key (`cpniguard api-keys create NAME --scope ...`) as `X-API-Key: <secret>` or
`Authorization: Bearer <secret>`. Scopes: read, write, decide, audit, authenticate (for
customer-facing systems that check secrets); admin implies all.
Every refusal answers `{"error": code, "detail": reason}`."""


Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


class Api(FastAPI):
    """FastAPI with the check route's shortcut (fast_check.py) outside every other middleware.

    FastAPI wraps each request in its error, telemetry and body-limit middleware before any
    added by the app; on the check route they cost more CPU than the decision (measured under
    wrk). The shortcut keeps its own body limit and error table, and passes every other
    request on to the whole stack.
    """

    def build_middleware_stack(self) -> ASGIApp:
        return FastCheck(super().build_middleware_stack())


def create_app(app: App, *, key_cache_seconds: float = KEY_CACHE_SECONDS, lifespan: Lifespan | None = None) -> FastAPI:
    """The API over a built App; a revoked key may keep working for `key_cache_seconds`."""
    api = Api(
        title="cpniguard",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    api.state.cpniguard = app
    api.state.key_cache = KeyCache(key_cache_seconds)
    api.state.gate_queue = GateQueue(app, lanes=GATE_LANES.get(app.engine.dialect.name, 1))
    errors.register(api)
    docs.install(api)
    for module in (
        system,
        registry,
        consent,
        decisions,
        audit,
        customer_auth,
        sessions,
        campaigns,
        breaches,
        privacy,
        certification,
    ):
        api.include_router(module.router)
    web.install(api)
    return api


def create_app_from_environment() -> FastAPI:
    """The factory `cpniguard serve` gives uvicorn: settings from CPNIGUARD_* variables."""
    built = build(load_settings())
    return create_app(built, lifespan=_closing(built))


def _closing(app: App) -> Lifespan:
    """This process built the App, so it closes the engine's connections on shutdown."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Start-up objects (modules, the app) never die: keep them out of the collector's
        # full passes, and collect young objects less often, so a collection does not stall
        # every caller waiting on the gate (it showed in the check endpoint's p99).
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)
        stop = threading.Event()
        delivery = None
        if app.settings.serve_worker:  # `make run` delivers notices without a second command
            delivery = threading.Thread(
                target=run_worker,
                args=(app, False),
                kwargs={"stop": stop.is_set, "wait": stop.wait},
                name="cpniguard-worker",
                daemon=True,
            )
            delivery.start()
        yield
        stop.set()
        if delivery is not None:
            delivery.join(timeout=10)
        app.close()

    return lifespan
