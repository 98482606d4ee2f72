"""The Bass diffusion model of cumulative adoption counts and its least-squares fit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def bass_cumulative(t: np.ndarray, m: float, p: float, q: float) -> np.ndarray:
    """Bass cumulative adoptions m F(t) at times t ≥ 0 (years since launch)."""
    e = np.exp(-(p + q) * np.maximum(np.asarray(t, float), 0.0))
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


def _best_m(t: np.ndarray, y: np.ndarray, p: np.ndarray, q: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """For every (p, q): the least-squares market size m (Bass is linear in m, bounded to
    [1, 50] times the data) and the residual sum of squares."""
    f = bass_cumulative(t[None, :], 1.0, p[:, None], q[:, None])      # [G, T]
    m = np.clip((f * y).sum(axis=1) / np.maximum((f * f).sum(axis=1), 1e-300), 1.0, 50.0)
    return m, ((m[:, None] * f - y) ** 2).sum(axis=1)


def fit_bass(t: np.ndarray, cum: np.ndarray, min_points: int = 6) -> BassFit:
    """Fit market size m, innovation p and imitation q to cumulative counts at times t
    (years since the first adoption): m in closed form for every (p, q) of a grid, then
    a finer grid around the best point (deterministic, no iteration to converge)."""
    t = np.asarray(t, float)
    cum = np.asarray(cum, float)
    if len(t) < min_points or cum[-1] <= 0 or np.ptp(cum) <= 0:
        return BassFit(False, "too few points or no growth")
    scale = cum[-1]
    y = cum / scale
    lp, lq = np.linspace(np.log(1e-4), np.log(0.5), 60), np.linspace(0.0, 3.0, 61)
    for _ in range(2):
        pp, qq = (a.ravel() for a in np.meshgrid(np.exp(lp), lq))
        m, rss = _best_m(t, y, pp, qq)
        k = int(np.argmin(rss))
        step_p, step_q = lp[1] - lp[0], lq[1] - lq[0]
        lp = np.linspace(np.log(pp[k]) - step_p, np.log(pp[k]) + step_p, 21)
        lq = np.linspace(max(qq[k] - step_q, 0.0), min(qq[k] + step_q, 3.0), 21)
    mm, p, q = float(m[k]), float(pp[k]), float(qq[k])
    peak = float(np.log(q / p) / (p + q)) if q > p else 0.0
    return BassFit(True, None, mm * scale, p, q, peak, float(cum[-1]),
                   {"m": mm * scale, "p": p, "q": q})
