"""The default single-variable estimator: two published laws, checked inside the user's points.

The points are sorted by x. Each candidate form is fitted on the smaller ones and scored
by the RMSE of log predictions on the largest ones (the same task the user wants done,
one step earlier), then refitted on every point. When the smoothly broken power law
(Caballero et al. 2022) and M4 (Alabdulmohsin et al. 2022) both fit every point, the
prediction is their equal-weight mean on the log scale: a rule fixed before looking at any
benchmark curve, because inner validation on a handful of points picks the better of the
two too unreliably to beat either (docs/scaling.md has the comparison). Otherwise the
candidates that fit are combined with weights 1/score², as validation suggests.

Predictive intervals come from the same validation: the combination's log error on the
held-out points sets both an error level present as soon as the prediction leaves the data
and a growth per unit of log distance beyond it, added in quadrature to the residual
spread of the final fit. Their coverage is measured on public learning curves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from convergent.errors import ConvergentError
from convergent.scaling.fit import DegenerateFit, FitResult, fit
from convergent.scaling.forms import Form, get_form
from convergent.scaling.runs import Runs

#: Forms the default estimator chooses among ("flat" repeats the largest runs' value;
#: "m4chance" is M4 starting from E0 = 1, used only for error rates, all below 1).
CANDIDATES = ("power", "broken", "m4", "m4chance", "flat")

#: Share of the points (by x, the largest) held out to score the candidates.
INNER_FRACTION = 0.25

TOO_FEW = "too few points for"

#: Smallest log-x distance used to turn a validation error into an error per e-fold of x.
MIN_DISTANCE = 0.05

#: Forms averaged equally (log scale) whenever all of them fit every point.
PRIOR = ("broken", "m4")


@dataclass
class Flat:
    """No further improvement: the mean target of the (up to) two largest-x points."""

    x: str
    target: str = "loss"
    name: str = "flat"
    n_params: int = 1

    def fit(self, xs: np.ndarray, ys: np.ndarray) -> float:
        """The level carried forward."""
        order = np.argsort(xs, kind="stable")
        return float(np.mean(ys[order[-2:]]))


@dataclass
class Member:
    """One candidate: its validation score and its fit on every point."""

    name: str
    score: float | None
    weight: float = 0.0
    result: FitResult | None = None
    level: float | None = None
    problem: str = ""

    def predict_log(self, x: str, xs: np.ndarray) -> np.ndarray:
        """Log predictions of the refitted candidate."""
        if self.level is not None:
            return np.full(len(xs), math.log(self.level))
        assert self.result is not None
        return np.log(self.result.predict({x: xs}, n=len(xs)))

    def to_dict(self) -> dict[str, Any]:
        """Plain summary."""
        out: dict[str, Any] = {"form": self.name, "validation_log_rmse": self.score,
                               "weight": self.weight, "problem": self.problem}
        if self.result is not None:
            out["params"] = self.result.params
            out["pure_power_law"] = self.result.pure
        if self.level is not None:
            out["params"] = {"level": self.level}
        return out


@dataclass
class Estimate:
    """The fitted default estimator: members, weights, validation error and its reach."""

    x: str
    target: str
    members: list[Member]
    x_max: float
    validation_error: float
    validation_distance: float
    residual: float
    n_points: int
    n_validation: int
    source: str = "<data>"
    warnings: list[str] = field(default_factory=list)
    #: "prior" (equal weights on PRIOR) or "validation" (weights 1/score²).
    rule: str = "validation"
    #: Log distance of the nearest validation point beyond its fit: the ramp of the error level.
    validation_nearest: float = MIN_DISTANCE

    @property
    def error_rate(self) -> float:
        """Validation log error per e-fold of extrapolation."""
        return self.validation_error / max(self.validation_distance, MIN_DISTANCE)

    def predict_log(self, xs: np.ndarray) -> np.ndarray:
        """Weighted log prediction of the members."""
        xs = np.asarray(xs, dtype=float)
        total = np.zeros(len(xs))
        for m in self.members:
            if m.weight > 0:
                total += m.weight * m.predict_log(self.x, xs)
        return total

    def predict(self, xs: np.ndarray, level: float = 0.9) -> dict[str, np.ndarray]:
        """Point predictions and a predictive interval at the given level."""
        from scipy.stats import norm

        if not 0.0 < level < 1.0:
            raise ConvergentError(f"the interval level must be in (0, 1), got {level}")
        xs = np.asarray(xs, dtype=float)
        mu = self.predict_log(xs)
        dist = np.maximum(0.0, np.log(xs) - math.log(self.x_max))
        ramp = np.minimum(1.0, dist / max(self.validation_nearest, 1e-9))
        sigma = np.sqrt(self.residual**2 + (ramp * self.validation_error) ** 2
                        + (self.error_rate * dist) ** 2)
        z = float(norm.ppf(0.5 * (1.0 + level)))
        return {"x": xs, "predicted": np.exp(mu), "low": np.exp(mu - z * sigma),
                "high": np.exp(mu + z * sigma), "sigma_log": sigma}

    def to_dict(self) -> dict[str, Any]:
        """Plain summary for JSON."""
        return {"x": self.x, "target": self.target, "points": self.n_points, "rule": self.rule,
                "validation_points": self.n_validation,
                "validation_log_rmse": self.validation_error,
                "validation_log_distance": self.validation_distance,
                "residual_log_rmse": self.residual, "x_max": self.x_max,
                "members": [m.to_dict() for m in self.members], "source": self.source,
                "warnings": self.warnings}


def _form(name: str, x: str, target: str) -> Form | Flat:
    if name == "flat":
        return Flat(x, target)
    frm = get_form(f"{name}-{x}")
    frm.target = target
    return frm


def _fit_member(frm: Form | Flat, runs: Runs, x: str, target: str,
                delta: float) -> tuple[FitResult | None, float | None, str]:
    """(fit, flat level, problem) of one candidate on these runs."""
    cols = runs.require((x, target))
    if isinstance(frm, Flat):
        return None, frm.fit(cols[x], cols[target]), ""
    if len(runs) < frm.n_params:
        return None, None, f"{TOO_FEW} {frm.n_params} parameters ({len(runs)} points)"
    try:
        res = fit(runs, frm, delta=delta, show_progress=False)
    except DegenerateFit as exc:
        return None, None, "; ".join(exc.result.problems)
    return res, None, ""


def _log_rmse(pred_log: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((pred_log - np.log(y)) ** 2)))


#: Points kept for fitting the candidates when the file is small (a power law has 3 parameters).
MIN_INNER = 5


def inner_split(xs: np.ndarray, fraction: float = INNER_FRACTION) -> np.ndarray:
    """Boolean mask of the validation points: the largest `fraction` of the points by x.

    At least one point is held out, and at most as many as leave MIN_INNER to fit on.
    """
    n = len(xs)
    k = max(1, min(math.ceil(fraction * n), n - MIN_INNER))
    order = np.argsort(-xs, kind="stable")
    mask = np.zeros(n, dtype=bool)
    mask[order[:k]] = True
    return mask


#: At most this many validation origins (fits on the smallest o points, for several o).
MAX_ORIGINS = 3


def origins(n: int, k: int, most: int = MAX_ORIGINS) -> list[int]:
    """Numbers of smallest points to fit on when validating: from n − k up to n − 1."""
    return sorted({int(v) for v in np.linspace(n - k, n - 1, min(k, most)).round()})


def estimate(runs: Runs, x: str, *, target: str = "loss", forms: tuple[str, ...] = CANDIDATES,
             delta: float = 1e-3, fraction: float = INNER_FRACTION,
             power: float = 2.0) -> Estimate:
    """Score each form by inner extrapolation, refit on all points, combine them.

    Validation fits each form on the smallest o points and predicts every larger one, for
    up to MAX_ORIGINS values of o between n − k and n − 1 (k from `inner_split`); a form's
    score is the RMSE of log predictions over all those (origin, point) pairs. The PRIOR
    forms get equal weights when they all fit every point (rule "prior"); otherwise the
    forms that fit are weighted by 1/score^power (rule "validation").
    """
    cols = runs.require((x, target))
    xs, ys = cols[x], cols[target]
    if len(runs) < 3:
        raise ConvergentError(f"{len(runs)} points: the default estimator needs at least 3 "
                              "(two to fit, one to check the extrapolation)", where=runs.source)
    n = len(runs)
    if ys.max() >= 1.0:
        forms = tuple(f for f in forms if f != "m4chance")
    order = np.argsort(xs, kind="stable")
    k = int(inner_split(xs, fraction).sum())
    cuts = origins(n, k)
    if np.ptp(np.log(xs[order[: cuts[0]]])) < 1e-9:
        raise ConvergentError("the points below the largest ones are all at one scale: "
                              "nothing to validate an extrapolation on", where=runs.source)
    members = [Member(_form(name, x, target).name, None) for name in forms]
    logs: dict[str, list[np.ndarray]] = {m.name: [] for m in members}
    truth: list[np.ndarray] = []
    dist: list[np.ndarray] = []
    for o in cuts:
        fit_idx, val_idx = order[:o], order[o:]
        truth.append(np.log(ys[val_idx]))
        dist.append(np.log(xs[val_idx]) - np.log(xs[fit_idx].max()))
        inner = runs.subset(np.sort(fit_idx))
        for name, m in zip(forms, members, strict=True):
            res, level, problem = _fit_member(_form(name, x, target), inner, x, target, delta)
            if res is None and level is None:
                m.problem = m.problem or problem
                logs[m.name].append(np.full(len(val_idx), np.nan))
                continue
            trial = Member(m.name, None, result=res, level=level)
            logs[m.name].append(trial.predict_log(x, xs[val_idx]))
    y_all = np.concatenate(truth)
    for m in members:
        pred = np.concatenate(logs[m.name])
        ok = np.isfinite(pred)
        if ok.any():
            m.score = float(np.sqrt(np.mean((pred[ok] - y_all[ok]) ** 2)))
            m.problem = ""
    scored = [m for m in members if m.score is not None and np.isfinite(m.score)]
    if not scored:
        raise ConvergentError("no candidate form could be fitted on the smaller points: "
                              + "; ".join(f"{m.name}: {m.problem}" for m in members),
                              where=runs.source)
    floor = 1e-6 + 1e-3 * min(m.score for m in scored)
    raw = {m.name: 1.0 / (m.score + floor) ** power for m in scored}
    total = sum(raw.values())
    for m in scored:
        m.weight = raw[m.name] / total
    # a form with too many parameters to validate on the smaller points joins with the
    # mean weight when it fits all of them: no evidence for or against it
    for m in members:
        if m.score is None and m.problem.startswith(TOO_FEW):
            m.weight = 1.0 / len(scored)
            m.problem = "not validated (too few points below the largest); mean weight"
    # refit every candidate on all points; one that fails there drops out
    for name, m in zip(forms, members, strict=True):
        res, level, problem = _fit_member(_form(name, x, target), runs, x, target, delta)
        m.result, m.level = res, level
        if res is None and level is None:
            m.weight = 0.0
            m.problem = m.problem or problem
    rule = "validation"
    prior = [m for name, m in zip(forms, members, strict=True) if name in PRIOR]
    if len(prior) == len(PRIOR) and all(m.result is not None for m in prior):
        rule = "prior"
        for m in members:
            m.weight = 1.0 / len(prior) if m in prior else 0.0
    alive = sum(m.weight for m in members)
    if alive <= 0:
        raise ConvergentError("every candidate form fails on the full set of points",
                              where=runs.source)
    for m in members:
        m.weight /= alive
    # the combination's validation error, each pair averaged over the weighted forms that
    # predicted it (weights renormalised per pair)
    used = [m for m in members if m.weight > 0]
    stack = np.array([np.concatenate(logs[m.name]) for m in used])
    wts = np.array([m.weight for m in used])
    have = np.isfinite(stack)
    wsum = wts @ have
    pairs = wsum > 0
    combo = (wts @ np.where(have, stack, 0.0)) / np.where(pairs, wsum, 1.0)
    all_dist = np.concatenate(dist)
    if pairs.any():
        v_err = float(np.sqrt(np.mean((combo[pairs] - y_all[pairs]) ** 2)))
        v_dist = float(np.mean(all_dist[pairs]))
        near = float(np.min(all_dist[pairs]))
    else:
        v_err, v_dist = min(m.score for m in scored), float(np.mean(all_dist))
        near = float(np.min(all_dist))
    est = Estimate(x, target, members, float(xs.max()), v_err, max(v_dist, 0.0), 0.0,
                   n, int(pairs.sum()) or len(y_all), runs.source, list(runs.warnings), rule,
                   max(near, MIN_DISTANCE))
    est.residual = _log_rmse(est.predict_log(xs), ys)
    return est


def backtest(runs: Runs, x: str, test: np.ndarray, *, target: str = "loss",
             level: float = 0.9, **options: Any) -> dict[str, Any]:
    """Fit on the points outside `test`, predict those inside: log-RMSE and coverage."""
    est = estimate(runs.subset(~test), x, target=target, **options)
    cols = runs.require((x, target))
    got = est.predict(cols[x][test], level)
    y = cols[target][test]
    inside = (y >= got["low"]) & (y <= got["high"])
    return {"log_rmse": _log_rmse(np.log(got["predicted"]), y),
            "covered": int(inside.sum()), "points": int(test.sum()), "estimate": est}
