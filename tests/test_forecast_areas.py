"""Forecasts on planted share paths: coherent share vectors with intervals, crossings
after the as-of date, takeovers, "no forecast skill", and the one trend."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy.special import expit

from convergent.classify import Classifier
from convergent.config import load_config
from convergent.forecast.crossings import NO_SKILL, forecast_areas
from convergent.forecast.synthetic import logistic_path, path_frames
from convergent.store import Store

AS_OF = dt.date(2025, 12, 31)
START = dt.date(2016, 1, 1)
CFG = load_config()


def _const(p: list[float]):
    return lambda t: np.tile(np.asarray(p, float), (len(t), 1))


def _noisy_flat(t: np.ndarray) -> np.ndarray:
    """Shares that wobble around 0.6 / 0.4 with no trend to find."""
    s = 0.6 + 0.12 * np.sin(7.0 * np.asarray(t, float))
    return np.column_stack([s, 1 - s])


PLAN = {
    "ffn": logistic_path(1.0, -1.0, rest=(1.0,)),               # dense rising (option 0)
    "agent_protocol": logistic_path(-1.5, 0.4, rest=(1.0,)),    # MCP falling, A2A rising
    "tokenizer": _const([1.0, 0.0]),                            # always one option
    "normalization": _noisy_flat,                               # no trend
    "attention": logistic_path(0.8, -3.0, rest=(0.6, 0.4)),     # rising, three options
}


@pytest.fixture(scope="module")
def clf() -> Classifier:
    store = Store(None)
    store.replace_origin("synthetic", path_frames(
        PLAN, start=START, end=AS_OF, ref=AS_OF, per_month=40, rng=np.random.default_rng(3)))
    return Classifier(store, CFG, areas=list(PLAN))


@pytest.fixture(scope="module")
def result(clf: Classifier) -> dict[str, dict]:
    rows = forecast_areas(clf.store, AS_OF, CFG, clf=clf, bootstrap=150)
    return {r["area"]: r for r in rows}


def test_share_vectors_are_coherent_with_intervals(result: dict[str, dict]) -> None:
    for r in result.values():
        assert [c["horizon"] for c in r["shares"]] == [1, 2]
        for cell in r["shares"]:
            shares = cell["shares"]
            assert list(shares) == r["components"] and shares.keys() >= {"other"}
            assert sum(shares.values()) == pytest.approx(1.0, abs=1e-9)
            assert all(0.0 <= v <= 1.0 for v in shares.values())
            assert cell["low"] is not None, r["area"]
            for k, v in shares.items():
                assert cell["low"][k] <= v <= cell["high"][k], (r["area"], k)
    # a new entrant is possible: "other" is 0 now in the two-option areas, yet its
    # interval reaches above 0
    assert result["ffn"]["shares"][1]["high"]["other"] > 0


def _window_crossing(share, thr: float) -> float:
    """Years after the as-of date when the trailing 12-month mean share reaches thr."""
    grid = np.arange(0, 10, 7 / 365.25)
    inner = np.linspace(0, 1, 200)
    w = np.array([share(g - inner).mean() for g in grid])
    return float(grid[np.argmax(w >= thr)])


def test_rising_leader_crosses_after_the_as_of_date(result: dict[str, dict]) -> None:
    r = result["ffn"]
    assert r["fit"] == "ok" and r["target"] == "dense" and r["target_role"] == "leader"
    for key, thr in (("cross_90", 0.90), ("cross_95", 0.95)):
        truth = AS_OF + dt.timedelta(days=365.25 * _window_crossing(
            lambda t: expit(1.0 * (t + 1.0)), thr))
        cell = r[key]
        assert cell["status"] == "forecast", cell
        assert cell["date"] > AS_OF
        # damped towards persistence, so not earlier than the truth by much, and later
        # by at most a few years
        assert -200 < (cell["date"] - truth).days < 4 * 365, (key, cell, truth)
        assert cell["low"] is not None and cell["low"] <= cell["date"]
        assert cell["high"] is None or cell["date"] <= cell["high"]


def test_rising_challenger_takes_over(result: dict[str, dict]) -> None:
    r = result["agent_protocol"]
    assert r["leader"] == "MCP" and r["fit"] == "ok"
    assert r["target"] == "A2A" and r["target_role"] == "challenger"
    assert AS_OF < r["takeover"] < AS_OF + dt.timedelta(days=3 * 365)
    assert r["trend_pp"] < 0 < r["challenger_trend_pp"]


def test_settled_area_is_reached(result: dict[str, dict]) -> None:
    r = result["tokenizer"]
    assert r["cross_90"]["status"] == "reached" and r["cross_95"]["status"] == "reached"
    assert r["cross_90"]["date"] <= dt.date(2017, 1, 1)


def test_area_without_skill_shows_persistence(result: dict[str, dict]) -> None:
    r = result["normalization"]
    assert r["fit"] == NO_SKILL and r["method"] == "persistence"
    assert "persistence" in r["no_fit_reason"]
    assert r["cross_90"]["status"] == NO_SKILL and r["cross_90"]["date"] is None
    now = r["shares"][-1]
    assert now["method"] == "persistence"
    assert now["shares"][r["leader"]] == pytest.approx(r["leader_share"])


def test_crossings_never_at_or_before_the_as_of_date_unless_reached(
        result: dict[str, dict]) -> None:
    for r in result.values():
        for key in ("cross_90", "cross_95"):
            cell = r[key]
            if cell["status"] == "forecast":
                assert cell["date"] > AS_OF
                assert cell["low"] is None or cell["low"] > AS_OF
                assert cell["high"] is None or cell["high"] >= cell["low"]
            elif cell["status"] == "reached":
                assert cell["date"] <= AS_OF


def test_one_trend_shared_with_the_matrix(clf: Classifier, result: dict[str, dict]) -> None:
    for m in clf.classify(AS_OF, certainty=False):
        r = result[m.area]
        assert r["leader"] == m.leader
        assert r["trend_pp"] == pytest.approx(m.leader_trend_pp, abs=1e-9)
        if m.challenger is not None and r["challenger"] == m.challenger:
            assert r["challenger_trend_pp"] == pytest.approx(m.challenger_trend_pp, abs=1e-9)
