"""`cpniguard audit ...`: verify the chain, sign a checkpoint, search entries."""

from __future__ import annotations

import typer

from cpniguard.audit.service import checkpoint, search, verify
from cpniguard.cli.common import JSON_OPTION, advance, emit, progress, state
from cpniguard.ids import parse_customer_id
from cpniguard.views import checkpoint_view, entry_view, verification_view

audit = typer.Typer(no_args_is_help=True, help="The tamper-evident audit ledger.")


@audit.command("verify")
def verify_command(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Re-hash every stored entry and check the signed checkpoints; exit 1 when it fails."""
    app = state(ctx).app()
    with app.uow() as uow:
        total = uow.audit.count()
    with progress("verifying", total) as bar:
        result = verify(app.uow(), app.verifier, progress=lambda n: advance(bar, n))
    emit(verification_view(result), as_json)
    if not result.ok:
        raise SystemExit(1)


@audit.command("checkpoint")
def checkpoint_command(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Sign the current head of the chain now."""
    st = state(ctx)
    app = st.app()
    emit(checkpoint_view(checkpoint(app.uow(), app.clock, st.actor(), app.sign_checkpoint)), as_json)


@audit.command("search")
def search_command(
    ctx: typer.Context,
    customer: str | None = typer.Option(None, "--customer"),
    action: str | None = typer.Option(None, "--action", help="A tag or its start, e.g. decisions:cpni-use"),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000),
    as_json: bool = JSON_OPTION,
) -> None:
    """The newest entries, by customer and action."""
    app = state(ctx).app()
    cid = parse_customer_id(customer) if customer else None
    emit([entry_view(e) for e in search(app.uow(), cid, action, limit)], as_json)
