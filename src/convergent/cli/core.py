"""`convergent areas` and `convergent classify`: the registry and the L0–L4 matrix."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
