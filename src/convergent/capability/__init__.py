"""Capability convergence: benchmark spreads, gaps, saturation and observational scaling."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def capability_levels(store: Any, as_of: Any, cfg: dict[str, Any] | None = None,
                      window_days: int | None = None) -> list[dict[str, Any]]:
    """Rows of the classification matrix for the benchmark (capability) areas."""
    from convergent.capability.spreads import capability_levels as _levels

    return _levels(store, as_of, cfg, window_days)


def default_config(path: str | Path | None = None) -> dict[str, Any]:
    """The settings: packaged defaults, overlaid by the YAML file at `path` when given."""
    from convergent.config import load_config

    return load_config(path)
