"""Back-tests: no look-ahead (a planted jump after the cutoff changes nothing), MAE and
skill arithmetic, and predictability stars."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from convergent.classify import Classifier
from convergent.config import load_config
from convergent.forecast.backtest import (
    ALL_METHODS,
    backtest,
    predictability,
    stars_for_mae,
    summary,
)
from convergent.forecast.synthetic import logistic_path, path_frames
from convergent.store import Store

CFG = load_config()
START, END = dt.date(2017, 1, 1), dt.date(2025, 12, 31)
CUTOFF = dt.date(2022, 12, 31)
PLAN = {"ffn": logistic_path(0.9, 2021 - 2025.99, rest=(1.0,)),
        "normalization": logistic_path(0.7, 2022.5 - 2025.99, rest=(0.8, 0.2)),
        "agent_protocol": logistic_path(-1.2, 2023 - 2025.99, rest=(1.0,))}


def _store() -> Store:
    store = Store(None)
    store.replace_origin("synthetic", path_frames(
        PLAN, start=START, end=END, ref=END, per_month=30, rng=np.random.default_rng(21)))
    return store


def _run(store: Store) -> list[dict]:
    return backtest(store, CFG, clf=Classifier(store, CFG, areas=list(PLAN)), data_end=END)


@pytest.fixture(scope="module")
def base_rows() -> list[dict]:
    return _run(_store())


def test_planted_jump_after_cutoff_leaves_predictions_unchanged(base_rows: list[dict]) -> None:
    store = _store()
    # after the cutoff every new entity picks the option that was losing
    jump = path_frames({a: (lambda t: np.tile([0.0, 1.0], (len(t), 1))) for a in PLAN},
                       start=CUTOFF + dt.timedelta(days=1), end=END, ref=END,
                       per_month=300, rng=np.random.default_rng(5), prefix="jump",
                       origin="jump")
    store.append("entities", jump["entities"])
    store.append("adoptions", jump["adoptions"])
    jumped = _run(store)

    def at_cutoff(rows: list[dict]) -> dict:
        return {(r["area"], r["horizon"], r["method"]): r for r in rows
                if r["cutoff"] == CUTOFF}

    a, b = at_cutoff(base_rows), at_cutoff(jumped)
    assert a and a.keys() == b.keys()
    for key in a:
        assert a[key]["predicted"] == b[key]["predicted"], key
        assert a[key]["option"] == b[key]["option"]
    # the jump is real: what actually happened afterwards did change
    assert any(abs(a[k]["actual"] - b[k]["actual"]) > 0.2 for k in a)


def test_rows_cover_every_method_and_horizon(base_rows: list[dict]) -> None:
    cutoffs = {r["cutoff"] for r in base_rows}
    assert min(cutoffs) == dt.date(2019, 12, 31)
    assert max(cutoffs) == dt.date(2024, 12, 31)        # 1-year target 2025-12-31 exists
    assert {r["method"] for r in base_rows} == set(ALL_METHODS)
    assert {r["horizon"] for r in base_rows} == {1, 2}
    for r in base_rows:
        target = dt.date(r["cutoff"].year + r["horizon"], 12, 31)
        assert target <= END
        assert r["error"] == pytest.approx(abs(r["predicted"] - r["actual"]))


def test_s_curves_beat_persistence_on_s_curve_data(base_rows: list[dict]) -> None:
    by = {(s["method"], s["horizon"]): s for s in summary(base_rows)}
    assert by[("persistence", 1)]["skill"] == 0.0
    for m in ("logistic", "fisher_pry", "auto"):
        assert by[(m, 1)]["skill"] > 0.3, by[(m, 1)]
        assert by[(m, 2)]["skill"] > 0.3, by[(m, 2)]


def test_summary_arithmetic() -> None:
    rows = []
    for m, errs in (("persistence", [0.2, 0.4]), ("linear", [0.1, 0.2]), ("auto", [0.3, 0.3])):
        rows += [{"method": m, "horizon": 1, "error": e, "no_fit": False, "area": "x",
                  "layer": "y"} for e in errs]
    got = {s["method"]: s for s in summary(rows)}
    assert got["persistence"]["mae"] == pytest.approx(0.3)
    assert got["linear"]["skill"] == pytest.approx(0.5)
    assert got["auto"]["skill"] == pytest.approx(0.0)
    pred = predictability(rows, by="layer")
    assert pred["y"]["mae"] == pytest.approx(0.3) and pred["y"]["stars"] == 1


@pytest.mark.parametrize(("mae", "stars"), [(0.0, 5), (0.03, 5), (0.05, 4), (0.08, 3),
                                            (0.12, 2), (0.5, 1)])
def test_stars_from_mae(mae: float, stars: int) -> None:
    assert stars_for_mae(mae, [0.03, 0.06, 0.10, 0.15]) == stars


def test_predictability_per_area_and_layer(base_rows: list[dict]) -> None:
    areas = predictability(base_rows, "area")
    layers = predictability(base_rows, "layer")
    assert set(areas) == set(PLAN)
    assert set(layers) == {"architecture", "application"}
    for v in [*areas.values(), *layers.values()]:
        assert 1 <= v["stars"] <= 5 and v["cases"] > 0
