"""`convergent ingest` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="ingest commands.", no_args_is_help=True)
