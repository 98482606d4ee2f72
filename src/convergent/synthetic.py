"""Synthetic adoption data with a planted level, for tests, calibration and benchmarks."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from convergent.registry import registry
from convergent.schema import table_frame

# Option-probability profiles whose level is clear of every default threshold.
PROFILES: dict[str, dict[str, Any]] = {
    "L4": {"p": [0.985, 0.01, 0.005]},
    "L3": {"p": [0.925, 0.05, 0.025]},
    "L2": {"p": [0.68, 0.27, 0.05]},
    "L1": {"p": [0.30, 0.25, 0.20, 0.15, 0.10]},
    "L0": {"segments": {"edge": [0.92, 0.04, 0.04], "cloud": [0.04, 0.92, 0.04]}},
    "insufficient": {"p": [0.6, 0.4], "n": 5},
}


def _options(area_id: str, k: int) -> list[str]:
    opts = list(registry().areas[area_id].options) or [f"option-{i}" for i in range(k)]
    while len(opts) < k:
        opts.append(f"option-{len(opts)}")
    return opts[:k]


def planted_frames(
    plan: dict[str, str | list[float]],
    *,
    as_of: dt.date,
    n_per_window: int,
    rng: np.random.Generator,
    months: int = 24,
    permute: bool = True,
    prefix: str = "syn",
) -> dict[str, pd.DataFrame]:
    """Store frames where each area of `plan` has adoptions drawn from a level's profile.

    A plan value is a level name (see PROFILES) or an explicit option-probability vector.
    Adoptions are spread uniformly over `months` before `as_of` with stationary
    probabilities, so a trailing 12-month window holds about `n_per_window` of them.
    Options are shuffled per area when `permute` (labels must not matter).
    """
    span = int(months * 30.4375)
    parts = []
    for area_id, level in plan.items():
        prof = PROFILES[level] if isinstance(level, str) else {"p": list(level)}
        per_window = prof.get("n", n_per_window)
        total = round(per_window * months / 12)
        days = rng.integers(0, span, size=total)
        if "segments" in prof:
            names = list(prof["segments"])
            probs = np.array([prof["segments"][k] for k in names])
            seg_of = rng.integers(0, len(names), size=total)
            cum = probs.cumsum(axis=1)[seg_of]
            choice = (rng.random(total)[:, None] > cum).sum(axis=1)
            seg_values = np.array(names)[seg_of]
            k = probs.shape[1]
        else:
            p = np.asarray(prof["p"], dtype=float)
            k = len(p)
            choice = rng.choice(k, size=total, p=p / p.sum())
            seg_values = rng.choice(["edge", "cloud"], size=total)
        opts = _options(area_id, k)
        if permute:
            opts = list(rng.permutation(opts))
        dim = (registry().areas[area_id].segments or ["deployment"])[0]
        parts.append(pd.DataFrame({
            "entity_id": [f"{prefix}-{area_id}-{i}" for i in range(total)],
            "area_id": area_id,
            "option": np.array(opts, dtype=object)[np.minimum(choice, k - 1)],
            "date": [as_of - dt.timedelta(days=int(d)) for d in days],
            "dimension": dim,
            "value": seg_values,
        }))
    df = pd.concat(parts, ignore_index=True)
    frames = {
        "entities": df.assign(name=df.entity_id, kind="model", organization="synthetic",
                              country="none", modality="language", tier="notable",
                              origin="synthetic"),
        "adoptions": df.assign(weight=1.0, source_id="synthetic", origin="synthetic"),
        "segments": df,
    }
    return {name: table_frame(name, frame) for name, frame in frames.items()}
