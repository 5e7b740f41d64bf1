"""`cpniguard policies|complaints|brokers|training ...`: the privacy office."""

from __future__ import annotations

import typer

policies = typer.Typer(no_args_is_help=True, help="policies")
complaints = typer.Typer(no_args_is_help=True, help="complaints")
brokers = typer.Typer(no_args_is_help=True, help="brokers")
training = typer.Typer(no_args_is_help=True, help="training")
