"""Library entry points that open the store and combine share and capability areas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convergent.measures import evidence_as_of

if TYPE_CHECKING:
    from convergent.store import Store

__all__ = ["capability_rows", "classification_matrix", "evidence_as_of"]


def classification_matrix(
    db: str | Path | None,
    as_of: dt.date | None,
    window_days: int | None,
    areas: list[str] | None,
    cfg: dict[str, Any],
    *,
    builtin: bool = True,
    store: Any = None,
) -> list[dict[str, Any]]:
    """Rows of the classification matrix for every (or the chosen) share area; `builtin`
    False analyses the `db` evidence alone; an open `store` (any backend) is used as is."""
    from convergent.classify import Classifier, resolve_as_of
    from convergent.registry import get_area
    from convergent.store import open_store

    if areas:
        areas = [get_area(a).area_id for a in areas]
    if store is None:
        store = open_store(db, builtin=builtin)
    when = resolve_as_of(store, as_of)
    clf = Classifier(store, cfg, areas)
    rows = [r.to_dict() for r in clf.classify(when, window_days)]
    return rows + capability_rows(store, when, cfg, areas, window_days)


def capability_rows(store: Store, as_of: dt.date, cfg: dict[str, Any],
                    areas: list[str] | None = None,
                    window_days: int | None = None) -> list[dict[str, Any]]:
    """Benchmark areas as matrix rows: level from the spread of the top-k models released
    in the same trailing window as the share areas."""
    from convergent.capability import capability_levels
    from convergent.registry import registry

    reg = registry()
    out = []
    for r in capability_levels(store, as_of, cfg, window_days):
        if areas and r["area"] not in areas:
            continue
        area = reg.areas[r["area"]]
        row = dict(r)
        row.update(name_en=area.en, name_zh=area.zh, kind="capability")
        row["criterion"], row["criterion_zh"] = _capability_criterion(r, cfg)
        out.append(row)
    return out


def _capability_criterion(r: dict[str, Any], cfg: dict[str, Any]) -> tuple[str, str]:
    k = r.get("k")
    if r["level"] == "insufficient":
        noun = "model" if r["n"] == 1 else "models"
        return (f"{r['n']} {noun} scored < k = {k}", f"已评测模型 {r['n']} 个 < k = {k}")
    sat_en = "; saturated near the ceiling" if r.get("saturated") else ""
    sat_zh = "；已接近满分（饱和）" if r.get("saturated") else ""
    if r.get("spread_pct") is not None:
        pts, pct = r["spread_pts"], r["spread_pct"]
        return (f"top {k} spread {pts:.1f} pts ({pct:.1f}% of the top){sat_en}",
                f"前 {k} 名差距 {pts:.1f} 分（最高分的 {pct:.1f}%）{sat_zh}")
    edge = r.get("edge_pp")
    edge_txt = "—" if edge is None else f"{edge:.1f}"
    return (f"top vs {k}-th win-rate edge {edge_txt} pp ({r['spread_pts']:.0f} Elo){sat_en}",
            f"首位对第 {k} 名胜率优势 {edge_txt} 个百分点（{r['spread_pts']:.0f} Elo）{sat_zh}")


def layer_predictability(store: Store, cfg: dict[str, Any], clf: Any, data_end: dt.date
                         ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """可预测性 per layer: the forecast back-test rows ending at `data_end`, and per layer
    their mean absolute error, number of cases and stars."""
    from convergent.forecast.backtest import backtest, predictability

    rows = backtest(store, cfg, clf, data_end=data_end)
    return rows, predictability(rows, by="layer", cfg=cfg)
