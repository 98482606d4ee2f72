"""Per area: the fitted S-curves and when the leader (or a challenger taking over)
crosses the L3 and L4 shares (0.90, 0.95 by default), with bootstrap intervals."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from convergent.forecast import model
from convergent.forecast.curves import fit_bass
from convergent.forecast.series import (
    ShareSeries,
    cumulative,
    forecast_settings,
    resample_counts,
    share_series,
)
from convergent.measures import day_number, from_day
from convergent.registry import registry

if TYPE_CHECKING:
    from convergent.classify import Classifier
    from convergent.store import Store

NOT_WITHIN = "not within {h} years"
STEP_DAYS = 7


def _grid(fs: dict[str, Any]) -> np.ndarray:
    """Weekly times (years after the as-of date) up to the horizon."""
    weeks = int(fs["horizon_years"] * 365.25 / STEP_DAYS) + 1
    return np.arange(weeks) * STEP_DAYS / 365.25


def first_crossing(curves: np.ndarray, thr: float) -> np.ndarray:
    """Index of the first grid point at or above `thr` per row; -1 when never."""
    hit = curves >= thr
    idx = hit.argmax(axis=1)
    return np.where(hit.any(axis=1), idx, -1)


def _date(as_of: dt.date, idx: int) -> dt.date:
    return as_of + dt.timedelta(days=STEP_DAYS * int(idx))


def _reached_since(series: ShareSeries, col: int, thr: float, min_n: int) -> dt.date | None:
    """Start of the current run of windows in which the option holds at least `thr`."""
    sh, n = series.shares[:, col], series.n
    since = None
    for end, s, k in zip(series.ends, sh, n, strict=True):
        if k < min_n:
            continue
        since = (since or from_day(int(end))) if s >= thr else None
    return since


def _interval(idx: np.ndarray, level: float) -> tuple[int | None, int | None, float]:
    """Central interval of crossing indices (None where beyond the horizon) and the
    fraction of resamples that cross at all."""
    x = np.where(idx < 0, np.iinfo(np.int64).max, idx).astype(np.int64)
    a = (1 - level) / 2
    lo, hi = (int(np.quantile(x, q, method="inverted_cdf")) for q in (a, 1 - a))
    big = np.iinfo(np.int64).max
    return (None if lo == big else lo), (None if hi == big else hi), float(np.mean(idx >= 0))


def forecast_area(series: ShareSeries, cube: Any, as_of: dt.date, cfg: dict[str, Any],
                  rng: np.random.Generator, bootstrap: int | None = None) -> dict[str, Any]:
    """The forecast of one area from its share series (windows ending ≤ as_of only)."""
    fs = forecast_settings(cfg)
    c = cfg["classify"]
    min_n = int(c["min_n"])
    thresholds = {"90": float(c["l3_share"]), "95": float(c["l4_share"])}
    area = registry().areas[series.area]
    out: dict[str, Any] = {
        "area": series.area, "layer": area.layer, "name_en": area.en, "name_zh": area.zh,
        "as_of": as_of, "leader": None, "leader_share": None, "challenger": None,
        "challenger_share": None, "n": float(series.n[-1]) if len(series.n) else 0.0,
        "target": None, "target_role": None, "takeover": None, "fit": "no fit",
        "no_fit_reason": None, "method": None, "params": {}, "aicc": {}, "n_points": 0,
        "trend_pp": None, "adoption": None,
    }
    for key in thresholds:
        out[f"cross_{key}"] = {"threshold": thresholds[key], "status": "no fit",
                               "date": None, "low": None, "high": None, "p_cross": None}
    if not series.options or out["n"] <= 0:
        out["no_fit_reason"] = "no evidence in the latest window"
        return out
    last = series.shares[-1]
    order = np.argsort(-last, kind="stable")
    lead = int(order[0])
    chal = int(order[1]) if len(order) > 1 and last[order[1]] > 0 else None
    out.update(leader=series.options[lead], leader_share=float(last[lead]))
    if chal is not None:
        out.update(challenger=series.options[chal], challenger_share=float(last[chal]))
    out.update(target=out["leader"], target_role="leader")

    t = series.years(as_of)
    mask = model.usable_mask(series.n, t, fs, min_n)
    d = model.design(t, series.counts, lead, chal, mask)
    out["n_points"] = int(d.m[0])
    out["trend_pp"] = float(model.linear_trend_pp(d)[0])
    for key, thr in thresholds.items():
        since = _reached_since(series, lead, thr, min_n)
        if since is not None and last[lead] >= thr and out["n"] >= min_n:
            out[f"cross_{key}"].update(status="reached", date=since)
    reason = model.no_fit_reason(d, fs, min_n, out["n"])
    out["adoption"] = _bass(cube, series, lead, as_of)
    if reason is not None:
        out["no_fit_reason"] = reason
        return out

    methods = [m for m in model.METHODS if m != "fisher_pry" or chal is not None]
    fits = {m: model.fit(m, d) for m in methods}
    ov = model.overlap_of(cfg, fs)
    crit = {m: float(model.criterion(fits[m][1], d.m, m, ov)[0]) for m in methods}
    method = fs["method"] if fs["method"] in fits else model.choose(crit)
    th = fits[method][0]
    out.update(fit="ok", method=method, params=model.named(method, th[0]), aicc=crit)

    grid = _grid(fs)
    lead_curve = model.predict(method, th, grid)[0]
    chal_th = None
    target_is_chal = False
    if chal is not None:
        chal_th = th if method == "fisher_pry" else model.fit(method, d, challenger=True)[0]
        chal_curve = model.predict(method, chal_th, grid, challenger=True)[0]
        over = (chal_curve > lead_curve) & (np.gradient(chal_curve) > 0)
        if over.any():
            k = int(over.argmax())
            target_is_chal = True
            out.update(target=out["challenger"], target_role="challenger",
                       takeover=_date(as_of, k))
    target_curve = chal_curve if target_is_chal else lead_curve

    b = int(bootstrap if bootstrap is not None else fs["bootstrap"])
    boot = None
    if b > 0:
        rc = resample_counts(cube, series.ends, series.length, b, rng)
        bd = model.design(t, rc, lead, chal, mask)
        if target_is_chal:
            init = None if method == "fisher_pry" else chal_th
            bth = model.fit(method, bd, init=init, challenger=method != "fisher_pry")[0]
        else:
            bth = model.fit(method, bd, init=th)[0]
        boot = model.predict(method, bth, grid, challenger=target_is_chal
                             and method == "fisher_pry")
    for key, thr in thresholds.items():
        cell = out[f"cross_{key}"]
        if cell["status"] == "reached" and not target_is_chal:
            continue
        idx = int(first_crossing(target_curve[None], thr)[0])
        if idx >= 0:
            cell.update(status="forecast", date=_date(as_of, idx))
        else:
            cell.update(status=NOT_WITHIN.format(h=fs["horizon_years"]))
        if boot is not None:
            lo, hi, p = _interval(first_crossing(boot, thr), float(fs["interval"]))
            cell.update(low=None if lo is None else _date(as_of, lo),
                        high=None if hi is None else _date(as_of, hi), p_cross=p)
    return out


def _bass(cube: Any, series: ShareSeries, col: int, as_of: dt.date) -> dict[str, Any] | None:
    """Bass diffusion of the leader's cumulative adoptions (counts, not shares)."""
    opt = series.options[col]
    cum = cumulative(cube, series.ends, opt)
    nz = np.flatnonzero(cum > 0)
    if len(nz) == 0:
        return None
    i0 = max(int(nz[0]) - 1, 0)
    launch = int(cube.days[np.flatnonzero(np.diff(cube.cum[col]) > 0)[0]])
    t = (series.ends[i0:] - launch) / 365.25
    bf = fit_bass(np.maximum(t, 0.0), cum[i0:])
    if not bf.ok:
        return {"option": opt, "fit": "no fit", "reason": bf.reason}
    peak = from_day(launch + round(bf.peak_years * 365.25))
    return {"option": opt, "fit": "ok", "m": bf.m, "p": bf.p, "q": bf.q,
            "adopted": bf.adopted, "adopted_fraction": bf.adopted / bf.m if bf.m else None,
            "peak": peak, "as_of": as_of}


def forecast_areas(store: Store, as_of: dt.date | None, cfg: dict[str, Any],
                   areas: list[str] | None = None, clf: Classifier | None = None,
                   bootstrap: int | None = None) -> list[dict[str, Any]]:
    """Forecasts of every share area (or the chosen ones) from windows ending ≤ as_of."""
    from convergent.analysis import evidence_as_of
    from convergent.classify import Classifier

    clf = clf or Classifier(store, cfg, areas)
    as_of = as_of or evidence_as_of(store)
    fs = forecast_settings(cfg)
    chosen = areas or clf.areas
    from convergent.registry import get_area

    chosen = [get_area(a).area_id for a in chosen]
    out = []
    for area_id in chosen:
        if area_id not in clf.cubes:
            continue
        cube = clf.cubes[area_id]
        rng = np.random.default_rng([int(fs["seed"]), sum(map(ord, area_id)), day_number(as_of)])
        series = share_series(cube, as_of, cfg)
        out.append(forecast_area(series, cube, as_of, cfg, rng, bootstrap))
    return out
