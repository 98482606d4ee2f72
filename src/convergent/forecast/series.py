"""Share time series per area at calendar-quarter window ends, with n per point."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from convergent.measures import day_number, from_day, months_to_days

if TYPE_CHECKING:
    from convergent.measures import AreaCube

def forecast_settings(cfg: dict[str, Any]) -> dict[str, Any]:
    """The `forecast` section of the settings (defaults live in config/defaults.yaml)."""
    return cfg["forecast"]


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


def truncate(cube: AreaCube, end: int) -> AreaCube:
    """The cube as it was at day `end`: only evidence dated ≤ end, and only the options
    seen by then, so later evidence cannot change anything computed from it."""
    from convergent.measures import AreaCube

    i = int(np.searchsorted(cube.days, end, side="right"))
    keep = np.flatnonzero(cube.cum[:, i] > 0) if cube.options else np.zeros(0, np.int64)
    j = int(np.searchsorted(cube.unk_days, end, side="right"))
    return AreaCube(cube.area_id, [cube.options[k] for k in keep], cube.days[:i].copy(),
                    cube.cum[keep, : i + 1].copy(), cube.unk_days[:j].copy(),
                    cube.unk_cum[: j + 1].copy())


def resample_cubes(cube: AreaCube, b: int, rng: np.random.Generator) -> list[AreaCube]:
    """Poisson bootstrap of a (truncated) cube's daily evidence: `b` resampled cubes.

    Each day's weight per option is redrawn as a Poisson count with that mean; all
    windows are then sums of the same draws, so the overlap between windows is kept.
    """
    from convergent.measures import AreaCube

    dense = np.diff(cube.cum, axis=1)                          # [O, D]
    draws = rng.poisson(np.broadcast_to(dense, (b, *dense.shape))).astype(float)
    cum = np.concatenate([np.zeros((b, dense.shape[0], 1)), np.cumsum(draws, axis=2)], axis=2)
    return [AreaCube(cube.area_id, cube.options, cube.days, cum[k], cube.unk_days,
                     cube.unk_cum) for k in range(b)]
