"""`convergent scaling` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="scaling commands.", no_args_is_help=True)
