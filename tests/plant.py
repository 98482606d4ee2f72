"""Exact, hand-placed adoptions for classifier tests: every count and date is chosen."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pandas as pd

from convergent.classify import Classifier
from convergent.schema import table_frame
from convergent.store import Store

AS_OF = dt.date(2025, 6, 30)
#: Day offsets before AS_OF of the trend-window ends (0, 3, 6, 9, 12 months), then two years.
EDGES = [0, 91, 183, 274, 365, 456, 548, 639, 730]


def block_day(j: int) -> dt.date:
    """A date inside quarter block j (j = 0 is the newest): block j lies in
    (AS_OF - EDGES[j + 1], AS_OF - EDGES[j]], so window k holds exactly blocks k..k+3."""
    return AS_OF - dt.timedelta(days=EDGES[j] + 2)


def rows(area: str, option: str, count: int, date: dt.date,
         segments: dict[str, str] | None = None, tag: str = "") -> list[dict[str, Any]]:
    """`count` entities adopting `option` in `area` on `date`, with optional segment values."""
    return [{"area": area, "option": option, "date": date, "segments": segments or {},
             "id": f"{area}-{option}-{date.isoformat()}-{tag}{i}"} for i in range(count)]


def frames(adoptions: Iterable[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    """Store frames (entities, adoptions, segments) for the given adoption rows."""
    ads = list(adoptions)
    ents = [{"entity_id": a["id"], "name": a["id"], "kind": "model", "organization": "org",
             "country": "none", "date": a["date"], "modality": "language", "tier": "notable",
             "origin": "plant"} for a in ads]
    adopt = [{"entity_id": a["id"], "area_id": a["area"], "option": a["option"],
              "date": a["date"], "weight": 1.0, "source_id": "plant", "origin": "plant"}
             for a in ads]
    segs = [{"entity_id": a["id"], "dimension": d, "value": v}
            for a in ads for d, v in a["segments"].items()]
    return {"entities": table_frame("entities", ents),
            "adoptions": table_frame("adoptions", adopt),
            "segments": table_frame("segments", segs)}


def store(adoptions: Iterable[dict[str, Any]]) -> Store:
    """A fresh in-memory store holding only these adoptions."""
    s = Store(None)
    s.replace_origin("plant", frames(adoptions))
    return s


def classifier(adoptions: Iterable[dict[str, Any]], cfg: dict[str, Any] | None = None,
               area: str = "optimizer") -> Classifier:
    """A Classifier for one area whose cubes are built in memory, as `build_cubes` and
    `build_segment_cubes` build them from the store (fast enough for hypothesis)."""
    import numpy as np

    from convergent.config import load_config
    from convergent.measures import AreaCube, SegmentCube, _cumulative, day_number
    from convergent.registry import registry

    ads = [a for a in adoptions if a["area"] == area]
    options = sorted({a["option"] for a in ads})
    oi = np.array([options.index(a["option"]) for a in ads], np.int64)
    day = np.array([day_number(a["date"]) for a in ads], np.int64)
    w = np.ones(len(ads))
    days, cum = _cumulative((oi,), (len(options),), day, w)
    clf = Classifier.__new__(Classifier)
    clf.store, clf.cfg, clf.areas = None, cfg or load_config(), [area]
    clf.cubes = {area: AreaCube(area, options, days, cum, np.zeros(0, np.int64), np.zeros(1))}
    segs = []
    for dim in registry().areas[area].segments:
        tagged = [(a, a["segments"][dim]) for a in ads if dim in a["segments"]]
        if not tagged:
            continue
        values = sorted({v for _, v in tagged})
        opts = sorted({a["option"] for a, _ in tagged})
        vi = np.array([values.index(v) for _, v in tagged], np.int64)
        si = np.array([opts.index(a["option"]) for a, _ in tagged], np.int64)
        sday = np.array([day_number(a["date"]) for a, _ in tagged], np.int64)
        sdays, scum = _cumulative((vi, si), (len(values), len(opts)), sday, np.ones(len(vi)))
        segs.append(SegmentCube(area, dim, values, opts, sdays, scum))
    clf.segment_cubes = {area: segs} if segs else {}
    return clf
