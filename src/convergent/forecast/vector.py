"""The share vector of an area and its forecasts: persistence, a linear trend, and a
damped multinomial-logit (log-ratio) trend, all built on the matrix's one share trend.

The components are the area's leading options at the origin (up to `max_options`) and
"other": every remaining option (with any option the registry names "other"), including
ones that do not exist yet. Every forecast
is a vector of shares in [0, 1] that sums to 1.

The log-ratio trend moves each component's log share by `λ b_k t` and renormalises
(softmax), with b_k = slope_k / s_k, where slope_k is the matrix's trend (pp/yr) and s_k
the share at the origin. Since the slopes of shares that sum to 1 sum to 0, the
forecast starts out at exactly λ times the matrix's trend and then bends like a
logistic: λ = 1 is the undamped trend, λ = 0 is persistence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from convergent.measures import share_trends

if TYPE_CHECKING:
    from convergent.measures import AreaCube

OTHER = "other"


@dataclass
class Origin:
    """What a forecaster knows about one area at one origin (day `end`)."""

    area: str
    end: int                   # day number of the origin
    options: list[str]         # tracked options, leader first
    cols: np.ndarray           # their columns in the cube
    shares: np.ndarray         # [K + 1] shares at the origin (tracked, then other)
    slopes: np.ndarray         # [K + 1] share trend per year (the matrix's, /100)
    trends_pp: np.ndarray      # [K + 1] the same in pp/yr (NaN where not measurable)
    n: float                   # known adoptions in the origin's window

    @property
    def labels(self) -> list[str]:
        """Component names: the tracked options, then "other"."""
        return [*self.options, OTHER]

    def rates(self, max_rate: float) -> np.ndarray:
        """Log-share drift per year b_k = slope_k / s_k, bounded by ±max_rate."""
        floor = self.floor
        b = self.slopes / np.maximum(self.shares, floor)
        return np.clip(b, -max_rate, max_rate)

    @property
    def floor(self) -> float:
        """Smallest share a component is given in log space: half an adoption."""
        return 0.5 / max(self.n, 1.0)


def components(counts: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Counts of the tracked columns and of everything else ("other"): [..., K + 1]."""
    counts = np.asarray(counts, float)
    tracked = counts[..., cols]
    other = counts.sum(axis=-1) - tracked.sum(axis=-1)
    return np.concatenate([tracked, np.maximum(other, 0.0)[..., None]], axis=-1)


def columns(cube_options: list[str], options: list[str]) -> np.ndarray:
    """Columns of `options` in a cube (-1 where the cube has never seen the option)."""
    pos = {o: i for i, o in enumerate(cube_options)}
    return np.array([pos.get(o, -1) for o in options], dtype=np.int64)


def components_of(counts: np.ndarray, cube_options: list[str], options: list[str]
                  ) -> np.ndarray:
    """Components of counts from a cube whose options may differ from the origin's."""
    counts = np.asarray(counts, float)
    cols = columns(cube_options, options)
    tracked = np.where(cols >= 0, counts[..., np.maximum(cols, 0)], 0.0)
    other = counts.sum(axis=-1) - tracked.sum(axis=-1)
    return np.concatenate([tracked, np.maximum(other, 0.0)[..., None]], axis=-1)


def to_shares(comp: np.ndarray) -> np.ndarray:
    """Component counts to shares (zero rows stay zero)."""
    n = comp.sum(axis=-1, keepdims=True)
    return np.divide(comp, n, out=np.zeros_like(comp), where=n > 0)


def origin(cube: AreaCube, end: int, length: int, cfg: dict[str, Any]) -> Origin | None:
    """The area's share vector and trends at day `end` (evidence dated ≤ end only);
    None when the window has fewer than min_n known adoptions."""
    if not cube.options:
        return None
    counts = cube.counts(np.array([end]), length)[0]
    n = float(counts.sum())
    if n < cfg["classify"]["min_n"]:
        return None
    k = int(cfg["forecast"]["max_options"])
    order = np.argsort(-counts, kind="stable")
    # an option the registry itself calls "other" belongs to the "other" component
    ranked = [c for c in order if counts[c] > 0 and cube.options[c] != OTHER]
    cols = np.array(ranked[:k], dtype=np.int64)
    trends = share_trends(cube, end, length, cfg)              # pp/yr per option, NaN-able
    tracked = trends[cols]
    rest = np.ones(len(trends), bool)
    rest[cols] = False
    rest_t = trends[rest]
    other_t = float(np.nansum(rest_t)) if np.isfinite(rest_t).any() else (
        0.0 if not rest.any() else float("nan"))
    trends_pp = np.append(tracked, other_t)
    slopes = np.nan_to_num(trends_pp, nan=0.0) / 100.0
    if not np.isfinite(trends_pp[:-1]).all():
        slopes = np.zeros_like(slopes)          # no measurable trend: nothing to extrapolate
    shares = to_shares(components(counts, cols))
    return Origin(cube.area_id, int(end), [cube.options[c] for c in cols], cols, shares,
                  slopes, trends_pp, n)


def persistence(o: Origin, t: np.ndarray) -> np.ndarray:
    """The shares at the origin, at every time t (years): [len(t), K + 1]."""
    return np.tile(o.shares, (len(np.atleast_1d(t)), 1))


def linear(o: Origin, t: np.ndarray) -> np.ndarray:
    """The matrix's trend extended in a straight line, clipped to [0, 1], renormalised."""
    t = np.atleast_1d(np.asarray(t, float))
    raw = np.clip(o.shares[None] + o.slopes[None] * t[:, None], 0.0, 1.0)
    tot = raw.sum(axis=1, keepdims=True)
    return np.where(tot > 0, raw / np.where(tot > 0, tot, 1.0), o.shares[None])


def logratio(o: Origin, t: np.ndarray, damping: float, max_rate: float) -> np.ndarray:
    """The damped log-ratio trend: softmax(log s + λ b t) at times t: [len(t), K + 1]."""
    t = np.atleast_1d(np.asarray(t, float))
    z = np.log(np.maximum(o.shares, o.floor))[None] + damping * o.rates(max_rate)[None] * t[:, None]
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def method_names(cfg: dict[str, Any]) -> list[str]:
    """Candidate methods: the baselines and the log-ratio trend at each damping."""
    return ["persistence", "linear", *(trend_name(d) for d in cfg["forecast"]["damping"])]


def trend_name(damping: float) -> str:
    """Name of the log-ratio trend with damping λ (1 is the undamped trend)."""
    return f"logratio_{float(damping):g}"


def predict(method: str, o: Origin, t: np.ndarray, cfg: dict[str, Any]) -> np.ndarray:
    """Share vectors of one method at times t (years after the origin)."""
    if method == "persistence":
        return persistence(o, t)
    if method == "linear":
        return linear(o, t)
    if method.startswith("logratio_"):
        return logratio(o, t, float(method.split("_", 1)[1]),
                        float(cfg["forecast"]["max_rate"]))
    raise ValueError(f"unknown forecast method {method!r}")
