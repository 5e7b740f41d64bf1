"""`cpniguard init`, `cpniguard serve` and `cpniguard api-keys ...`."""

from __future__ import annotations

import os

import typer

from cpniguard.access.service import create_api_key, list_api_keys, revoke_api_key
from cpniguard.bootstrap import ensure_cpni_keyring, ensure_signing_key
from cpniguard.cli.common import JSON_OPTION, emit, err, state
from cpniguard.db.migrate import upgrade
from cpniguard.redaction import logging_config
from cpniguard.views import iso

WORKER_HEALTHCHECK_SECONDS = 60
api_keys = typer.Typer(no_args_is_help=True, help="API keys for calling systems (stored hashed).")


def init(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Create or upgrade the database schema to the newest revision; make the audit signing key
    and the CPNI keyring (BREACH23-8) when they are missing. Keep both out of backups."""
    app = state(ctx).app(migrated=False)
    made_key = ensure_signing_key(app.settings)
    made_keyring = ensure_cpni_keyring(app)
    revision = upgrade(app.engine, app.sealer)  # stored call detail is sealed on the way to 0010
    emit(
        {
            "database": app.engine.url.render_as_string(hide_password=True),
            "revision": revision,
            "audit_key_created": made_key,
            "cpni_keyring_created": made_keyring,
        },
        as_json,
    )


def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host"),
    port: int | None = typer.Option(None, "--port"),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="API processes."),
) -> None:
    """Serve the REST API (docs at /docs) with uvicorn."""
    import uvicorn

    st = state(ctx)
    app = st.app()
    if workers > 1 and app.engine.dialect.name == "sqlite":
        # Measured: two processes on one SQLite file answered half as many checks as one,
        # since each commit's disk sync then carries fewer checks (api/gate_queue.py).
        err.print("warning: SQLite has one writer; one API process serves checks fastest")
    if st.database_url:  # the worker processes build their own app from the environment
        os.environ["CPNIGUARD_DATABASE_URL"] = st.database_url
    uvicorn.run(
        "cpniguard.api.app:create_app_from_environment",
        factory=True,
        host=host or app.settings.host,
        port=port or app.settings.port,
        workers=workers,
        log_config=logging_config(),
        access_log=False,  # paths name customers; the ledger, not the access log, records uses
        # uvicorn pings a process it has just restarted at once, and kills it when the answer takes
        # longer than this. Starting one takes 4 s of CPU, 10 s on a loaded 2-core machine: with
        # uvicorn's 5 s, one killed process became a restart every 5 s (benchmarks/soak.py).
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


@api_keys.command("create")
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Who will use the key, e.g. billing-system."),
    scope: list[str] = typer.Option(
        ["read", "decide"], "--scope", help="read, write, decide, audit, authenticate, admin."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a key; its secret is printed once and stored only as a digest."""
    st = state(ctx)
    app = st.app()
    key, secret = create_api_key(app.uow(), app.clock, st.actor(), name, frozenset(scope))
    emit({"name": key.name, "scopes": sorted(key.scopes), "key": secret}, as_json)


@api_keys.command("list")
def list_command(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    app = state(ctx).app()
    emit(
        [
            {
                "name": k.name,
                "scopes": sorted(k.scopes),
                "created_at": iso(k.created_at),
                "revoked_at": iso(k.revoked_at),
            }
            for k in list_api_keys(app.uow())
        ],
        as_json,
    )


@api_keys.command("revoke")
def revoke(ctx: typer.Context, name: str = typer.Argument(...), as_json: bool = JSON_OPTION) -> None:
    st = state(ctx)
    app = st.app()
    key = revoke_api_key(app.uow(), app.clock, st.actor(), name)
    emit({"name": key.name, "revoked": True}, as_json)
