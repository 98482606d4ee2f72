"""Rolling-origin back-tests of the share-vector forecasts, the honest choice of the
default method, and the empirical intervals.

At every quarter-end origin from `backtest_first_cutoff` on, each area whose window has
n ≥ min_n is a case: every candidate method forecasts its share vector 1 and 2 years
ahead from evidence dated ≤ the origin, and is scored by the mean absolute error over the
vector's components against the window actually ending there. `auto` is what a user
would have been shown at that origin: the candidate with the best pooled skill on the
cases already resolved by then (target ≤ origin), and persistence for an area whose
own resolved cases show no skill. Intervals come from the scaled errors of resolved
cases in the same way, so nothing in a row depends on evidence dated after its origin.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from convergent.dates import months_to_days, period_ends
from convergent.forecast import vector
from convergent.forecast.series import truncate
from convergent.measures import day_number
from convergent.registry import registry

if TYPE_CHECKING:
    from convergent.classify import Classifier
    from convergent.store import Store

AUTO = "auto"
PERSISTENCE = "persistence"
BASELINES = ("persistence", "linear")


def methods(cfg: dict[str, Any]) -> list[str]:
    """Every method scored in the back-test: the candidates and `auto`."""
    return [*vector.method_names(cfg), AUTO]


def later(d: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later (quarter ends have no 29 February)."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def cutoffs(cfg: dict[str, Any], as_of: dt.date) -> list[dt.date]:
    """Quarter-end origins from the first cutoff year whose 1-year target is ≤ as_of."""
    fs = cfg["forecast"]
    first = dt.date(int(fs["backtest_first_cutoff"]), 1, 1)
    h = min(int(x) for x in fs["backtest_horizons"])
    last = later(as_of, -h) if as_of.year - h >= first.year else first
    return period_ends(first, last, int(fs["backtest_step_months"]))


def scale(pred: np.ndarray, n: float) -> np.ndarray:
    """Scale of a share's forecast error: the Bernoulli spread √(s(1 − s)), which is how
    shares drift, plus 1/n so that a share of 0 (an option that may yet appear) has one."""
    return np.sqrt(pred * (1 - pred) + 1.0 / max(n, 1.0))


def scaled_error(act: np.ndarray, pred: np.ndarray, n: float) -> np.ndarray:
    """Forecast error of each component in units of its sampling scale."""
    return (act - pred) / scale(pred, n)


class ErrorBank:
    """Resolved cases so far: errors per (method, horizon) and per area, and the scaled
    errors behind the intervals. Filled in target-date order, read at each origin."""

    def __init__(self) -> None:
        self.err: dict[tuple[str, int], list[float]] = {}
        self.area_err: dict[tuple[str, str, int], list[float]] = {}
        self.scaled: dict[tuple[str, int], list[tuple[np.ndarray, np.ndarray]]] = {}
        self.cov: dict[tuple[str, int], list[int]] = {}

    def add(self, method: str, area: str, h: int, err: float,
            lerr: tuple[np.ndarray, np.ndarray], covered: int | None = None) -> None:
        """Record one resolved case of one method (and whether its interval held)."""
        if covered is not None:
            c = self.cov.setdefault((method, h), [0, 0])
            c[0] += covered
            c[1] += len(lerr[0])
        self.err.setdefault((method, h), []).append(err)
        self.area_err.setdefault((method, area, h), []).append(err)
        self.scaled.setdefault((method, h), []).append(lerr)

    def ratio(self, method: str, horizons: list[int], min_cases: int,
              area: str | None = None) -> float | None:
        """Mean over horizons of MAE(method) / MAE(persistence) on the resolved cases
        (only horizons with at least `min_cases`); None when no horizon has enough."""
        out = []
        for h in horizons:
            key = (method, h) if area is None else (method, area, h)
            pkey = (PERSISTENCE, h) if area is None else (PERSISTENCE, area, h)
            src = self.err if area is None else self.area_err
            e, p = src.get(key, []), src.get(pkey, [])
            if len(e) >= min_cases and np.mean(p) > 0:
                out.append(float(np.mean(e) / np.mean(p)))
        return float(np.mean(out)) if out else None

    def choose(self, candidates: list[str], horizons: list[int], min_cases: int) -> str:
        """The candidate with the best pooled skill so far; persistence until one beats it."""
        best, best_r = PERSISTENCE, 1.0
        for m in candidates:
            r = self.ratio(m, horizons, min_cases)
            if r is not None and r < best_r - 1e-12:
                best, best_r = m, r
        return best

    def area_skill(self, method: str, area: str, horizons: list[int], min_cases: int
                   ) -> float | None:
        """1 − ratio for one area's resolved cases (None when too few)."""
        r = self.ratio(method, horizons, min_cases, area)
        return None if r is None else 1.0 - r

    def quantiles(self, method: str, h: int, level: float, min_errors: int
                  ) -> Quantiles | None:
        """Error quantiles at horizon h: its own, and those of the shortest horizon with
        enough resolved errors widened in proportion to the horizon (the errors of a
        drifting share grow like h); whichever is wider, since the longer horizon's
        own errors are the fewest and the oldest."""
        own = self._quantiles(method, h, level, min_errors)
        for h0 in sorted(k for m, k in self.scaled if m == method and k < h):
            q = self._quantiles(method, h0, level, min_errors)
            if q is not None:
                f = float(h / h0)
                short = {g: (lo * f, hi * f) for g, (lo, hi) in q.items()}
                if own is None:
                    return short
                return {g: (min(own[g][0], short[g][0]), max(own[g][1], short[g][1]))
                        for g in own}
        return own

    def _quantiles(self, method: str, h: int, level: float, min_errors: int
                   ) -> Quantiles | None:
        """Central interval of the scaled errors of one method at one
        horizon, separately for components absent at the origin (new entrants, "other"
        at 0) and present ones; None until `min_errors` errors are resolved."""
        parts = self.scaled.get((method, h), [])
        if not parts:
            return None
        e = np.concatenate([p[0] for p in parts])
        g = np.concatenate([p[1] for p in parts])
        if len(e) < min_errors:
            return None
        a = self.miss_rate(method, h, level) / 2

        def q(x: np.ndarray) -> tuple[float, float]:
            return float(np.quantile(x, a)), float(np.quantile(x, 1 - a))

        pooled = q(e)
        return {grp: q(e[g == grp]) if (g == grp).sum() >= min_errors else pooled
                for grp in (False, True)}


    def miss_rate(self, method: str, h: int, level: float) -> float:
        """The miss rate to aim for so that coverage comes back to `level`: the nominal
        1 − level, lowered by how much the resolved intervals have missed beyond it."""
        alpha = 1.0 - level
        hit, tot = self.cov.get((method, h), (0, 0))
        if not tot:
            return alpha
        missed = 1.0 - hit / tot
        return float(np.clip(alpha - 2.0 * (missed - alpha), 0.005, alpha))


#: error quantiles per group: False for components absent at the origin, True for present
Quantiles = dict[bool, tuple[float, float]]


def area_method(bank: ErrorBank, chosen: str, area: str, h: int, min_cases: int) -> str:
    """The method an area is forecast with: the pooled choice, unless the area's own
    resolved cases show it has no skill there (then persistence)."""
    skill = bank.area_skill(chosen, area, [h], min_cases)
    return chosen if skill is None or skill > 0 else PERSISTENCE


def _bounds(q: Quantiles, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (np.where(present, q[True][0], q[False][0]),
            np.where(present, q[True][1], q[False][1]))


def interval(pred: np.ndarray, n: float, q: Quantiles | None, present: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray] | None:
    """Per-component interval: the prediction plus the resolved errors' quantiles, in
    units of its sampling scale, clipped to [0, 1]. `present`: shares > 0 at the origin."""
    if q is None:
        return None
    lo_q, hi_q = _bounds(q, present)
    sd = scale(pred, n)
    return np.clip(pred + lo_q * sd, 0.0, 1.0), np.clip(pred + hi_q * sd, 0.0, 1.0)


def _covered(act: np.ndarray, pred: np.ndarray, n: float, q: Quantiles,
             present: np.ndarray) -> int:
    """Components whose outcome lies in the interval."""
    e = scaled_error(act, pred, n)
    lo_q, hi_q = _bounds(q, present)
    return int(((e >= lo_q - 1e-9) & (e <= hi_q + 1e-9)).sum())


def _cases(clf: Classifier, cfg: dict[str, Any], origins: list[dt.date], as_of: dt.date,
           horizons: list[int]) -> list[dict[str, Any]]:
    """Per origin and area: the origin's knowledge and the actual vectors at the targets."""
    length = months_to_days(cfg["window"]["months"])
    min_n = cfg["classify"]["min_n"]
    cases = []
    known = {a: truncate(clf.cubes[a], day_number(as_of)) for a in clf.areas}
    for cut in origins:
        for area_id in clf.areas:
            cube = known[area_id]
            o = vector.origin(truncate(cube, day_number(cut)), day_number(cut), length, cfg)
            if o is None:
                continue
            actual = {}
            for h in horizons:
                target = later(cut, h)
                if target > as_of:
                    continue
                cnt = cube.counts(np.array([day_number(target)]), length)[0]
                if cnt.sum() < min_n:
                    continue
                comp = vector.components_of(cnt, cube.options, o.options)
                actual[h] = (target, vector.to_shares(comp), float(cnt.sum()))
            cases.append({"area": area_id, "cutoff": cut, "origin": o, "actual": actual})
    return cases


def backtest(store: Store, cfg: dict[str, Any], clf: Classifier | None = None,
             data_end: dt.date | None = None, as_of: dt.date | None = None
             ) -> list[dict[str, Any]]:
    """One row per (origin, area, horizon, method) with predicted and actual share vectors,
    the error, the interval and whether it covered the outcome.

    Origins and targets are ≤ the as-of date (`as_of`, or `data_end`, or the newest
    evidence); every prediction uses evidence dated ≤ its origin only.
    """
    return run(store, cfg, clf, as_of or data_end)["rows"]


def run(store: Store, cfg: dict[str, Any], clf: Classifier | None = None,
        as_of: dt.date | None = None) -> dict[str, Any]:
    """The back-test rows and the state at the as-of date: the chosen default method,
    per-area skill and the interval quantiles a forecast at that date should use."""
    from convergent.analysis import evidence_as_of
    from convergent.classify import Classifier

    fs = cfg["forecast"]
    clf = clf or Classifier(store, cfg)
    as_of = as_of or evidence_as_of(store)
    horizons = sorted(int(h) for h in fs["backtest_horizons"])
    cands = vector.method_names(cfg)
    min_cases = dict(zip((int(h) for h in fs["backtest_horizons"]),
                         (int(x) for x in fs["min_cases"]), strict=True))
    area_cases = int(fs["min_area_cases"])
    level = float(fs["interval"])
    min_err = int(fs["min_interval_errors"])
    reg = registry()
    origins = cutoffs(cfg, as_of)
    cases = _cases(clf, cfg, origins, as_of, horizons)
    bank = ErrorBank()
    pending: list[tuple[Any, ...]] = []
    rows: list[dict[str, Any]] = []
    by_cut: dict[dt.date, list[dict[str, Any]]] = {}
    for c in cases:
        by_cut.setdefault(c["cutoff"], []).append(c)
    for cut in origins:
        # resolve everything whose target date has come by this origin
        pending.sort(key=lambda p: p[0])
        while pending and pending[0][0] <= cut:
            _, m, area, h, err, lerr, cov = pending.pop(0)
            bank.add(m, area, h, err, lerr, cov)
        chosen_h = {h: bank.choose([m for m in cands if m != PERSISTENCE], [h], min_cases[h])
                    for h in horizons}
        quant = {(m, h): bank.quantiles(m, h, level, min_err) for m in cands for h in horizons}
        for c in by_cut.get(cut, []):
            o = c["origin"]
            for h, (target, act, _n) in sorted(c["actual"].items()):
                auto_m = area_method(bank, chosen_h[h], c["area"], h, area_cases)
                for m in [*cands, AUTO]:
                    base = auto_m if m == AUTO else m
                    pred = vector.predict(base, o, np.array([float(h)]), cfg)[0]
                    err = float(np.mean(np.abs(pred - act)))
                    present = o.shares > 0
                    iv = interval(pred, o.n, quant[(base, h)], present)
                    covered = None if iv is None else _covered(act, pred, o.n,
                                                                quant[(base, h)], present)
                    rows.append({
                        "cutoff": cut, "area": c["area"], "layer": reg.areas[c["area"]].layer,
                        "horizon": h, "target": target, "method": m,
                        "chosen": base if m == AUTO else None,
                        "labels": o.labels, "predicted": pred.tolist(),
                        "actual": act.tolist(), "error": err,
                        "low": None if iv is None else iv[0].tolist(),
                        "high": None if iv is None else iv[1].tolist(),
                        "covered": covered, "components": len(pred), "n": o.n,
                    })
                    if m != AUTO:
                        pending.append((target, m, c["area"], h, err,
                                        (scaled_error(act, pred, o.n), present), covered))
    # the state at the as-of date: every case resolved by then
    for _, m, area, h, err, lerr, cov in sorted(pending, key=lambda p: p[0]):
        bank.add(m, area, h, err, lerr, cov)
    chosen_h = {h: bank.choose([m for m in cands if m != PERSISTENCE], [h], min_cases[h])
                for h in horizons}
    return {"rows": rows, "as_of": as_of, "chosen": chosen_h, "bank": bank,
            "area_cases": area_cases,
            "horizons": horizons, "origins": origins,
            "quantiles": {(m, h): bank.quantiles(m, h, level, min_err)
                          for m in cands for h in horizons}}


def summary(rows: list[dict[str, Any]], by: str | None = None) -> list[dict[str, Any]]:
    """MAE per method and horizon (and per `by`, e.g. "area"), skill against persistence
    (1 − MAE/MAE_persistence), against the linear baseline, and interval coverage."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:
        key = (r[by] if by else None, r["horizon"], r["method"])
        groups.setdefault(key, []).append(r)
    out = []
    order = {m: i for i, m in enumerate(dict.fromkeys(r["method"] for r in rows))}
    for key in sorted(groups, key=lambda k: (str(k[0]), k[1], order[k[2]])):
        g, h, m = key
        sub = groups[key]
        mae = float(np.mean([r["error"] for r in sub]))
        pers = groups.get((g, h, PERSISTENCE), [])
        lin = groups.get((g, h, "linear"), [])
        mae_p = float(np.mean([r["error"] for r in pers])) if pers else float("nan")
        mae_l = float(np.mean([r["error"] for r in lin])) if lin else float("nan")
        with_iv = [r for r in sub if r["covered"] is not None]
        comps = sum(r["components"] for r in with_iv)
        row = {"method": m, "horizon": h, "cases": len(sub), "mae": mae,
               "skill": 1.0 - mae / mae_p if mae_p > 0 else None,
               "skill_vs_linear": 1.0 - mae / mae_l if mae_l > 0 else None,
               "interval_cases": len(with_iv),
               "coverage": sum(r["covered"] for r in with_iv) / comps if comps else None}
        if by:
            row = {by: g, **row}
        out.append(row)
    return out


def stars_for_mae(mae: float, cuts: list[float]) -> int:
    """★ count from a back-test MAE: ≤ cuts[0] is ★★★★★, …, above the last is ★."""
    for i, cut in enumerate(cuts):
        if mae <= cut:
            return 5 - i
    return 1


def predictability(rows: list[dict[str, Any]], by: str = "area", method: str = AUTO,
                   horizon: int = 1, cfg: dict[str, Any] | None = None
                   ) -> dict[str, dict[str, Any]]:
    """可预测性 per area (or layer): MAE of `method` at `horizon` years, cases, skill, ★."""
    from convergent.config import load_config

    cuts = (cfg or load_config())["forecast"]["stars_mae"]
    groups: dict[str, dict[str, list[float]]] = {}
    for r in rows:
        if r["horizon"] != horizon or r["method"] not in (method, PERSISTENCE):
            continue
        g = groups.setdefault(r[by], {method: [], PERSISTENCE: []})
        g[r["method"]].append(r["error"])
    out = {}
    for key, g in sorted(groups.items()):
        if not g[method]:
            continue
        mae = float(np.mean(g[method]))
        mae_p = float(np.mean(g[PERSISTENCE])) if g[PERSISTENCE] else float("nan")
        out[key] = {"mae": mae, "cases": len(g[method]),
                    "skill": 1.0 - mae / mae_p if mae_p > 0 else None,
                    "stars": stars_for_mae(mae, cuts)}
    return out


def report(result: dict[str, Any]) -> dict[str, Any]:
    """The back-test in plain data: pooled and per-area summaries, coverage, the method
    chosen at the as-of date and how the choice was made."""
    rows = result["rows"]
    pooled = summary(rows)
    return {
        "as_of": result["as_of"],
        "origins": {"first": result["origins"][0] if result["origins"] else None,
                    "last": result["origins"][-1] if result["origins"] else None,
                    "count": len(result["origins"])},
        "default_method": result["chosen"],
        "selection": ("at each origin, the candidate with the lowest mean ratio "
                      "MAE/MAE(persistence) over the cases resolved by that origin "
                      "(target ≤ origin); persistence for an area whose own resolved "
                      "cases show no skill; the 'auto' rows are those choices"),
        "pooled": pooled,
        "areas": summary(rows, by="area"),
        "cases": len({(r["cutoff"], r["area"]) for r in rows}),
    }


__all__ = ["AUTO", "BASELINES", "ErrorBank", "area_method", "backtest", "cutoffs", "interval",
           "methods", "predictability", "report", "run", "stars_for_mae", "summary"]
