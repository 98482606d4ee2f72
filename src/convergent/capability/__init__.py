"""Capability convergence: benchmark spreads, gaps, saturation and observational scaling."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def default_config(path: str | Path | None = None) -> dict[str, Any]:
    """The settings: packaged defaults, overlaid by the YAML file at `path` when given."""
    from convergent.config import load_config

    return load_config(path)
