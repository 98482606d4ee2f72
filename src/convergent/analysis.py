"""Library entry points that open the store and combine share and capability areas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from convergent.store import Store


def evidence_as_of(store: Store, today: dt.date | None = None) -> dt.date:
    """The default as-of date: the newest dated evidence, never later than today.

    Classifying 'today' when the newest evidence is months old would empty the window;
    the date used is always printed, so nothing is hidden.
    """
    today = today or dt.date.today()
    a = store.table("adoptions")
    newest = a.filter(a.date <= today).date.max().execute()
    if newest is None or (isinstance(newest, float) and newest != newest):
        return today
    import pandas as pd

    return pd.Timestamp(newest).date()


def classification_matrix(
    db: str | Path | None,
    as_of: dt.date | None,
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
    return [r.to_dict() for r in clf.classify(as_of or evidence_as_of(store), window_days)]
