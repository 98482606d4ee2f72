"""Share time series per area at calendar-quarter window ends, with n per point."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from convergent.dates import months_to_days
from convergent.measures import day_number, from_day

if TYPE_CHECKING:
    from convergent.measures import AreaCube

#: Settings of the forecasting module; a `forecast:` section of the config overrides them.
DEFAULTS: dict[str, Any] = {
    "step_months": 3,          # window ends every calendar quarter
    "fit_years": 6,            # fit on the windows of the last this many years
    "min_points": 6,           # fewer usable windows: no fit
    "min_trend_pp": 2.0,       # |linear trend| below this (pp/year) over the fit span: no fit
    "horizon_years": 10,       # crossings later than this: "not within 10 years"
    "bootstrap": 200,          # resamples for the intervals
    "interval": 0.90,          # central interval of the bootstrap crossings
    "seed": 20260101,
    "method": "auto",          # auto (lowest AICc) or one of the forms
    "linear_years": 2,         # the linear baseline fits the last this many years
    "backtest_first_cutoff": 2019,
    "backtest_horizons": [1, 2],
    "stars_mae": [0.03, 0.06, 0.10, 0.15],  # back-test MAE cut-offs for ★★★★★ … ★★
}


def forecast_settings(cfg: dict[str, Any]) -> dict[str, Any]:
    """The forecast settings: module defaults overlaid by the config's `forecast` section."""
    out = dict(DEFAULTS)
    out.update(cfg.get("forecast") or {})
    return out


def quarter_ends(first: dt.date, last: dt.date, step_months: int = 3) -> list[dt.date]:
    """Month ends every `step_months` (calendar quarters by default) in [first, last]."""
    out = []
    k = first.year * 12 + first.month - 1
    while (k % 12 + 1) % step_months:
        k += 1
    while True:
        y, m = divmod(k + 1, 12)
        end = dt.date(y, m + 1, 1) - dt.timedelta(days=1)
        if end > last:
            return out
        if end >= first:
            out.append(end)
        k += step_months


@dataclass
class ShareSeries:
    """Known weights per option in trailing windows ending at `ends` (day numbers)."""

    area: str
    options: list[str]
    ends: np.ndarray        # [T] day numbers
    counts: np.ndarray      # [T, O]
    length: int             # window length in days

    @property
    def n(self) -> np.ndarray:
        """Known adoptions per window."""
        return self.counts.sum(axis=1)

    @property
    def shares(self) -> np.ndarray:
        """Share of each option per window (zero rows where n = 0)."""
        n = self.n[:, None]
        return np.divide(self.counts, n, out=np.zeros_like(self.counts), where=n > 0)

    def dates(self) -> list[dt.date]:
        """Window ends as dates."""
        return [from_day(int(d)) for d in self.ends]

    def years(self, ref: dt.date) -> np.ndarray:
        """Window ends in years relative to `ref`."""
        return (self.ends - day_number(ref)) / 365.25

    def index(self, option: str) -> int:
        """Column of an option."""
        return self.options.index(option)


def window_ends(cube: AreaCube, as_of: dt.date, step_months: int = 3,
                since: dt.date | None = None) -> np.ndarray:
    """Quarter ends from the first evidence (or `since`) to `as_of`, plus `as_of` itself."""
    first = from_day(int(cube.days[0])) if len(cube.days) else as_of
    if since is not None:
        first = max(first, since)
    ends = quarter_ends(first, as_of, step_months)
    if not ends or ends[-1] != as_of:
        ends.append(as_of)
    return np.array([day_number(d) for d in ends], dtype=np.int64)


def share_series(cube: AreaCube, as_of: dt.date, cfg: dict[str, Any],
                 since: dt.date | None = None) -> ShareSeries:
    """The area's series of windows ending at quarter ends up to `as_of` (nothing later)."""
    fs = forecast_settings(cfg)
    length = months_to_days(cfg["window"]["months"])
    ends = window_ends(cube, as_of, fs["step_months"], since)
    counts = (cube.counts(ends, length) if cube.options
              else np.zeros((len(ends), 0)))
    return ShareSeries(cube.area_id, list(cube.options), ends, counts, length)


def resample_counts(cube: AreaCube, ends: np.ndarray, length: int, b: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Poisson bootstrap of the daily evidence: window counts [B, T, O].

    Each day's weight per option is redrawn as a Poisson count with that mean, then the
    overlapping windows are summed from the same draws, so their correlation is kept.
    """
    dense = np.diff(cube.cum, axis=1)                          # [O, D]
    draws = rng.poisson(np.broadcast_to(dense, (b, *dense.shape))).astype(float)
    cum = np.concatenate([np.zeros((b, dense.shape[0], 1)), np.cumsum(draws, axis=2)], axis=2)
    i1 = np.searchsorted(cube.days, ends, side="right")
    i0 = np.searchsorted(cube.days, ends - length, side="right")
    return np.transpose(cum[:, :, i1] - cum[:, :, i0], (0, 2, 1))


def cumulative(cube: AreaCube, ends: np.ndarray, option: str) -> np.ndarray:
    """All-time cumulative known weight of one option up to each end (for Bass)."""
    i = cube.options.index(option)
    return cube.cum[i, np.searchsorted(cube.days, ends, side="right")]
