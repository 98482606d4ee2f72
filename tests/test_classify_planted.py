"""Planted truth: data drawn with a known level is classified at that level."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pytest

from convergent.classify import Classifier
from convergent.registry import registry
from convergent.store import Store
from convergent.synthetic import planted_frames

AS_OF = dt.date(2025, 6, 30)
DRAWS = 200
LEVELS = ["L4", "L3", "L2", "L1", "L0", "insufficient"]
SHARE_AREAS = [a.area_id for a in registry().areas.values() if a.kind == "share"]
SEGMENTED = [a for a in SHARE_AREAS if registry().areas[a].segments]


def _classify(plan: dict[str, str], seed: int, n: int) -> dict[str, str]:
    store = Store(None)
    frames = planted_frames(plan, as_of=AS_OF, n_per_window=n,
                            rng=np.random.default_rng(seed))
    store.replace_origin("synthetic", frames)
    clf = Classifier(store, areas=list(plan))
    return {r.area: r.level for r in clf.classify(AS_OF, certainty=False)}


@pytest.mark.parametrize("level", LEVELS)
def test_planted_level_recovered(level: str) -> None:
    areas = SEGMENTED if level == "L0" else SHARE_AREAS
    hits, seen, seed = Counter(), 0, 1000 * LEVELS.index(level)
    while seen < DRAWS:
        batch = areas[: DRAWS - seen]
        got = _classify({a: level for a in batch}, seed, n=800)
        hits.update(v == level for v in got.values())
        seen += len(batch)
        seed += 1
    assert hits[True] / DRAWS >= 0.95, f"{level}: recovered {hits[True]} of {DRAWS}"


def test_planted_with_200_per_window_clear_levels() -> None:
    """At the issue's minimum of 200 per window, clear-cut profiles are still recovered."""
    plan = {"optimizer": "L4", "ffn": "L2", "attention": "L1", "positional": "L0",
            "tokenizer": "insufficient"}
    got = _classify(plan, seed=7, n=200)
    assert got == plan
