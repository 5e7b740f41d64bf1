"""`cpniguard cpni keys` and `cpniguard cpni rotate-key`: the keys CPNI is sealed with at rest."""

from __future__ import annotations

from dataclasses import asdict

import typer

from cpniguard.cli.common import JSON_OPTION, advance, emit, progress, state
from cpniguard.jobs.cpni_keys import BATCH_SIZE, key_use, rotate_cpni_key

cpni = typer.Typer(no_args_is_help=True, help="CPNI at rest: call detail and bills are sealed (AES-GCM, BREACH23-8).")


@cpni.command("keys")
def keys(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """The keys of the keyring (the current one first) and how many rows each one sealed."""
    app = state(ctx).app()
    used = key_use(app.uow, app.cpni_keys)
    emit({"keyring": app.cpni_keys.where, "keys": [asdict(k) for k in used]}, as_json)


@cpni.command("rotate-key")
def rotate_key(
    ctx: typer.Context,
    batch: int = typer.Option(BATCH_SIZE, "--batch", min=1, max=100_000, help="Rows re-sealed per transaction."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Make a new key current, re-seal every record under it, then retire the old key. Run it
    again after an interruption: it finishes the rotation it began instead of starting another."""
    st = state(ctx)
    app = st.app()
    with progress("re-sealing CPNI", None) as bar:
        done = rotate_cpni_key(app.uow, app.clock, st.actor(), app.cpni_keys, batch, lambda n: advance(bar, n))
    emit({"keyring": app.cpni_keys.where, **asdict(done)}, as_json)
