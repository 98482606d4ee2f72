"""Forecasts of planted S-curves: crossing dates, intervals, takeovers and 'no fit'."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy.special import expit

from convergent.classify import Classifier
from convergent.config import load_config
from convergent.forecast.crossings import forecast_areas
from convergent.forecast.synthetic import logistic_path, path_frames
from convergent.store import Store

AS_OF = dt.date(2025, 12, 31)
START = dt.date(2019, 1, 1)
CFG = load_config()


def _const(p: list[float]):
    return lambda t: np.tile(np.asarray(p, float), (len(t), 1))


@pytest.fixture(scope="module")
def result() -> dict[str, dict]:
    plan = {
        "ffn": logistic_path(1.0, -1.0, rest=(1.0,)),               # dense rising (option 0)
        "agent_protocol": logistic_path(-1.5, 0.4, rest=(1.0,)),    # MCP falling, A2A rising
        "tokenizer": _const([1.0, 0.0]),                            # always one option
        "normalization": _const([0.6, 0.3, 0.1]),                   # flat: no trend
    }
    store = Store(None)
    store.replace_origin("synthetic", path_frames(
        plan, start=START, end=AS_OF, ref=AS_OF, per_month=40, rng=np.random.default_rng(3)))
    late = path_frames({"optimizer": logistic_path(2.0, 0.0)}, start=dt.date(2025, 3, 1),
                       end=AS_OF, ref=AS_OF, per_month=40, rng=np.random.default_rng(4),
                       prefix="late")
    store.append("entities", late["entities"])
    store.append("adoptions", late["adoptions"])
    clf = Classifier(store, CFG, areas=[*plan, "optimizer"])
    rows = forecast_areas(store, AS_OF, CFG, clf=clf, bootstrap=150)
    return {r["area"]: r for r in rows}


def _window_crossing(share, thr: float) -> float:
    """Years after the as-of date when the trailing 12-month mean share reaches thr."""
    grid = np.arange(0, 10, 1 / 365.25)
    inner = np.linspace(0, 1, 200)
    w = np.array([share(g - inner).mean() for g in grid[::7]])
    return float(grid[::7][np.argmax(w >= thr)])


def test_leader_crossing_matches_planted_curve(result: dict[str, dict]) -> None:
    r = result["ffn"]
    assert r["fit"] == "ok" and r["target"] == "dense" and r["target_role"] == "leader"
    for key, thr in (("cross_90", 0.90), ("cross_95", 0.95)):
        truth = AS_OF + dt.timedelta(days=365.25 * _window_crossing(
            lambda t: expit(1.0 * (t + 1.0)), thr))
        cell = r[key]
        assert cell["status"] == "forecast"
        assert abs((cell["date"] - truth).days) < 240, (key, cell, truth)
        assert cell["low"] <= truth <= cell["high"], (key, cell, truth)
        assert cell["low"] <= cell["date"] <= cell["high"]


def test_rising_challenger_takes_over(result: dict[str, dict]) -> None:
    r = result["agent_protocol"]
    assert r["leader"] == "MCP"
    assert r["target"] == "A2A" and r["target_role"] == "challenger"
    truth = AS_OF + dt.timedelta(days=365.25 * _window_crossing(
        lambda t: expit(1.5 * (t - 0.4)), 0.5))
    assert abs((r["takeover"] - truth).days) < 200
    assert r["cross_90"]["status"] == "forecast"
    assert r["cross_90"]["date"] > r["takeover"]


def test_settled_area_is_reached_without_a_fit(result: dict[str, dict]) -> None:
    r = result["tokenizer"]
    assert r["fit"] == "no fit" and r["no_fit_reason"].startswith("no trend")
    assert r["cross_90"]["status"] == "reached" and r["cross_95"]["status"] == "reached"
    assert r["cross_90"]["date"] <= dt.date(2020, 1, 1)


def test_flat_area_has_no_fit_and_says_why(result: dict[str, dict]) -> None:
    r = result["normalization"]
    assert r["fit"] == "no fit"
    assert "no trend" in r["no_fit_reason"]
    assert r["cross_90"]["status"] == "no fit"


def test_short_history_has_no_fit(result: dict[str, dict]) -> None:
    r = result["optimizer"]
    assert r["fit"] == "no fit"
    assert "usable windows" in r["no_fit_reason"]


def test_no_evidence_after_as_of_is_used(result: dict[str, dict]) -> None:
    """The forecast is a function of windows ending by the as-of date only."""
    plan = {"ffn": logistic_path(1.0, 1.0, rest=(1.0,))}
    store = Store(None)
    store.replace_origin("synthetic", path_frames(
        plan, start=START, end=AS_OF, ref=AS_OF, per_month=40, rng=np.random.default_rng(3)))
    before = forecast_areas(store, dt.date(2024, 12, 31), CFG, areas=["ffn"], bootstrap=30)
    later = path_frames({"ffn": lambda t: np.tile([0.0, 1.0], (len(t), 1))},
                        start=dt.date(2025, 1, 1), end=dt.date(2026, 12, 31), ref=AS_OF,
                        per_month=200, rng=np.random.default_rng(9), prefix="jump")
    store.append("entities", later["entities"])
    store.append("adoptions", later["adoptions"])
    after = forecast_areas(store, dt.date(2024, 12, 31), CFG, areas=["ffn"], bootstrap=30)
    assert before[0]["params"] == after[0]["params"]
    assert before[0]["cross_90"] == after[0]["cross_90"]
