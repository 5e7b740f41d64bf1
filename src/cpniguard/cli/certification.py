"""`cpniguard certification ...`: the annual CPNI certification (CERT-1..CERT-5)."""

from __future__ import annotations

import typer

certification = typer.Typer(no_args_is_help=True, help="certification")
