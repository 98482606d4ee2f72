"""Cell values: finite numbers inside plausible ranges, plausible dates, a stable row hash.

The ranges are wide (they only catch values no real model can have: a unit slip, an
overflow, a typo), the same for every importer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Iterable
from typing import Any

from convergent.dates import check_plausible, parse_iso

# quantity -> (smallest, largest) plausible value
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "params": (1.0, 1e15),
    "compute": (1.0, 1e32),
    "tokens": (1.0, 1e17),
    "cost": (0.0, 1e13),
    "context": (1.0, 1e9),
}
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_number(text: str | None) -> float | None:
    """A finite float, None for empty; raise ValueError for text or non-finite values.

    Thousands separators ('175,000,000,000') are read as one number.
    """
    if text is None or not str(text).strip():
        return None
    s = str(text).strip()
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    value = float(s.replace("_", ""))
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


def positive_number(text: str | None) -> tuple[float | None, str | None]:
    """A cell's positive number (None when empty) and what is wrong with it, if anything."""
    try:
        value = parse_number(text)
    except ValueError:
        return None, f"not a number: {str(text)[:60]!r}"
    if value is not None and value <= 0:
        return None, f"must be positive, got {text!r}"
    return value, None


def range_problem(kind: str, value: float) -> str | None:
    """Why `value` cannot be a `kind` (see PLAUSIBLE), or None when it is plausible."""
    lo, hi = PLAUSIBLE[kind]
    if not math.isfinite(value) or value < lo or value > hi:
        return f"implausible value {value:g} (expected {lo:g} to {hi:g})"
    return None


def cell_date(text: str, where: str, *, allow_any: bool = False) -> dt.date | None:
    """A YYYY-MM-DD cell within the plausible years (ConvergentError outside); None if invalid."""
    d = parse_iso(text)
    if d is None:
        return None
    return check_plausible(d, where, allow_any=allow_any)


def row_hash(values: Iterable[Any]) -> str:
    """Stable hash of one input row's values."""
    payload = json.dumps([None if v is None else str(v) for v in values], ensure_ascii=False)
    return hashlib.md5(payload.encode("utf-8")).hexdigest()
