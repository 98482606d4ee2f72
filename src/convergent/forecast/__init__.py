"""Forecasts (S-curves, crossings, back-tests), level history, the timeline, predictions.

Entry points are loaded on first use so that importing the package stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "forecast_areas": "crossings",
    "level_history": "history",
    "phases": "history",
    "gantt": "timeline",
    "backtest": "backtest",
    "predictability": "backtest",
    "evaluate_predictions": "predictions",
    "load_registry": "predictions",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the module that defines `name` when it is first asked for."""
    if name in _EXPORTS:
        return getattr(import_module(f"convergent.forecast.{_EXPORTS[name]}"), name)
    raise AttributeError(name)
