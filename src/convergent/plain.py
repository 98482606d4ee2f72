"""Results as JSON-ready Python data: the one conversion every writer and printer uses."""

from __future__ import annotations

from typing import Any


def _scalar(x: Any) -> Any:
    """numpy scalars (and anything with `.item()`) as Python values; others as text."""
    item = getattr(x, "item", None)
    if callable(item):
        try:
            return plain(item())
        except (TypeError, ValueError):
            pass
    return str(x)


def plain(x: Any) -> Any:
    """Dates as ISO text, NaN/inf as None, tuples as lists, numpy scalars as Python values."""
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(x, inf_nan_mode="null", fallback=_scalar)
