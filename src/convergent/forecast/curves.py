"""The Bass diffusion model of cumulative adoption counts, fitted with SciPy."""

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


def fit_bass(t: np.ndarray, cum: np.ndarray, min_points: int = 6) -> BassFit:
    """Fit market size m, innovation p and imitation q to cumulative counts at times t
    (years since the first adoption): bounded least squares from a few starts."""
    from scipy.optimize import least_squares

    t = np.asarray(t, float)
    cum = np.asarray(cum, float)
    if len(t) < min_points or cum[-1] <= 0 or np.ptp(cum) <= 0:
        return BassFit(False, "too few points or no growth")
    scale = cum[-1]
    y = cum / scale
    lo, hi = np.array([1.0, 1e-4, 0.0]), np.array([50.0, 0.5, 3.0])
    best = None
    for start in ((1.05, 0.03, 0.5), (1.5, 0.01, 1.0), (3.0, 0.01, 0.3), (10.0, 0.05, 1.0)):
        res = least_squares(lambda th: bass_cumulative(t, *th) - y, start, bounds=(lo, hi),
                            max_nfev=200)
        if best is None or res.cost < best.cost:
            best = res
    m, p, q = best.x
    peak = float(np.log(q / p) / (p + q)) if q > p else 0.0
    return BassFit(True, None, float(m * scale), float(p), float(q), peak, float(cum[-1]),
                   {"m": float(m * scale), "p": float(p), "q": float(q)})
