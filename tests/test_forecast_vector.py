"""The share-vector forecasts: coherent vectors, the one trend, and hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convergent.config import load_config
from convergent.forecast import vector
from convergent.measures import AreaCube

CFG = load_config()


def _origin(shares: list[float], slopes: list[float], n: float = 100.0) -> vector.Origin:
    k = len(shares) - 1
    return vector.Origin("x", 0, [f"o{i}" for i in range(k)], np.arange(k),
                         np.array(shares, float), np.array(slopes, float),
                         np.array(slopes, float) * 100, n)


def test_persistence_and_linear_by_hand() -> None:
    o = _origin([0.6, 0.4, 0.0], [0.5, -0.5, 0.0])
    assert vector.persistence(o, [1.0, 2.0]).tolist() == [[0.6, 0.4, 0.0]] * 2
    # 0.6 + 0.5 = 1.1 → 1, 0.4 − 0.5 → 0: the vector is [1, 0, 0]
    assert vector.linear(o, [1.0])[0] == pytest.approx([1.0, 0.0, 0.0])
    # half a year: [0.85, 0.15, 0]
    assert vector.linear(o, [0.5])[0] == pytest.approx([0.85, 0.15, 0.0])


def test_logratio_starts_at_damped_matrix_trend() -> None:
    """d s/dt at t = 0 is λ times the trend (the slopes sum to 0)."""
    o = _origin([0.5, 0.3, 0.2], [0.10, -0.04, -0.06])
    for lam in (0.25, 1.0):
        dt_ = 1e-6
        d = (vector.logratio(o, [dt_], lam, 10.0)[0] - vector.logratio(o, [0.0], lam, 10.0)[0])
        assert d / dt_ == pytest.approx(lam * o.slopes, abs=1e-4)
    assert vector.logratio(o, [0.0], 1.0, 10.0)[0] == pytest.approx(o.shares)
    # λ = 0 is persistence at every horizon
    assert vector.logratio(o, [5.0], 0.0, 10.0)[0] == pytest.approx(o.shares)


def test_logratio_by_hand() -> None:
    # two options 0.5 / 0.5, slopes +0.1 / −0.1: b = ±0.2 per year; at t = 1 with λ = 1
    # the log-ratio is 0.4, so the leader holds e^0.2 / (e^0.2 + e^-0.2) = expit(0.4)
    o = _origin([0.5, 0.5, 0.0], [0.1, -0.1, 0.0], n=1e6)
    s = vector.logratio(o, [1.0], 1.0, 3.0)[0]
    assert s[0] == pytest.approx(1 / (1 + np.exp(-0.4)), rel=1e-5)
    assert s[2] < 1e-5


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=7),
       st.lists(st.floats(-0.5, 0.5), min_size=7, max_size=7),
       st.floats(0.0, 1.0), st.floats(1.0, 500.0))
def test_every_method_gives_a_share_vector(raw: list[float], slope_raw: list[float],
                                           lam: float, n: float) -> None:
    shares = np.array(raw) + 1e-3
    shares /= shares.sum()
    slopes = np.array(slope_raw[: len(shares)])
    slopes -= slopes.mean()
    o = _origin(list(shares), list(slopes), n)
    t = np.array([0.5, 1.0, 2.0, 10.0])
    for m in (*vector.method_names(CFG), f"logratio_{lam}"):
        out = vector.predict(m, o, t, CFG)
        assert out.shape == (4, len(shares))
        assert np.all(out >= 0) and np.all(out <= 1)
        assert np.allclose(out.sum(axis=1), 1.0, atol=1e-9)


def _cube(counts_by_day: dict[int, list[float]], options: list[str]) -> AreaCube:
    days = np.array(sorted(counts_by_day), dtype=np.int64)
    dense = np.array([counts_by_day[d] for d in days], float).T
    cum = np.concatenate([np.zeros((len(options), 1)), np.cumsum(dense, axis=1)], axis=1)
    return AreaCube("ffn", options, days, cum, np.zeros(0, np.int64), np.zeros(1))


def test_origin_groups_small_options_into_other() -> None:
    cfg = {**CFG, "forecast": {**CFG["forecast"], "max_options": 2}}
    cube = _cube({100: [5, 3, 1, 1, 0]}, ["a", "b", "c", "d", "e"])
    o = vector.origin(cube, 100, 365, cfg)
    assert o.labels == ["a", "b", "other"]
    assert o.shares == pytest.approx([0.5, 0.3, 0.2])
    assert o.shares.sum() == pytest.approx(1.0)
    assert vector.origin(cube, 100, 365, {**cfg, "classify": {**cfg["classify"],
                                                               "min_n": 11}}) is None


def test_components_of_a_later_cube_put_new_options_in_other() -> None:
    comp = vector.components_of(np.array([2.0, 5.0, 3.0]), ["a", "new", "b"], ["b", "a"])
    assert comp.tolist() == [3.0, 2.0, 5.0]
