"""The level of every area quarter by quarter, and its compression into phases."""

from __future__ import annotations

import datetime as dt
from itertools import groupby
from typing import TYPE_CHECKING, Any

from convergent.dates import period_ends

if TYPE_CHECKING:
    from convergent.classify import Classifier
    from convergent.store import Store


def level_history(store: Store, cfg: dict[str, Any], start: dt.date | None = None,
                  end: dt.date | None = None, *, areas: list[str] | None = None,
                  clf: Classifier | None = None, segments: bool = True
                  ) -> list[dict[str, Any]]:
    """One row per (area, quarter end in [start, end]): level, leader, its share, n.

    Certainty is not resampled (it is not needed for a history). `segments=False`
    skips the per-date segment query, which makes it much faster but cannot detect L0.
    """
    from convergent.analysis import evidence_as_of
    from convergent.classify import Classifier

    clf = clf or Classifier(store, cfg, areas)
    end = end or evidence_as_of(store)
    start = start or dt.date(2023, 1, 1)
    dates = period_ends(start, end, int(cfg["forecast"]["step_months"]), include_last=True)
    keep = set(areas) if areas else None
    rows = []
    for when in dates:
        for r in clf.classify(when, with_segments=segments, certainty=False):
            if keep is not None and r.area not in keep:
                continue
            rows.append({"area": r.area, "layer": r.layer, "name_en": r.name_en,
                         "name_zh": r.name_zh, "date": when, "level": r.level,
                         "degree": r.degree, "leader": r.leader,
                         "leader_share": r.leader_share, "n": r.n})
    rows.sort(key=lambda r: (r["area"], r["date"]))
    return rows


def phases(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs of consecutive quarters at the same level (and leader) per area.

    A phase starts at the first quarter end of the run and ends where the next phase
    starts (or at the last date of the history).
    """
    out = []
    for area, rows in groupby(sorted(history, key=lambda r: (r["area"], r["date"])),
                              key=lambda r: r["area"]):
        rows = list(rows)
        runs = [list(g) for _, g in groupby(rows, key=lambda r: (r["level"], r["leader"]
                                                                  if r["level"] in
                                                                  ("L2", "L3", "L4")
                                                                  else None))]
        for i, run in enumerate(runs):
            first, last = run[0], run[-1]
            stop = runs[i + 1][0]["date"] if i + 1 < len(runs) else last["date"]
            shares = [r["leader_share"] for r in run if r["leader_share"] is not None]
            out.append({
                "area": area, "layer": first["layer"], "name_en": first["name_en"],
                "name_zh": first["name_zh"], "level": first["level"],
                "leader": first["leader"] if first["level"] in ("L2", "L3", "L4") else None,
                "start": first["date"], "end": stop, "quarters": len(run),
                "current": i == len(runs) - 1,
                "share_min": min(shares) if shares else None,
                "share_max": max(shares) if shares else None,
            })
    return out
