"""`cpniguard breach ...` and `cpniguard calendar ...`: incidents, their clocks, closure days."""

from __future__ import annotations

import typer

breach = typer.Typer(no_args_is_help=True, help="breach")
calendar = typer.Typer(no_args_is_help=True, help="calendar")
