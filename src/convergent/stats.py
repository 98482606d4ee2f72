"""The small statistics every measure shares: one slope fit, concentration, proportions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


def slope_fit(x: Sequence[float] | Any, y: Sequence[float] | Any, confidence: float = 0.95,
              *, log10_y: bool = False) -> dict[str, float] | None:
    """Least-squares line of y (or log10 y) on x with the slope's t-interval.

    Returns slope, intercept, standard error, t, lo, hi and n; None with fewer than three
    points or when x does not vary (no slope can be measured)."""
    import numpy as np
    from scipy import special

    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    if log10_y:
        ya = np.log10(ya)
    n = int(xa.size)
    if n < 3:
        return None
    xm, ym = float(xa.mean()), float(ya.mean())
    sxx = float(np.sum((xa - xm) ** 2))
    if sxx <= 0:
        return None
    slope = float(np.sum((xa - xm) * (ya - ym)) / sxx)
    intercept = ym - slope * xm
    resid = ya - (intercept + slope * xa)
    se = math.sqrt(float(np.sum(resid**2)) / (n - 2) / sxx)
    t = float(special.stdtrit(n - 2, 0.5 + confidence / 2))
    return {"slope": slope, "intercept": intercept, "se": se, "t": t,
            "lo": slope - t * se, "hi": slope + t * se, "n": n}


def slopes(x: Any, y: Any, ok: Any) -> Any:
    """Least-squares slopes of many series at once: y [..., T, K] on x [..., T], over the
    points where ok [..., T] holds; NaN where fewer than three points are usable or x does
    not vary. The batched companion of `slope_fit` (same line, no interval)."""
    import numpy as np

    xa, ya, mask = np.asarray(x, float), np.asarray(y, float), np.asarray(ok, bool)
    cnt = mask.sum(axis=-1)
    xm = np.where(mask, xa, 0.0).sum(axis=-1) / np.maximum(cnt, 1)
    dx = np.where(mask, xa - xm[..., None], 0.0)
    ym = np.where(mask[..., None], ya, 0.0).sum(axis=-2) / np.maximum(cnt, 1)[..., None]
    dy = np.where(mask[..., None], ya - ym[..., None, :], 0.0)
    sxx = (dx**2).sum(axis=-1)
    good = (cnt >= 3) & (sxx > 0)
    num = (dx[..., None] * dy).sum(axis=-2)
    return np.where(good[..., None], num / np.where(good, sxx, 1.0)[..., None], np.nan)


def weighted_lines(x: Any, y: Any, w: Any) -> tuple[Any, Any]:
    """Weighted least-squares slope and intercept of y on x along the last axis, one line per
    row of weights (a bootstrap's resampling weights); NaN slope where x does not vary."""
    import numpy as np

    sw = w.sum(axis=-1)
    mx = (w * x).sum(axis=-1) / sw
    my = (w * y).sum(axis=-1) / sw
    sxx = (w * (x - mx[..., None]) ** 2).sum(axis=-1)
    sxy = (w * (x - mx[..., None]) * (y - my[..., None])).sum(axis=-1)
    with np.errstate(all="ignore"):
        slope = sxy / sxx
    return slope, my - slope * mx


def entropy_nats(p: Any) -> float:
    """Shannon entropy (natural log) of a probability vector; zero entries contribute nothing."""
    import numpy as np

    q = np.asarray(p, dtype=float).ravel()
    q = q[q > 0]
    return float(-np.sum(q * np.log(q)))


def shares_of(counts: Sequence[float] | Any) -> Any:
    """Counts as shares summing to 1 (an empty or all-zero vector gives an empty array)."""
    import numpy as np

    c = np.asarray(counts, dtype=float)
    total = float(c.sum())
    return c / total if total > 0 else np.zeros(0)


def concentration(shares: Sequence[float] | Any) -> dict[str, float]:
    """HHI (0–10,000), effective number 1/HHI, normalised entropy H/ln k and entropy in
    bits of one share (or count) vector; k counts every option given, zeros included."""
    import numpy as np

    s = shares_of(shares)
    k = int(np.asarray(shares).size)
    p = s[s > 0]
    if p.size == 0:
        nan = float("nan")
        return {"hhi": nan, "effective_n": nan, "entropy_norm": nan, "entropy_bits": nan}
    h = float(np.sum(p**2))
    ent = entropy_nats(p)
    return {"hhi": h * 10_000, "effective_n": 1.0 / h,
            "entropy_norm": ent / math.log(k) if k > 1 else 0.0,
            "entropy_bits": ent / math.log(2)}


def wilson(k: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the proportion k/n.

    The closed form equals scipy.stats.binomtest(k, n).proportion_ci(method="wilson")
    (a test checks it) without importing scipy.stats, which costs a second at start-up."""
    from scipy import special

    if n <= 0:
        return 0.0, 1.0
    z = float(special.ndtri(0.5 + confidence / 2))
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n)) / den
    return max(0.0, centre - half), min(1.0, centre + half)
