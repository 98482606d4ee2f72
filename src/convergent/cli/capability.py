"""`convergent capability` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="capability commands.", no_args_is_help=True)
