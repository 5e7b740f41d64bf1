"""`cpniguard backup` and `cpniguard restore`: the whole database, without the audit signing key."""

from __future__ import annotations

from pathlib import Path

import typer

from cpniguard.audit.service import record_admin_event
from cpniguard.cli.common import JSON_OPTION, emit, fail, state
from cpniguard.db import backup as backups
from cpniguard.db.migrate import current_revision, head_revision


def backup(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="The backup file to write (replaced atomically if it exists)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a consistent copy of the database while it runs: the SQLite online backup API, or
    pg_dump --format=custom (only the schema the URL's search_path names, if it names one).
    The audit signing key is NOT in the backup: keep it apart, as a stolen backup must not sign."""
    st = state(ctx)
    app = st.app()
    try:
        made = backups.backup(app.engine, out)
    except backups.BackupFailed as exc:
        fail(str(exc), code=1)
    record_admin_event(app.uow(), app.clock, st.actor(), "admin:backup:made", _details(made))
    emit({"backup": made.path, "bytes": made.bytes, "sha256": made.sha256}, as_json)


def restore(
    ctx: typer.Context,
    source: Path = typer.Argument(..., help="A file written by `cpniguard backup` for the same backend."),
    force: bool = typer.Option(False, "--force", help="Replace the content of a database that is not empty."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Replace the database's content with a backup, in one transaction (nothing half-written).
    Stop the API and workers first (on PostgreSQL a restore refuses while they are connected).
    The audit signing key is not restored: keep the one you have.
    The restore is then recorded in the restored ledger (admin:backup:restored)."""
    st = state(ctx)
    app = st.app(migrated=False)
    try:
        restored = backups.restore(app.engine, source, force=force)
    except backups.BackupFailed as exc:
        fail(str(exc), code=1)
    revision = current_revision(app.engine)
    recorded = revision == head_revision(app.engine)
    if recorded:  # an older backup is recorded once `cpniguard init` has brought it up to date
        record_admin_event(app.uow(), app.clock, st.actor(), "admin:backup:restored", _details(restored))
    emit({"restored": restored.path, "sha256": restored.sha256, "revision": revision, "recorded": recorded}, as_json)


def _details(made: backups.BackupFile) -> dict[str, object]:
    return {"file": Path(made.path).name, "bytes": made.bytes, "sha256": made.sha256}
