"""Runs held in the store are fitted per group for the report."""

from __future__ import annotations

import numpy as np
import pandas as pd

from convergent.scaling import fit_store_runs
from convergent.schema import table_frame
from convergent.store import Store


def _store(groups: dict[str, pd.DataFrame]) -> Store:
    store = Store(None)
    frames = [df.assign(group_name=name, run_id=[f"{name}-{i}" for i in range(len(df))],
                        source_id="test") for name, df in groups.items()]
    store.append("runs", table_frame("runs", pd.concat(frames, ignore_index=True)))
    return store


def _chinchilla_runs(rng: np.random.Generator, n: int = 60) -> pd.DataFrame:
    N = 10 ** rng.uniform(7.5, 10.5, n)
    D = 10 ** rng.uniform(9, 11.5, n)
    loss = 1.8 + 400 / N**0.34 + 1800 / D**0.28
    loss *= np.exp(rng.normal(0, 0.003, n))
    return pd.DataFrame({"params": N, "tokens": D, "compute": 6 * N * D, "loss": loss})


def test_each_group_gets_its_own_fit_and_points() -> None:
    rng = np.random.default_rng(3)
    comp_only = _chinchilla_runs(rng, 40).drop(columns=["params", "tokens"])
    out = fit_store_runs(_store({"a": _chinchilla_runs(rng), "b": comp_only,
                                 "tiny": _chinchilla_runs(rng, 3)}))
    by = {f["group"]: f for f in out["fits"]}
    assert by["a"]["form"] == "chinchilla" and by["a"]["status"] == "ok"
    assert abs(by["a"]["params"]["E"] - 1.8) < 0.1
    assert abs(by["a"]["params"]["alpha"] - 0.34) < 0.05
    assert by["b"]["form"] == "power-C"
    assert by["tiny"]["status"].startswith("too few runs")
    kinds = {(p["group"], p["kind"]) for p in out["points"]}
    assert {("a", "run"), ("a", "fit")} <= kinds
    assert not any(p["group"] == "tiny" for p in out["points"])


def test_empty_store_has_nothing_to_fit() -> None:
    assert fit_store_runs(Store(None)) == {"fits": [], "points": []}
