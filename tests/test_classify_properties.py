"""Invariants of the classifier: labels do not matter, duplicates do not matter,
and more of the leader never lowers the level."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convergent.classify import Classifier
from convergent.schema import TABLES
from convergent.store import Store

AS_OF = dt.date(2025, 6, 30)
AREA = "optimizer"
OPTIONS = ["AdamW", "Adam", "Adafactor", "Lion", "Muon", "SGD"]


def _frames(counts: list[int], labels: list[str], copies: int = 1,
            extra: tuple[int, int] | None = None) -> dict[str, pd.DataFrame]:
    """Each option's adoptions evenly spaced over 24 months, so shares are stationary.

    `extra` = (option index, count) adds that many more adoptions of one option, evenly
    spaced too, without moving the others.
    """
    groups = [(i, c, "") for i, c in enumerate(counts)]
    if extra is not None:
        groups.append((extra[0], extra[1], "x"))
    rows = []
    for copy in range(copies):
        for opt, c, tag in groups:
            for k in range(c):
                day = int((k + 0.5) * 730 / c)
                rows.append({"entity_id": f"e{copy}-{tag}{opt}-{k}", "option": labels[opt],
                             "date": AS_OF - dt.timedelta(days=day)})
    df = pd.DataFrame(rows)
    frames = {
        "entities": df.assign(name=df.entity_id, kind="model", organization="x", country="x",
                              modality="language", tier="notable", origin="t"),
        "adoptions": df.assign(area_id=AREA, weight=1.0, source_id="s", origin="t"),
        "segments": df.assign(dimension="deployment", value="cloud"),
    }
    for name, f in frames.items():
        for col in TABLES[name]:
            if col not in f:
                f[col] = None
        frames[name] = f[list(TABLES[name])]
    return frames


_STORE: list[Store] = []


def _result(frames: dict[str, pd.DataFrame]):
    """Classify in one shared in-memory store, swapping the test rows each time."""
    if not _STORE:
        _STORE.append(Store(None))
    store = _STORE[0]
    store.replace_origin("t", frames)
    return Classifier(store, areas=[AREA]).classify(AS_OF, certainty=False)[0]


counts_st = st.lists(st.integers(min_value=0, max_value=60), min_size=2, max_size=6).filter(
    lambda c: sum(c) >= 40)
SETTINGS = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(counts=counts_st, perm_seed=st.integers(0, 10_000))
def test_relabelling_options_keeps_level_and_degree(counts: list[int], perm_seed: int) -> None:
    labels = OPTIONS[: len(counts)]
    perm = list(np.random.default_rng(perm_seed).permutation(OPTIONS)[: len(counts)])
    a = _result(_frames(counts, labels))
    b = _result(_frames(counts, perm))
    assert a.level == b.level
    assert a.degree == b.degree
    assert a.n == b.n


@SETTINGS
@given(counts=counts_st)
def test_duplicating_every_entity_keeps_level(counts: list[int]) -> None:
    a = _result(_frames(counts, OPTIONS[: len(counts)]))
    b = _result(_frames(counts, OPTIONS[: len(counts)], copies=2))
    assert a.level == b.level
    assert b.n == 2 * a.n


@SETTINGS
@given(counts=counts_st, extra=st.integers(1, 200))
def test_more_leader_never_lowers_level(counts: list[int], extra: int) -> None:
    labels = OPTIONS[: len(counts)]
    a = _result(_frames(counts, labels))
    lead = int(np.argmax(counts))
    b = _result(_frames(counts, labels, extra=(lead, extra)))
    rank = {"L1": 1, "L2": 2, "L3": 3, "L4": 4}
    assert a.level in rank and b.level in rank
    assert rank[b.level] >= rank[a.level]
    assert b.degree >= a.degree
