"""Back-tests: fit on windows ending by a cutoff, predict the leader's share 1 and 2
years later, and compare every method with persistence and a linear trend."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from convergent.dates import months_to_days
from convergent.forecast import model
from convergent.forecast.series import forecast_settings, share_series
from convergent.measures import day_number
from convergent.registry import registry

if TYPE_CHECKING:
    from convergent.classify import Classifier
    from convergent.store import Store

BASELINES = ("persistence", "linear")
ALL_METHODS = (*model.METHODS, "auto", *BASELINES)


def _year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def cutoff_cases(clf: Classifier, cfg: dict[str, Any], cutoff: dt.date) -> list[dict[str, Any]]:
    """Everything a forecaster may know at `cutoff`: per area the series of windows ending
    on or before it, the leader then, and the design of the fit (None when no fit)."""
    fs = forecast_settings(cfg)
    min_n = int(cfg["classify"]["min_n"])
    cases = []
    for area_id in clf.areas:
        cube = clf.cubes[area_id]
        if not cube.options:
            continue
        series = share_series(cube, cutoff, cfg)
        if not len(series.ends) or series.ends[-1] > day_number(cutoff):
            continue
        n_last = float(series.n[-1])
        if n_last < min_n:
            continue
        last = series.shares[-1]
        order = np.argsort(-last, kind="stable")
        lead = int(order[0])
        chal = int(order[1]) if len(order) > 1 and last[order[1]] > 0 else None
        t = series.years(cutoff)
        mask = model.usable_mask(series.n, t, fs, min_n)
        d = model.design(t, series.counts, lead, chal, mask)
        reason = model.no_fit_reason(d, fs, min_n, n_last)
        lin = mask & (t >= -float(fs["linear_years"]) - 1e-9)
        cases.append({"area": area_id, "cutoff": cutoff, "option": series.options[lead],
                      "lead": lead, "chal": chal, "design": d, "reason": reason,
                      "persistence": float(last[lead]), "t": t, "y": series.shares[:, lead],
                      "n": series.n, "linear_mask": lin})
    return cases


def predict_cases(cases: list[dict[str, Any]], horizons: list[float], overlap: float = 1.0
                  ) -> dict[str, np.ndarray]:
    """Predicted target shares [cases, horizons] per method (no fit → persistence)."""
    h = np.asarray(horizons, float)
    pers = np.array([c["persistence"] for c in cases])[:, None] * np.ones_like(h)
    out: dict[str, np.ndarray] = {"persistence": pers}
    lin = pers.copy()
    for i, c in enumerate(cases):
        k = c["linear_mask"]
        if k.sum() >= 2:
            slope, icpt = np.polyfit(c["t"][k], c["y"][k], 1, w=np.sqrt(c["n"][k]))
            lin[i] = np.clip(icpt + slope * h, 0.0, 1.0)
    out["linear"] = lin
    fit_idx = [i for i, c in enumerate(cases) if c["reason"] is None]
    crit = np.full((len(cases), len(model.METHODS)), np.inf)
    for j, m in enumerate(model.METHODS):
        pred = pers.copy()
        idx = [i for i in fit_idx if m != "fisher_pry" or cases[i]["chal"] is not None]
        if idx:
            d = model.stack([cases[i]["design"] for i in idx])
            th, rss = model.fit(m, d)
            pred[idx] = np.clip(model.predict(m, th, h), 0.0, 1.0)
            crit[idx, j] = model.criterion(rss, d.m, m, overlap)
        out[m] = pred
    auto = pers.copy()
    for i in fit_idx:
        best = model.choose(dict(zip(model.METHODS, crit[i], strict=True)))
        auto[i] = out[best][i]
    out["auto"] = auto
    return out


def backtest(store: Store, cfg: dict[str, Any], clf: Classifier | None = None,
             data_end: dt.date | None = None) -> list[dict[str, Any]]:
    """One row per (cutoff, area, horizon, method) with predicted and actual shares.

    Cutoffs are year ends from `backtest_first_cutoff` while a 1-year target exists by
    `data_end` (default: the newest evidence). A fit for a cutoff sees only windows
    ending on or before it, so evidence dated later cannot change its prediction.
    """
    from convergent.analysis import evidence_as_of
    from convergent.classify import Classifier

    fs = forecast_settings(cfg)
    clf = clf or Classifier(store, cfg)
    data_end = data_end or evidence_as_of(store)
    min_n = int(cfg["classify"]["min_n"])
    length = months_to_days(cfg["window"]["months"])
    horizons = [int(h) for h in fs["backtest_horizons"]]
    reg = registry()
    rows: list[dict[str, Any]] = []
    year = int(fs["backtest_first_cutoff"])
    while _year_end(year + min(horizons)) <= data_end:
        cutoff = _year_end(year)
        cases = cutoff_cases(clf, cfg, cutoff)
        if cases:
            preds = predict_cases(cases, horizons, model.overlap_of(cfg, fs))
            for i, c in enumerate(cases):
                cube = clf.cubes[c["area"]]
                for j, h in enumerate(horizons):
                    target = _year_end(year + h)
                    if target > data_end:
                        continue
                    cnt = cube.counts(np.array([day_number(target)]), length)[0]
                    if cnt.sum() < min_n:
                        continue
                    actual = float(cnt[c["lead"]] / cnt.sum())
                    for m in ALL_METHODS:
                        p = float(preds[m][i, j])
                        no_fit = m not in BASELINES and c["reason"] is not None
                        rows.append({
                            "cutoff": cutoff, "area": c["area"],
                            "layer": reg.areas[c["area"]].layer, "horizon": h,
                            "option": c["option"], "method": m, "predicted": p,
                            "actual": actual, "error": abs(p - actual), "no_fit": no_fit,
                        })
        year += 1
    return rows


def summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """MAE per method and horizon, and skill relative to persistence (1 − MAE/MAE_pers)."""
    out = []
    horizons = sorted({r["horizon"] for r in rows})
    for h in horizons:
        sub = [r for r in rows if r["horizon"] == h]
        pers = [r["error"] for r in sub if r["method"] == "persistence"]
        mae_p = float(np.mean(pers)) if pers else float("nan")
        for m in ALL_METHODS:
            errs = [r["error"] for r in sub if r["method"] == m]
            if not errs:
                continue
            mae = float(np.mean(errs))
            out.append({
                "method": m, "horizon": h, "cases": len(errs),
                "no_fit": sum(r["no_fit"] for r in sub if r["method"] == m),
                "mae": mae,
                "skill": 1.0 - mae / mae_p if mae_p > 0 else float("nan"),
            })
    return out


def stars_for_mae(mae: float, cuts: list[float]) -> int:
    """★ count from a back-test MAE: ≤ cuts[0] is ★★★★★, …, above the last is ★."""
    for i, cut in enumerate(cuts):
        if mae <= cut:
            return 5 - i
    return 1


def predictability(rows: list[dict[str, Any]], by: str = "area", method: str = "auto",
                   horizon: int = 1, cfg: dict[str, Any] | None = None
                   ) -> dict[str, dict[str, Any]]:
    """可预测性 per area (or layer): MAE of `method` at `horizon` years, cases, skill, ★."""
    cuts = forecast_settings(cfg or {})["stars_mae"]
    groups: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        if r["horizon"] != horizon or r["method"] not in (method, "persistence"):
            continue
        g = groups.setdefault(r[by], {method: [], "persistence": []})
        g[r["method"]].append(r["error"])
    out = {}
    for key, g in sorted(groups.items()):
        if not g[method]:
            continue
        mae = float(np.mean(g[method]))
        mae_p = float(np.mean(g["persistence"])) if g["persistence"] else float("nan")
        out[key] = {"mae": mae, "cases": len(g[method]),
                    "skill": 1.0 - mae / mae_p if mae_p > 0 else None,
                    "stars": stars_for_mae(mae, cuts)}
    return out
