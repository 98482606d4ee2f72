"""Per area: the forecast share vector 1 and 2 years ahead with intervals, and when the
leader (or a challenger taking over) crosses the L3 and L4 shares — or "no forecast
skill" where the back-test shows none, with persistence and its interval instead."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from convergent.dates import months_to_days, period_ends
from convergent.forecast import backtest as bt
from convergent.forecast import vector
from convergent.forecast.curves import fit_bass
from convergent.forecast.series import resample_cubes, truncate
from convergent.measures import day_number, from_day
from convergent.registry import get_area, registry

if TYPE_CHECKING:
    from convergent.classify import Classifier
    from convergent.measures import AreaCube
    from convergent.store import Store

NOT_WITHIN = "not within {h} years"
NO_SKILL = "no forecast skill"
STEP_DAYS = 7


def _grid(fs: dict[str, Any]) -> np.ndarray:
    """Weekly times (years after the as-of date) up to the horizon, from one week on."""
    weeks = int(fs["horizon_years"] * 365.25 / STEP_DAYS)
    return np.arange(1, weeks + 1) * STEP_DAYS / 365.25


def _date(as_of: dt.date, idx: int) -> dt.date:
    """Date of grid point `idx` (0 is one week after the as-of date)."""
    return as_of + dt.timedelta(days=STEP_DAYS * (int(idx) + 1))


def first_crossing(curves: np.ndarray, thr: float) -> np.ndarray:
    """Index of the first grid point at or above `thr` per row; -1 when never."""
    hit = curves >= thr
    idx = hit.argmax(axis=1)
    return np.where(hit.any(axis=1), idx, -1)


def _interval(idx: np.ndarray, level: float) -> tuple[int | None, int | None, float]:
    """Central interval of crossing indices (None where beyond the horizon) and the
    fraction of resamples that cross at all."""
    big = np.iinfo(np.int64).max
    x = np.where(idx < 0, big, idx).astype(np.int64)
    a = (1 - level) / 2
    lo, hi = (int(np.quantile(x, q, method="inverted_cdf")) for q in (a, 1 - a))
    return (None if lo == big else lo), (None if hi == big else hi), float(np.mean(idx >= 0))


def _reached_since(cube: AreaCube, option: str, thr: float, as_of: dt.date,
                   cfg: dict[str, Any]) -> dt.date | None:
    """Start of the current run of quarter-end windows in which the option holds ≥ thr."""
    length = months_to_days(cfg["window"]["months"])
    if not len(cube.days):
        return None
    ends = period_ends(from_day(int(cube.days[0])), as_of, int(cfg["forecast"]["step_months"]),
                       include_last=True)
    counts = cube.counts(np.array([day_number(d) for d in ends]), length)
    n = counts.sum(axis=1)
    col = cube.options.index(option)
    since = None
    for end, c, k in zip(ends, counts[:, col], n, strict=True):
        if k < cfg["classify"]["min_n"]:
            continue
        since = (since or end) if c / k >= thr else None
    return since


def _vector(labels: list[str], x: np.ndarray) -> dict[str, float]:
    return {k: float(v) for k, v in zip(labels, x, strict=True)}


def _target(traj: np.ndarray, lead: int) -> tuple[int, int | None]:
    """The component to watch: the leader, or the option that overtakes it (and when)."""
    opts = traj[:, :-1]
    over = (opts.argmax(axis=1) != lead)
    if not over.any():
        return lead, None
    k = int(over.argmax())
    return int(opts[k].argmax()), k


def forecast_area(cube: AreaCube, as_of: dt.date, cfg: dict[str, Any], state: dict[str, Any],
                  rng: np.random.Generator, bootstrap: int | None = None) -> dict[str, Any]:
    """The forecast of one area from evidence dated ≤ as_of and the back-test state there."""
    fs = cfg["forecast"]
    c = cfg["classify"]
    thresholds = {"90": float(c["l3_share"]), "95": float(c["l4_share"])}
    area = registry().areas[cube.area_id]
    length = months_to_days(cfg["window"]["months"])
    cube = truncate(cube, day_number(as_of))
    o = vector.origin(cube, day_number(as_of), length, cfg)
    n_now = float(cube.counts(np.array([day_number(as_of)]), length)[0].sum()) \
        if cube.options else 0.0
    out: dict[str, Any] = {
        "area": cube.area_id, "layer": area.layer, "name_en": area.en, "name_zh": area.zh,
        "as_of": as_of, "n": n_now, "leader": None, "leader_share": None,
        "challenger": None, "challenger_share": None, "trend_pp": None,
        "challenger_trend_pp": None, "target": None, "target_role": None,
        "target_share": None, "target_trend_pp": None, "takeover": None, "fit": "no fit",
        "no_fit_reason": None,
        "method": None, "default_method": dict(state["chosen"]), "skill": {},
        "components": [], "shares": [], "adoption": None,
    }
    for key, thr in thresholds.items():
        out[f"cross_{key}"] = {"threshold": thr, "status": "no fit", "date": None,
                               "low": None, "high": None, "p_cross": None}
    if o is None:
        out["no_fit_reason"] = (f"latest window has n = {n_now:.0f} < {c['min_n']}"
                                if cube.options else "no evidence")
        return out
    labels = o.labels
    lead = 0
    out.update(leader=o.options[0], leader_share=float(o.shares[0]), components=labels,
               trend_pp=_num(o.trends_pp[0]))
    if len(o.options) > 1:
        out.update(challenger=o.options[1], challenger_share=float(o.shares[1]),
                   challenger_trend_pp=_num(o.trends_pp[1]))
    out["adoption"] = _bass(cube, o.options[0], as_of, cfg)

    bank = state["bank"]
    horizons = state["horizons"]
    methods: dict[int, str] = {}
    for h in horizons:
        chosen = state["chosen"][h]
        if fs["method"] != "auto":
            chosen = fs["method"]
        methods[h] = bt.area_method(bank, chosen, cube.area_id, h, state["area_cases"])
        out["skill"][h] = bank.area_skill(chosen, cube.area_id, [h], state["area_cases"])
    for h in [int(x) for x in fs["horizons"]]:
        m = methods.get(h, methods[max(horizons)])
        pred = vector.predict(m, o, np.array([float(h)]), cfg)[0]
        iv = bt.interval(pred, o.n, state["quantiles"].get((m, h)), o.shares > 0)
        out["shares"].append({
            "horizon": h, "date": bt.later(as_of, h), "method": m,
            "shares": _vector(labels, pred),
            "low": None if iv is None else _vector(labels, iv[0]),
            "high": None if iv is None else _vector(labels, iv[1]),
        })
    long = methods[max(horizons)]
    out["method"] = long
    for key, thr in thresholds.items():
        since = _reached_since(cube, o.options[0], thr, as_of, cfg)
        if since is not None and o.shares[0] >= thr:
            out[f"cross_{key}"].update(status="reached", date=since)
    if long == bt.PERSISTENCE:
        out["fit"] = NO_SKILL
        out["no_fit_reason"] = _why_no_skill(state, out["skill"], max(horizons))
        out.update(target=out["leader"], target_role="leader",
                   target_share=out["leader_share"], target_trend_pp=out["trend_pp"])
        for key in thresholds:
            if out[f"cross_{key}"]["status"] != "reached":
                out[f"cross_{key}"]["status"] = NO_SKILL
        return out

    out["fit"] = "ok"
    grid = _grid(fs)
    traj = vector.predict(long, o, grid, cfg)
    tgt, k_over = _target(traj, lead)
    role = "leader" if tgt == lead else "challenger"
    out.update(target=labels[tgt], target_role=role, target_share=float(o.shares[tgt]),
               target_trend_pp=_num(o.trends_pp[tgt]),
               takeover=None if k_over is None else _date(as_of, k_over))
    b = int(bootstrap if bootstrap is not None else fs["bootstrap"])
    boot = None
    if b > 0:
        rows = []
        for rc in resample_cubes(cube, b, rng):
            ob = vector.origin(rc, day_number(as_of), length, cfg)
            if ob is None:
                rows.append(np.zeros(len(grid)))
                continue
            col = vector.columns(ob.labels, [labels[tgt]])[0]
            rows.append(vector.predict(long, ob, grid, cfg)[:, col] if col >= 0
                        else np.zeros(len(grid)))
        boot = np.array(rows)
    for key, thr in thresholds.items():
        cell = out[f"cross_{key}"]
        if cell["status"] == "reached" and role == "leader":
            continue
        cell["status"] = NOT_WITHIN.format(h=fs["horizon_years"])
        if o.shares[tgt] >= thr:
            cell.update(status="reached", date=as_of)
            continue
        idx = int(first_crossing(traj[None, :, tgt], thr)[0])
        if idx >= 0:
            cell.update(status="forecast", date=_date(as_of, idx))
        if boot is not None:
            lo, hi, p = _interval(first_crossing(boot, thr), float(fs["interval"]))
            cell.update(low=None if lo is None else _date(as_of, lo),
                        high=None if hi is None else _date(as_of, hi), p_cross=p)
    return out


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _why_no_skill(state: dict[str, Any], skill: dict[int, float | None], h: int) -> str:
    """Why an area is shown as persistence."""
    chosen = state["chosen"][h]
    if chosen == bt.PERSISTENCE:
        return (f"no method beats persistence in the pooled back-test at {h} years "
                "(resolved cases up to the as-of date)")
    s = skill.get(h)
    return (f"{chosen} does not beat persistence on this area's own back-test at {h} years"
            + (f" (skill {s:+.2f})" if s is not None else ""))


def _bass(cube: AreaCube, option: str, as_of: dt.date, cfg: dict[str, Any]
          ) -> dict[str, Any] | None:
    """Bass diffusion of the leader's cumulative adoptions (counts, not shares)."""
    col = cube.options.index(option)
    daily = np.diff(cube.cum[col])
    if not (daily > 0).any():
        return None
    launch = int(cube.days[np.flatnonzero(daily > 0)[0]])
    ends = [day_number(d) for d in period_ends(from_day(launch), as_of,
                                               int(cfg["forecast"]["step_months"]))]
    ends = np.array([launch, *ends, day_number(as_of)], dtype=np.int64)
    cum = cube.cum[col, np.searchsorted(cube.days, ends, side="right")]
    bf = fit_bass((ends - launch) / 365.25, cum)
    if not bf.ok:
        return {"option": option, "fit": "no fit", "reason": bf.reason}
    peak = from_day(launch + round(bf.peak_years * 365.25))
    return {"option": option, "fit": "ok", "m": bf.m, "p": bf.p, "q": bf.q,
            "adopted": bf.adopted, "adopted_fraction": bf.adopted / bf.m if bf.m else None,
            "peak": peak, "as_of": as_of}


def forecast_areas(store: Store, as_of: dt.date | None, cfg: dict[str, Any],
                   areas: list[str] | None = None, clf: Classifier | None = None,
                   bootstrap: int | None = None, state: dict[str, Any] | None = None
                   ) -> list[dict[str, Any]]:
    """Forecasts of every share area (or the chosen ones) from evidence dated ≤ as_of;
    `state` is the back-test at that date (run here when not given)."""
    from convergent.analysis import evidence_as_of
    from convergent.classify import Classifier

    clf = clf or Classifier(store, cfg)
    as_of = as_of or evidence_as_of(store)
    state = state or bt.run(store, cfg, clf, as_of)
    fs = cfg["forecast"]
    chosen = [get_area(a).area_id for a in (areas or clf.areas)]
    out = []
    for area_id in chosen:
        if area_id not in clf.cubes:
            continue
        rng = np.random.default_rng([int(fs["seed"]), sum(map(ord, area_id)),
                                     day_number(as_of)])
        out.append(forecast_area(clf.cubes[area_id], as_of, cfg, state, rng, bootstrap))
    return out
