"""`convergent forecast` and its subcommands on a small synthetic store."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from convergent.cli import app
from convergent.forecast.synthetic import logistic_path, path_frames
from convergent.store import Store

AS_OF = dt.date(2025, 12, 31)


@pytest.fixture(scope="module")
def store() -> Store:
    s = Store(None)
    s.replace_origin("synthetic", path_frames(
        {"ffn": logistic_path(1.0, -1.0, rest=(1.0,)),
         "normalization": logistic_path(0.8, -2.0, rest=(0.8, 0.2))},
        start=dt.date(2018, 1, 1), end=AS_OF, ref=AS_OF, per_month=25,
        rng=np.random.default_rng(1)))
    return s


@pytest.fixture
def run(store: Store, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("convergent.store.open_store", lambda db=None, **kw: store)
    runner = CliRunner()

    def invoke(*args: str):
        res = runner.invoke(app, ["forecast", *args])
        assert res.exit_code == 0, res.output
        return res.output

    return invoke


def test_forecast_default_json_and_table(run) -> None:
    rows = json.loads(run("--area", "ffn", "--json", "--bootstrap", "40"))
    assert [r["area"] for r in rows] == ["ffn"]
    r = rows[0]
    assert [c["horizon"] for c in r["shares"]] == [1, 2]
    for cell in r["shares"]:
        assert abs(sum(cell["shares"].values()) - 1.0) < 1e-9
        assert set(cell["low"]) == set(cell["shares"]) == set(r["components"])
    text = run("--area", "ffn", "--bootstrap", "0", "--lang", "zh")
    assert "收敛时间预测" in text and "截至 2025-12-31" in text
    csv = run("--area", "ffn", "--csv", "--bootstrap", "0")
    head = csv.splitlines()[0]
    assert "cross_90_date" in head and "share_1y_dense" in head and "high_2y_other" in head


def test_backtest_command(run) -> None:
    data = json.loads(run("backtest", "--json"))
    assert {"pooled", "areas", "default_method", "selection", "predictability",
            "rows"} <= set(data)
    methods = {s["method"] for s in data["pooled"]}
    assert methods >= {"persistence", "linear", "auto"}
    assert {s["horizon"] for s in data["pooled"]} == {1, 2}
    assert all("coverage" in s and "skill_vs_linear" in s for s in data["pooled"])
    early = json.loads(run("backtest", "--as-of", "2022-06-30", "--json"))
    assert early["as_of"] == "2022-06-30"
    assert max(r["target"] for r in early["rows"]) <= "2022-06-30"
    assert "Per area (auto)" in run("backtest")


def test_history_and_timeline_commands(run) -> None:
    phases = json.loads(run("history", "--no-segments", "--json"))
    assert phases and {"area", "level", "start", "end", "quarters"} <= set(phases[0])
    quarters = json.loads(run("history", "--no-segments", "--quarterly", "--json"))
    assert len(quarters) >= len(phases)
    text = run("timeline", "--no-segments", "--bootstrap", "0")
    assert text.startswith("gantt\n") and "section Architecture" in text
    data = json.loads(run("timeline", "--no-segments", "--bootstrap", "0", "--json"))
    assert data["mermaid"] == text and data["rows"]
