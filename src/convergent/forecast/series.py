"""An area's evidence as it stood at a date, and Poisson resamples of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from convergent.measures import AreaCube


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
