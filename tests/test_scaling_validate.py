"""Hold-out validation and form comparison."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import convergent.scaling.validate as validate
from convergent.errors import ConvergentError
from convergent.scaling.runs import Runs, read_runs

FIX = Path(__file__).parent / "fixtures" / "scaling"


def test_split_holds_out_the_largest_compute() -> None:
    runs = read_runs(FIX / "runs_small.csv")
    train, test = validate.holdout_split(runs, "C", 0.2)
    assert test.sum() == 6
    assert runs.columns["C"][test].min() >= runs.columns["C"][train].max()
    _, test3 = validate.holdout_split(runs, "C", 3)
    assert test3.sum() == 3
    # 30 runs, 5 parameters: up to 30 - (5 + 1) = 24 may be held out, not 25
    _, test24 = validate.holdout_split(runs, "C", 24, n_params=5)
    assert test24.sum() == 24
    with pytest.raises(ConvergentError, match="at most 24"):
        validate.holdout_split(runs, "C", 25, n_params=5)
    _, one = validate.holdout_split(runs, "C", 1, n_params=5)
    assert one.sum() == 1
    with pytest.raises(ConvergentError, match="count of runs"):
        validate.holdout_split(runs, "C", 2.5)


def test_holdout_never_fits_on_held_out_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = read_runs(FIX / "runs_small.csv")
    seen: list[np.ndarray] = []
    real = validate.fit

    def spy(r: Runs, *args, **kwargs):
        seen.append(r.rows.copy())
        return real(r, *args, **kwargs)

    monkeypatch.setattr(validate, "fit", spy)
    out = validate.holdout(runs, "power-C", holdout=0.2, show_progress=False)
    assert len(seen) == 1
    held = set(out["test_rows"])
    assert held and held.isdisjoint(seen[0].tolist())
    assert held.isdisjoint(out["train_rows"])
    c = dict(zip(runs.rows.tolist(), runs.columns["C"], strict=True))
    assert min(c[r] for r in held) >= max(c[r] for r in out["train_rows"])
    assert 0 <= out["error"]["mean"] <= out["error"]["max"]


def test_compare_ranks_planted_law_above_constant() -> None:
    rng = np.random.default_rng(11)
    n = np.repeat(np.geomspace(3e7, 3e10, 8), 5)
    d = n * np.tile([5, 10, 20, 40, 80], 8)
    loss = (1.69 + 406.4 / n**0.34 + 410.7 / d**0.28) * np.exp(rng.normal(0, 0.003, n.size))
    runs = Runs.from_columns({"N": n, "D": d, "loss": loss})
    out = validate.compare(runs, ["chinchilla", "power-C", "constant"], holdout=0.15,
                           show_progress=False)
    ranks = {r["form"]: r["rank"] for r in out["forms"]}
    assert ranks["chinchilla"] < ranks["constant"]
    assert ranks["constant"] == 3
    assert out["verdict"]["power_law_supported"] is True
    assert out["verdict"]["best"] in ("chinchilla", "power-C")


def test_compare_says_no_power_law_on_noise() -> None:
    rng = np.random.default_rng(12)
    c = np.geomspace(1e18, 1e24, 30)
    runs = Runs.from_columns({"C": c, "loss": 2.5 * np.exp(rng.normal(0, 0.02, c.size))})
    out = validate.compare(runs, ["power-C", "constant"], holdout=0.2, show_progress=False)
    assert out["verdict"]["power_law_supported"] is False


def test_candidate_forms_follow_columns() -> None:
    assert "chinchilla" in validate.candidate_forms(read_runs(FIX / "runs_small.csv"))
    assert validate.candidate_forms(read_runs(FIX / "accuracy.csv"))[0] == "sigmoid-C"
    assert validate.candidate_forms(read_runs(FIX / "coverage.csv"))[:2] == ["testtime",
                                                                             "coverage"]


def test_compare_test_time_holds_out_largest_k() -> None:
    runs = read_runs(FIX / "coverage.csv")
    out = validate.compare(runs, holdout=3, show_progress=False)
    assert out["scale"] == "k"
    ks = dict(zip(runs.rows.tolist(), runs.columns["k"], strict=True))
    assert sorted(ks[r] for r in out["test_rows"]) == sorted(runs.columns["k"])[-3:]
    assert out["forms"][0]["form"] in ("coverage", "testtime")
