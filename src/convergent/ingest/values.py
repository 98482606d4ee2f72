"""Cell values: strict dates, finite numbers, and a stable hash of a row."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(text: str) -> dt.date | None:
    """Strict YYYY-MM-DD; None when invalid."""
    if not DATE_RE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def parse_number(text: str | None) -> float | None:
    """A finite float, None for empty; raise ValueError for text or non-finite values."""
    if text is None or not str(text).strip():
        return None
    value = float(str(text).strip().replace("_", ""))
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not finite")
    return value


def row_hash(values: Iterable[Any]) -> str:
    """Stable hash of one input row's values."""
    payload = json.dumps([None if v is None else str(v) for v in values], ensure_ascii=False)
    return hashlib.md5(payload.encode("utf-8")).hexdigest()
