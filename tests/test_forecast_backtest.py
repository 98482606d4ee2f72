"""Back-tests: honest selection, hand-worked MAE/skill/coverage arithmetic, no look-ahead
(a planted jump after an origin changes none of its predictions), and skill on trends."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from convergent.classify import Classifier
from convergent.config import load_config
from convergent.forecast import backtest as bt
from convergent.forecast.synthetic import logistic_path, path_frames
from convergent.store import Store

CFG = load_config()
START, END = dt.date(2016, 1, 1), dt.date(2025, 12, 31)
JUMP = dt.date(2022, 12, 31)
PLAN = {"ffn": logistic_path(0.9, 2021 - 2025.99, rest=(1.0,)),
        "normalization": logistic_path(0.7, 2022.5 - 2025.99, rest=(0.8, 0.2)),
        "agent_protocol": logistic_path(-1.2, 2023 - 2025.99, rest=(1.0,))}


def _store() -> Store:
    store = Store(None)
    store.replace_origin("synthetic", path_frames(
        PLAN, start=START, end=END, ref=END, per_month=30, rng=np.random.default_rng(21)))
    return store


def _run(store: Store, as_of: dt.date = END) -> dict:
    return bt.run(store, CFG, Classifier(store, CFG, areas=list(PLAN)), as_of)


@pytest.fixture(scope="module")
def base() -> dict:
    return _run(_store())


def test_origins_and_targets_stay_within_the_as_of_date(base: dict) -> None:
    rows = base["rows"]
    cutoffs = sorted({r["cutoff"] for r in rows})
    assert cutoffs[0] == dt.date(2018, 3, 31)                 # quarter ends from 2018 on
    assert cutoffs[-1] == dt.date(2024, 12, 31)                # its 1-year target is END
    assert all(r["target"] <= END for r in rows)
    assert {r["method"] for r in rows} == set(bt.methods(CFG))
    assert {r["horizon"] for r in rows} == {1, 2}
    for r in rows:
        assert r["error"] == pytest.approx(np.mean(np.abs(np.subtract(r["predicted"],
                                                                      r["actual"]))))
        assert sum(r["predicted"]) == pytest.approx(1.0, abs=1e-9)
        assert sum(r["actual"]) == pytest.approx(1.0, abs=1e-9)
    early = _run(_store(), dt.date(2021, 6, 30))["rows"]
    assert max(r["target"] for r in early) <= dt.date(2021, 6, 30)
    assert max(r["cutoff"] for r in early) == dt.date(2020, 6, 30)


def test_trends_beat_persistence_on_trending_data(base: dict) -> None:
    by = {(s["method"], s["horizon"]): s for s in bt.summary(base["rows"])}
    assert by[("persistence", 1)]["skill"] == 0.0
    for h in (1, 2):
        assert by[("logratio_1", h)]["skill"] > 0.2, by[("logratio_1", h)]
        assert by[("auto", h)]["skill"] > 0.1, by[("auto", h)]
        assert 0.75 <= by[("auto", h)]["coverage"] <= 1.0, by[("auto", h)]
    assert base["chosen"][1] != "persistence"


def test_planted_jump_after_an_origin_changes_none_of_its_predictions(base: dict) -> None:
    store = _store()
    jump = path_frames({a: (lambda t: np.tile([0.0, 1.0], (len(t), 1))) for a in PLAN},
                       start=JUMP + dt.timedelta(days=1), end=END, ref=END,
                       per_month=300, rng=np.random.default_rng(5), prefix="jump",
                       origin="jump")
    store.append("entities", jump["entities"])
    store.append("adoptions", jump["adoptions"])
    jumped = _run(store)

    def upto(rows: list[dict]) -> dict:
        return {(r["cutoff"], r["area"], r["horizon"], r["method"]): r for r in rows
                if r["cutoff"] <= JUMP}

    a, b = upto(base["rows"]), upto(jumped["rows"])
    assert a and a.keys() == b.keys()
    for key in a:
        assert a[key]["predicted"] == b[key]["predicted"], key
        assert a[key]["labels"] == b[key]["labels"]
    assert any(abs(a[k]["error"] - b[k]["error"]) > 0.05 for k in a)   # outcomes moved


def _bank(errors: dict[str, list[float]], area: str = "x", h: int = 1) -> bt.ErrorBank:
    bank = bt.ErrorBank()
    for m, errs in errors.items():
        for e in errs:
            bank.add(m, area, h, e, (np.zeros(2), np.ones(2, bool)))
    return bank


def test_selection_needs_enough_resolved_cases_and_a_real_gain() -> None:
    few = _bank({"persistence": [0.2] * 7, "linear": [0.1] * 7})
    assert few.choose(["linear"], [1], min_cases=8) == "persistence"
    bank = _bank({"persistence": [0.2] * 8, "linear": [0.1] * 8, "logratio_1": [0.3] * 8})
    assert bank.choose(["linear", "logratio_1"], [1], 8) == "linear"
    assert bank.ratio("linear", [1], 8) == pytest.approx(0.5)
    tie = _bank({"persistence": [0.2] * 8, "linear": [0.2] * 8})
    assert tie.choose(["linear"], [1], 8) == "persistence"


def test_area_without_skill_falls_back_to_persistence() -> None:
    bank = _bank({"persistence": [0.2] * 4, "linear": [0.25] * 4}, area="bad")
    bank2 = _bank({"persistence": [0.2] * 4, "linear": [0.1] * 4}, area="good")
    assert bt.area_method(bank, "linear", "bad", 1, 4) == "persistence"
    assert bt.area_method(bank2, "linear", "good", 1, 4) == "linear"
    assert bt.area_method(bank2, "linear", "unseen", 1, 4) == "linear"
    assert bank.area_skill("linear", "bad", [1], 4) == pytest.approx(-0.25)


def test_miss_rate_widens_after_misses() -> None:
    bank = bt.ErrorBank()
    assert bank.miss_rate("m", 1, 0.9) == pytest.approx(0.1)
    bank.cov[("m", 1)] = [95, 100]            # covering more than asked: nominal
    assert bank.miss_rate("m", 1, 0.9) == pytest.approx(0.1)
    bank.cov[("m", 1)] = [85, 100]            # 15 % missed: aim for 10 − 2·5 = 0 → floor
    assert bank.miss_rate("m", 1, 0.9) == pytest.approx(0.005)
    bank.cov[("m", 1)] = [88, 100]            # 12 % missed: aim for 6 %
    assert bank.miss_rate("m", 1, 0.9) == pytest.approx(0.06)


def test_interval_and_coverage_by_hand() -> None:
    pred = np.array([0.5, 0.5, 0.0])
    q = {True: (-0.5, 0.5), False: (0.0, 2.0)}
    present = np.array([True, True, False])
    lo, hi = bt.interval(pred, 100.0, q, present)
    sd = np.sqrt(0.25 + 0.01)                       # √(s(1 − s) + 1/n)
    assert lo[:2] == pytest.approx([0.5 - sd / 2] * 2)
    assert hi[:2] == pytest.approx([0.5 + sd / 2] * 2)
    assert lo[2] == 0.0 and hi[2] == pytest.approx(0.2)     # 0 + 2 · √(0 + 0.01)
    act = np.array([0.9, 0.1, 0.0])                 # first two outside, the last inside
    assert bt._covered(act, pred, 100.0, q, present) == 1


def test_summary_arithmetic() -> None:
    rows = []
    for m, errs in (("persistence", [0.2, 0.4]), ("linear", [0.1, 0.2]), ("auto", [0.3, 0.3])):
        rows += [{"method": m, "horizon": 1, "error": e, "area": "x", "layer": "y",
                  "covered": 2, "components": 4} for e in errs]
    got = {s["method"]: s for s in bt.summary(rows)}
    assert got["persistence"]["mae"] == pytest.approx(0.3)
    assert got["linear"]["skill"] == pytest.approx(0.5)
    assert got["auto"]["skill"] == pytest.approx(0.0)
    assert got["auto"]["skill_vs_linear"] == pytest.approx(1 - 0.3 / 0.15)
    assert got["auto"]["coverage"] == pytest.approx(0.5)
    pred = bt.predictability(rows, by="layer")
    assert pred["y"]["mae"] == pytest.approx(0.3) and pred["y"]["stars"] == 1


@pytest.mark.parametrize(("mae", "stars"), [(0.0, 5), (0.03, 5), (0.05, 4), (0.08, 3),
                                            (0.12, 2), (0.5, 1)])
def test_stars_from_mae(mae: float, stars: int) -> None:
    assert bt.stars_for_mae(mae, [0.03, 0.06, 0.10, 0.15]) == stars
