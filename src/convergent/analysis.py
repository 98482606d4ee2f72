"""Library entry points that open the store and combine share and capability areas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any


def classification_matrix(
    db: str | Path | None,
    as_of: dt.date,
    window_days: int | None,
    areas: list[str] | None,
    cfg: dict[str, Any],
) -> list[dict[str, Any]]:
    """Rows of the classification matrix for every (or the chosen) share area."""
    from convergent.classify import Classifier
    from convergent.registry import get_area
    from convergent.store import open_store

    if areas:
        areas = [get_area(a).area_id for a in areas]
    store = open_store(db)
    clf = Classifier(store, cfg, areas)
    return [r.to_dict() for r in clf.classify(as_of, window_days)]
