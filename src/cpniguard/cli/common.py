"""What every command shares: the app built from settings, output, progress, errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cpniguard.actors import Actor
from cpniguard.bootstrap import App, build, load_settings
from cpniguard.calendar import parse_when
from cpniguard.db.migrate import current_revision, head_revision
from cpniguard.errors import InvalidInput

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document for scripts.")
AT_OPTION = typer.Option(None, "--at", help="ISO 8601 date or date-time (a date is the start of that day, Eastern).")

err = Console(stderr=True)


@dataclass
class State:
    """Per-invocation state; the app is built on first use, so `--help` needs no database."""

    database_url: str | None = None
    _app: App | None = field(default=None, repr=False)

    def app(self, migrated: bool = True) -> App:
        if self._app is None:
            self._app = build(load_settings(database_url=self.database_url))
        if migrated:
            require_schema(self._app)
        return self._app

    def close(self) -> None:
        """The command is over: its pooled connections close now, not when the collector finds
        the engine (in one process running many commands, as the tests do, they piled up)."""
        if self._app is not None:
            self._app.close()
            self._app = None

    def actor(self) -> Actor:
        return Actor.cli(self.app(migrated=False).settings.operator)


def require_schema(app: App) -> None:
    if current_revision(app.engine) != head_revision(app.engine):
        raise InvalidInput("the database is not initialised or not up to date: run `cpniguard init`")


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def when(text: str | None, app: App) -> datetime:
    return parse_when(text) if text else app.clock.now()


def emit(data: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))
    else:
        _human(data, 0)


def _human(data: Any, depth: int) -> None:
    pad = "  " * depth
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, dict | list) and value:
                typer.echo(f"{pad}{key}:")
                _human(value, depth + 1)
            else:
                typer.echo(f"{pad}{key}: {value}")
    elif isinstance(data, list):
        for item in data:
            if isinstance(item, dict):
                typer.echo(f"{pad}-")
                _human(item, depth + 1)
            else:
                typer.echo(f"{pad}- {item}")
    else:
        typer.echo(f"{pad}{data}")


@contextmanager
def progress(description: str, total: int | None) -> Iterator[Progress]:
    """A progress bar on stderr when it is a terminal (stdout stays clean for --json)."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal,
    )
    with bar:
        bar.add_task(description, total=total)
        yield bar


def advance(bar: Progress, n: int) -> None:
    bar.advance(bar.task_ids[0], n)


def fail(message: str, code: int = 2) -> NoReturn:
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(code)
