"""No look-ahead: evidence dated after D, of any area and option (new ones included),
leaves every output at --as-of D unchanged, bit for bit."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from convergent.classify import Classifier
from convergent.config import load_config
from convergent.forecast.backtest import run
from convergent.forecast.crossings import forecast_areas
from convergent.forecast.predictions import evaluate_predictions
from convergent.forecast.synthetic import logistic_path, options_of, path_frames
from convergent.registry import registry
from convergent.store import Store

CFG = load_config()
D = dt.date(2023, 6, 30)
PLAN = {"ffn": logistic_path(1.2, -1.0, rest=(1.0,)),
        "normalization": logistic_path(0.8, -2.0, rest=(0.7, 0.3)),
        "agent_protocol": logistic_path(-1.0, 0.0, rest=(1.0,))}
REGISTRY = """
predictions:
  - id: resolved-before-d
    statement: {zh: 中, en: dense holds}
    made: 2022-01-01
    due: 2023-03-31
    probability: 0.6
    metric: {measure: share, area: ffn, option: dense}
    comparator: ">="
    threshold: 0.5
    resolver: {kind: metric, when: at}
  - id: due-after-d
    statement: {zh: 中, en: MCP leads}
    made: 2022-01-01
    due: 2024-06-30
    metric: {measure: leader, area: agent_protocol}
    comparator: "=="
    threshold: MCP
    resolver: {kind: metric, when: by}
"""


def _base() -> Store:
    store = Store(None)
    store.replace_origin("synthetic", path_frames(
        PLAN, start=dt.date(2016, 1, 1), end=D, ref=D, per_month=20,
        rng=np.random.default_rng(11)))
    return store


def _later(seed: int, months: int, per_month: int) -> dict[str, Any]:
    """Random evidence dated after D: every option of each area (also ones never seen
    before D) with random weights."""
    rng = np.random.default_rng(seed)
    plan = {}
    for area in [*PLAN, "attention"]:
        k = len(registry().areas[area].options)
        p = rng.dirichlet(np.ones(k))
        plan[area] = (lambda t, p=p: np.tile(p, (len(t), 1)))
        assert len(options_of(area, k)) == k
    return path_frames(plan, start=D + dt.timedelta(days=1),
                       end=D + dt.timedelta(days=30 * months), ref=D,
                       per_month=per_month, rng=rng, prefix=f"late{seed}", origin="late")


def _dump(x: Any) -> str:
    return json.dumps(x, default=str, sort_keys=True)


def _outputs(store: Store, registry_file: Path) -> dict[str, str]:
    clf = Classifier(store, CFG, areas=[*PLAN, "attention"])
    state = run(store, CFG, clf, D)
    return {
        "backtest": _dump(state["rows"]),
        "chosen": _dump(state["chosen"]),
        "forecast": _dump(forecast_areas(store, D, CFG, clf=clf, bootstrap=25, state=state)),
        "predictions": _dump(evaluate_predictions(store, CFG, registry_file, D,
                                                  include_packaged=False, clf=clf)),
        "matrix": _dump([r.to_dict() for r in clf.classify(D, certainty=False)]),
    }


@pytest.fixture(scope="module")
def registry_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("reg") / "mine.yaml"
    path.write_text(REGISTRY, "utf-8")
    return path


@pytest.fixture(scope="module")
def before(registry_file: Path) -> dict[str, str]:
    return _outputs(_base(), registry_file)


@settings(max_examples=5, deadline=None, phases=[Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31 - 1), months=st.integers(1, 36),
       per_month=st.integers(1, 80))
def test_later_evidence_changes_nothing_at_d(before: dict[str, str], registry_file: Path,
                                            seed: int, months: int, per_month: int) -> None:
    store = _base()
    late = _later(seed, months, per_month)
    for name in ("entities", "adoptions", "segments"):
        store.append(name, late[name])
    after = _outputs(store, registry_file)
    changed = [key for key in before if before[key] != after[key]]
    assert not changed, f"outputs at {D} changed: {changed}"


def test_outputs_at_d_are_not_empty(before: dict[str, str]) -> None:
    """The comparison above compares something: rows, forecasts and a resolution."""
    rows = json.loads(before["backtest"])
    assert rows and max(r["target"] for r in rows) <= D.isoformat()
    preds = {p["id"]: p for p in json.loads(before["predictions"])}
    assert preds["resolved-before-d"]["status"] == "resolved"
    assert preds["due-after-d"]["status"] in ("open", "resolved")
    assert len(json.loads(before["forecast"])) == 4


def test_certainty_ignores_later_evidence() -> None:
    """Certainty resampling (multinomial redraws, window end moved back) at D is unchanged."""
    store = _base()
    clf = Classifier(store, CFG, areas=list(PLAN))
    a = _dump([r.to_dict() for r in clf.classify(D)])
    late = _later(7, 3, 60)
    for name in ("entities", "adoptions", "segments"):
        store.append(name, late[name])
    b = _dump([r.to_dict() for r in Classifier(store, CFG, areas=list(PLAN)).classify(D)])
    assert a == b
