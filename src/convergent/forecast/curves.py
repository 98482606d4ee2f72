"""S-curve forms and batched bounded least-squares fits from several starts.

Every fit here runs as one array problem: rows are independent data sets (an area's
share series, a bootstrap resample, a back-test case), each tried from several starts.
A damped Gauss–Newton (Levenberg–Marquardt) step is solved for all rows at once and
projected onto the parameter bounds; the best start of each row wins. Time is in years.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import expit, logit

EPS = 1e-9


@dataclass(frozen=True)
class Form:
    """A share curve s(t; θ) with named parameters, bounds and a start generator."""

    name: str
    params: tuple[str, ...]
    f: Callable[[np.ndarray, np.ndarray], np.ndarray]
    description: str


def _logistic(t: np.ndarray, th: np.ndarray) -> np.ndarray:
    return expit(th[:, 0:1] * (t - th[:, 1:2]))


def _logistic_k(t: np.ndarray, th: np.ndarray) -> np.ndarray:
    return th[:, 2:3] * expit(th[:, 0:1] * (t - th[:, 1:2]))


def _gompertz(t: np.ndarray, th: np.ndarray) -> np.ndarray:
    z = np.clip(-th[:, 0:1] * (t - th[:, 1:2]), -50.0, 50.0)
    return th[:, 2:3] * np.exp(-np.exp(z))


FORMS: dict[str, Form] = {
    "logistic": Form("logistic", ("r", "t0"), _logistic,
                     "s = 1 / (1 + exp(-r (t - t0)))"),
    "logistic_ceiling": Form("logistic_ceiling", ("r", "t0", "K"), _logistic_k,
                             "s = K / (1 + exp(-r (t - t0))), K ≤ 1"),
    "gompertz": Form("gompertz", ("c", "t0", "K"), _gompertz,
                     "s = K exp(-exp(-c (t - t0))), K ≤ 1"),
}

#: Bounds on rates (per year) and ceilings; t0 is bounded relative to the data.
RATE_MAX = 4.0
K_MIN = 0.2
T0_PAD = 20.0


def _wmean(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return (x * w).sum(axis=-1) / np.maximum(w.sum(axis=-1), EPS)


def bounds(form: Form, t: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds per row [N, P] for a form, given the rows' time points."""
    used = np.where(w > 0, t, np.nan)
    tlo = np.nanmin(np.where(np.isnan(used), np.inf, used), axis=-1) - T0_PAD
    thi = np.nanmax(np.where(np.isnan(used), -np.inf, used), axis=-1) + T0_PAD
    n = len(tlo)
    lo = [np.full(n, -RATE_MAX), tlo]
    hi = [np.full(n, RATE_MAX), thi]
    if len(form.params) == 3:
        lo.append(np.full(n, K_MIN))
        hi.append(np.ones(n))
    return np.stack(lo, axis=1), np.stack(hi, axis=1)


def starts(form: Form, t: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Several starting points per row: [N, S, P] spread over rates and ceilings."""
    tm = _wmean(t, w)
    ym = np.clip(_wmean(y, w), 0.02, 0.98)
    ymax = np.clip(np.where(w > 0, y, 0.0).max(axis=-1) + 0.02, K_MIN, 1.0)
    rates = np.array([-2.0, -0.5, 0.5, 2.0])
    ks = [np.ones_like(ym), ymax] if len(form.params) == 3 else [np.ones_like(ym)]
    out = []
    for k in ks:
        frac = np.clip(ym / k, 0.02, 0.98)
        for r in rates:
            gomp = form.name == "gompertz"
            t0 = tm + np.log(-np.log(frac)) / r if gomp else tm - logit(frac) / r
            row = [np.full_like(tm, r), t0] + ([k] if len(form.params) == 3 else [])
            out.append(np.stack(row, axis=1))
    return np.stack(out, axis=1)


def levenberg_marquardt(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    theta0: np.ndarray, lo: np.ndarray, hi: np.ndarray,
    t: np.ndarray, y: np.ndarray, w: np.ndarray, iters: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """Bounded weighted least squares for a batch of rows: returns θ [N, P] and cost [N].

    `t`, `y`, `w` are [N, T]; `theta0`, `lo`, `hi` are [N, P]. Jacobians are forward
    differences; each row keeps its own damping, raised on a rejected step.
    """
    th = np.clip(theta0, lo, hi)
    sw = np.sqrt(w)
    n, p = th.shape

    def resid(x: np.ndarray) -> np.ndarray:
        out = sw * (f(t, x) - y)
        out[np.isnan(out)] = 1e6       # a NaN prediction is a very bad fit, not a crash
        return out

    r = resid(th)
    cost = (r**2).sum(axis=1)
    lam = np.full(n, 1e-2)
    done = np.zeros(n, bool)
    eye = np.eye(p)
    for _ in range(iters):
        h = 1e-6 * np.maximum(1.0, np.abs(th))
        jac = np.empty((n, r.shape[1], p))
        for j in range(p):
            tp = th.copy()
            tp[:, j] += h[:, j]
            jac[:, :, j] = (resid(tp) - r) / h[:, j:j + 1]
        g = np.einsum("ntp,nt->np", jac, r)
        # parameters held at a bound by the gradient leave the system (projected step)
        active = ((th <= lo) & (g > 0)) | ((th >= hi) & (g < 0))
        jac = np.where(active[:, None, :], 0.0, jac)
        g = np.where(active, 0.0, g)
        a = np.einsum("ntp,ntq->npq", jac, jac)
        diag = np.einsum("npp->np", a)
        damped = (a + lam[:, None, None] * (diag[:, :, None] * eye + 1e-9 * eye)
                  + active[:, :, None] * eye)
        try:
            step = -np.linalg.solve(damped, g[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            step = -g / np.maximum(diag, 1e-9)
        new = np.clip(th + np.nan_to_num(step), lo, hi)
        r_new = resid(new)
        c_new = (r_new**2).sum(axis=1)
        better = (c_new < cost) & ~done
        rel = (cost - c_new) / np.maximum(cost, EPS)
        th = np.where(better[:, None], new, th)
        r = np.where(better[:, None], r_new, r)
        cost = np.where(better, c_new, cost)
        lam = np.clip(np.where(better, lam / 3.0, lam * 4.0), 1e-9, 1e10)
        done |= (better & (rel < 1e-12)) | (lam >= 1e10) | (np.abs(g).max(axis=1) < 1e-12)
        if done.all():
            break
    return th, cost


def fit_batch(form: Form, t: np.ndarray, y: np.ndarray, w: np.ndarray,
              init: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Best of several starts per row: θ [N, P] and weighted sum of squares [N].

    With `init` ([P] or [N, P]) each row starts only from there (bootstrap resamples
    start from the fit to the data, which is close to their own optimum).
    """
    t, y, w = (np.atleast_2d(np.asarray(a, float)) for a in (t, y, w))
    t = np.broadcast_to(t, y.shape)
    w = np.broadcast_to(w, y.shape)
    if init is None:
        st = starts(form, t, y, w)
    else:
        st = np.broadcast_to(np.asarray(init, float), (y.shape[0], len(form.params)))[:, None]
    n, s, p = st.shape
    lo, hi = bounds(form, t, w)

    def rep(a: np.ndarray) -> np.ndarray:
        return np.repeat(a, s, axis=0)

    th, cost = levenberg_marquardt(form.f, st.reshape(n * s, p), rep(lo), rep(hi),
                                   rep(t), rep(y), rep(w))
    cost = np.where(np.isfinite(cost), cost, np.inf).reshape(n, s)
    best = cost.argmin(axis=1)
    return th.reshape(n, s, p)[np.arange(n), best], cost[np.arange(n), best]


def fisher_pry_batch(t: np.ndarray, f: np.ndarray, npair: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Fisher–Pry: weighted straight line through logit f; returns (b, a) per row [N, 2].

    f is the leader's fraction of the leader+challenger pair and npair the pair's count
    in each window; weights follow the delta method, n f (1 − f).
    """
    t, f, npair = (np.atleast_2d(np.asarray(a, float)) for a in (t, f, npair))
    t = np.broadcast_to(t, f.shape)
    lo = 0.5 / np.maximum(npair, 1.0)
    fc = np.clip(f, lo, 1 - lo)
    z = logit(fc)
    v = np.where(npair > 0, npair * fc * (1 - fc), 0.0)
    tm, zm = _wmean(t, v), _wmean(z, v)
    dt_ = t - tm[:, None]
    sxx = (v * dt_**2).sum(axis=1)
    b = (v * dt_ * (z - zm[:, None])).sum(axis=1) / np.maximum(sxx, EPS)
    b = np.clip(b, -RATE_MAX, RATE_MAX)
    a = zm - b * tm
    resid = v * (z - a[:, None] - b[:, None] * t) ** 2
    return np.stack([b, a], axis=1), resid.sum(axis=1)


def fisher_pry_share(t: np.ndarray, ba: np.ndarray, pair_share: np.ndarray) -> np.ndarray:
    """Leader's share under Fisher–Pry: the pair's share times the fitted fraction."""
    return pair_share[:, None] * expit(ba[:, 1:2] + ba[:, 0:1] * np.atleast_2d(t))


def aicc(rss: np.ndarray | float, m: int, k: int, m_eff: float | None = None) -> float:
    """Small-sample Akaike criterion of a weighted least-squares fit.

    `m_eff` is the number of effectively independent points (overlapping windows share
    evidence); the likelihood and the small-sample penalty use it. A model with too
    few effective points for its parameters gets +inf.
    """
    rss = max(float(rss), 1e-12)
    m_eff = float(m if m_eff is None else m_eff)
    if m_eff - k - 1 <= 0:
        return float("inf")
    return m_eff * np.log(rss / m) + 2 * k + 2 * k * (k + 1) / (m_eff - k - 1)


def bass_cumulative(t: np.ndarray, th: np.ndarray) -> np.ndarray:
    """Bass model cumulative adoptions m F(t) for θ = (m, p, q), t ≥ 0 since launch."""
    m, p, q = th[:, 0:1], th[:, 1:2], th[:, 2:3]
    e = np.exp(-(p + q) * np.maximum(t, 0.0))
    return m * (1 - e) / (1 + (q / p) * e)


@dataclass
class BassFit:
    """Bass diffusion fitted to cumulative adoption counts."""

    ok: bool
    reason: str | None = None
    m: float | None = None
    p: float | None = None
    q: float | None = None
    peak_years: float | None = None     # years after launch when adoption peaks
    adopted: float | None = None        # cumulative count at the last point
    params: dict[str, Any] = field(default_factory=dict)


def fit_bass(t: np.ndarray, cum: np.ndarray, min_points: int = 6) -> BassFit:
    """Fit m, p, q to cumulative counts at times t (years since the first adoption)."""
    t = np.asarray(t, float)
    cum = np.asarray(cum, float)
    if len(t) < min_points or cum[-1] <= 0 or np.ptp(cum) <= 0:
        return BassFit(False, "too few points or no growth")
    scale = cum[-1]
    y = (cum / scale)[None]
    tt = t[None]
    w = np.ones_like(y)
    grid = [(m, p, q) for m in (1.05, 1.5, 3.0, 10.0) for p in (0.01, 0.05)
            for q in (0.3, 1.0)]
    st = np.array(grid)
    s = len(st)
    lo = np.repeat(np.array([[1.0, 1e-4, 0.0]]), s, axis=0)
    hi = np.repeat(np.array([[50.0, 0.5, 3.0]]), s, axis=0)
    th, cost = levenberg_marquardt(bass_cumulative, st, lo, hi, np.repeat(tt, s, 0),
                                   np.repeat(y, s, 0), np.repeat(w, s, 0))
    best = int(np.argmin(cost))
    m, p, q = th[best]
    peak = float(np.log(q / p) / (p + q)) if q > p else 0.0
    return BassFit(True, None, float(m * scale), float(p), float(q), peak, float(cum[-1]),
                   {"m": float(m * scale), "p": float(p), "q": float(q)})
