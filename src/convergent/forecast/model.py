"""Fitting an area's share series with every method, shared by forecasts and back-tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from convergent.forecast.curves import FORMS, aicc, fisher_pry_batch, fisher_pry_share, fit_batch

METHODS = ("logistic", "logistic_ceiling", "gompertz", "fisher_pry")
N_PARAMS = {"logistic": 2, "logistic_ceiling": 3, "gompertz": 3, "fisher_pry": 3}
PARAM_NAMES = {**{k: v.params for k, v in FORMS.items()}, "fisher_pry": ("b", "a", "pair_share")}


@dataclass
class Design:
    """Arrays of one or many fitting problems, padded to a common length.

    t, y (target option's share), yc (challenger's share), f (target's fraction of the
    pair), npair and w are [N, T]; points outside the fit span or with n < min_n weigh 0.
    """

    t: np.ndarray
    y: np.ndarray
    yc: np.ndarray
    f: np.ndarray
    npair: np.ndarray
    w: np.ndarray
    pair_share: np.ndarray      # [N] the pair's recent combined share (Fisher–Pry)

    @property
    def m(self) -> np.ndarray:
        """Usable points per row."""
        return (self.w > 0).sum(axis=1)


def usable_mask(n: np.ndarray, t: np.ndarray, fs: dict[str, Any], min_n: int) -> np.ndarray:
    """Windows that enter a fit: enough evidence and inside the fit span before t = 0."""
    return (n >= min_n) & (t >= -float(fs["fit_years"]) - 1e-9) & (t <= 1e-9)


def design(t: np.ndarray, counts: np.ndarray, lead: int, chal: int | None,
           mask: np.ndarray) -> Design:
    """Design of one series (counts [T, O]) or of its resamples (counts [B, T, O])."""
    counts = np.asarray(counts, float)
    if counts.ndim == 2:
        counts = counts[None]
    n = counts.sum(axis=2)
    sh = np.divide(counts, n[:, :, None], out=np.zeros_like(counts), where=n[:, :, None] > 0)
    y = sh[:, :, lead]
    yc = sh[:, :, chal] if chal is not None else np.zeros_like(y)
    npair = counts[:, :, lead] + (counts[:, :, chal] if chal is not None else 0.0)
    f = np.divide(counts[:, :, lead], npair, out=np.ones_like(y), where=npair > 0)
    ok = np.broadcast_to(mask, y.shape) & (n > 0)
    mean_n = np.array([row[k].mean() if k.any() else 1.0 for row, k in zip(n, ok, strict=True)])
    w = np.where(ok, n / mean_n[:, None], 0.0)
    pair = y + yc
    last = np.array([_recent_mean(p, k) for p, k in zip(pair, ok, strict=True)])
    return Design(np.broadcast_to(t, y.shape).astype(float), y, yc, f,
                  np.where(ok, npair, 0.0), w, last)


def _recent_mean(x: np.ndarray, ok: np.ndarray, k: int = 4) -> float:
    idx = np.flatnonzero(ok)[-k:]
    return float(x[idx].mean()) if len(idx) else 1.0


def stack(designs: list[Design], length: int | None = None) -> Design:
    """Pad single-row designs to a common length (weight 0) and stack them."""
    width = length or max(d.t.shape[1] for d in designs)

    def pad(a: np.ndarray) -> np.ndarray:
        return np.pad(a, ((0, 0), (width - a.shape[1], 0)))

    return Design(*(np.concatenate([pad(getattr(d, k)) for d in designs])
                    for k in ("t", "y", "yc", "f", "npair", "w")),
                  np.concatenate([d.pair_share for d in designs]))


def linear_trend_pp(d: Design) -> np.ndarray:
    """Weighted least-squares slope of the target's share, pp per year, per row."""
    w = d.w
    sw = np.maximum(w.sum(axis=1), 1e-12)
    tm = (w * d.t).sum(axis=1) / sw
    ym = (w * d.y).sum(axis=1) / sw
    sxx = (w * (d.t - tm[:, None]) ** 2).sum(axis=1)
    sxy = (w * (d.t - tm[:, None]) * (d.y - ym[:, None])).sum(axis=1)
    return np.divide(sxy, sxx, out=np.zeros_like(sxy), where=sxx > 0) * 100.0


def fit(method: str, d: Design, init: np.ndarray | None = None, challenger: bool = False
        ) -> tuple[np.ndarray, np.ndarray]:
    """Fit one method to every row: θ [N, P] and weighted residual sum of squares [N].

    `challenger=True` fits the challenger's share instead of the target's (Fisher–Pry
    has one model of the pair, so it is not refitted).
    """
    y = d.yc if challenger else d.y
    if method == "fisher_pry":
        ba, _ = fisher_pry_batch(d.t, d.f, d.npair)
        th = np.concatenate([ba, d.pair_share[:, None]], axis=1)
    else:
        th, _ = fit_batch(FORMS[method], d.t, y, d.w, init=init)
    rss = (d.w * (predict(method, th, d.t) - y) ** 2).sum(axis=1)
    return th, rss


def predict(method: str, th: np.ndarray, t: np.ndarray, challenger: bool = False
            ) -> np.ndarray:
    """Target's (or, for Fisher–Pry, the challenger's) share at t: [N, G]."""
    t = np.atleast_2d(np.asarray(t, float))
    if method == "fisher_pry":
        lead = fisher_pry_share(t, th[:, :2], th[:, 2])
        return th[:, 2:3] - lead if challenger else lead
    return FORMS[method].f(t, th)


def criterion(rss: np.ndarray, m: np.ndarray, method: str, overlap: float = 1.0) -> np.ndarray:
    """AICc per row, on m / overlap effectively independent points.

    `overlap` is how many window ends fall inside one window (window length / step):
    consecutive trailing windows share most of their evidence, so their residuals are
    not independent and counting every window would favour extra parameters.
    """
    return np.array([aicc(r, int(k), N_PARAMS[method], k / overlap)
                     for r, k in zip(rss, m, strict=True)])


def overlap_of(cfg: dict[str, Any], fs: dict[str, Any]) -> float:
    """Window ends per window length (12-month windows every 3 months: 4)."""
    return max(1.0, float(cfg["window"]["months"]) / float(fs["step_months"]))


def choose(crit: dict[str, float]) -> str:
    """The method with the lowest AICc; the plain logistic when none is finite."""
    finite = {m: c for m, c in crit.items() if np.isfinite(c)}
    return min(finite, key=finite.get) if finite else "logistic"


def named(method: str, th: np.ndarray) -> dict[str, float]:
    """Parameters of one row by name."""
    return {k: float(v) for k, v in zip(PARAM_NAMES[method], th, strict=True)}


def no_fit_reason(d: Design, fs: dict[str, Any], min_n: int, last_n: float) -> str | None:
    """Why a single-row design cannot support a fit, or None when it can."""
    if last_n < min_n:
        return f"latest window has n = {last_n:.0f} < {min_n}"
    m = int(d.m[0])
    if m < fs["min_points"]:
        return f"only {m} usable windows (need {fs['min_points']})"
    slope = float(linear_trend_pp(d)[0])
    if abs(slope) < fs["min_trend_pp"]:
        return (f"no trend: the share moves {slope:+.1f} pp/yr "
                f"(|trend| < {fs['min_trend_pp']:g})")
    return None
