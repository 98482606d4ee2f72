"""Synthetic adoptions whose option shares follow a known path in time.

Used to check that fits recover planted S-curves, that back-tests cannot see the
future, and to benchmark the forecasting code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from convergent.registry import registry
from convergent.schema import table_frame

#: probabilities of the options at times t (years since `ref`): [T] -> [T, k]
ShareFn = Callable[[np.ndarray], np.ndarray]


def logistic_path(r: float, t0: float, k: float = 1.0,
                  rest: tuple[float, ...] = (0.7, 0.3)) -> ShareFn:
    """Option 0 follows k / (1 + exp(-r (t - t0))); the rest splits in fixed proportions."""
    split = np.asarray(rest, float) / sum(rest)

    def fn(t: np.ndarray) -> np.ndarray:
        s = k / (1 + np.exp(-r * (np.asarray(t, float) - t0)))
        return np.column_stack([s, (1 - s)[:, None] * split[None, :]])

    return fn


def options_of(area_id: str, k: int) -> list[str]:
    """The first k options of an area (made-up names for open-option areas)."""
    opts = list(registry().areas[area_id].options)
    opts += [f"option-{i}" for i in range(len(opts), k)]
    return opts[:k]


def path_frames(plan: dict[str, ShareFn], *, start: dt.date, end: dt.date, ref: dt.date,
                per_month: int, rng: np.random.Generator,
                prefix: str = "fsyn", origin: str = "synthetic") -> dict[str, pd.DataFrame]:
    """Store frames with `per_month` entities per area and month in [start, end];
    each entity's option is drawn from the area's probabilities at its date."""
    span = (end - start).days
    months = max(1, round(span / 30.4375))
    parts = []
    for area_id, fn in plan.items():
        total = months * per_month
        days = np.sort(rng.integers(0, span + 1, size=total))
        dates = [start + dt.timedelta(days=int(d)) for d in days]
        t = np.array([(d - ref).days / 365.25 for d in dates])
        probs = np.clip(fn(t), 0.0, None)
        probs = probs / probs.sum(axis=1, keepdims=True)
        choice = (rng.random(total)[:, None] > probs.cumsum(axis=1)).sum(axis=1)
        opts = options_of(area_id, probs.shape[1])
        choice = np.minimum(choice, len(opts) - 1)
        parts.append(pd.DataFrame({
            "entity_id": [f"{prefix}-{area_id}-{i}" for i in range(total)],
            "area_id": area_id,
            "option": np.array(opts, dtype=object)[choice],
            "date": dates,
            "dimension": "deployment",
            "value": "cloud",
        }))
    df = pd.concat(parts, ignore_index=True)
    frames = {
        "entities": df.assign(name=df.entity_id, kind="model", organization="synthetic",
                              country="none", modality="language", tier="notable",
                              origin=origin),
        "adoptions": df.assign(weight=1.0, source_id="synthetic", origin=origin),
        "segments": df,
    }
    return {name: table_frame(name, frame) for name, frame in frames.items()}
