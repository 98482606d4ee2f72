"""Observational scaling: reading tables, PCA with missing values, sigmoids, held-out families."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from convergent.capability import observe as ob
from convergent.errors import ConvergentError

FIXTURES = Path(__file__).parent / "fixtures" / "capability"
REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / \
    "obsscaling-base-llm-benchmark-eval.csv"


def planted(tmp_path: Path, n: int = 60, missing: float = 0.1, seed: int = 0,
            percent: bool = False) -> tuple[Path, np.ndarray]:
    """A table driven by one hidden factor f, written as CSV; returns its path and f."""
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    loads = np.array([1.0, 0.8, 1.2, 0.9, 1.1, 0.7])
    mids = np.array([0.0, 0.5, -0.5, 0.2, -0.2, 0.8])
    x = 0.2 + 0.7 / (1 + np.exp(-(loads[None, :] * (f[:, None] - mids[None, :])))) \
        + rng.normal(scale=0.01, size=(n, loads.size))
    mask = rng.random(x.shape) < missing
    mask[:, 0] = False
    lines = ["Model,Model Family,FLOPs (1E21)," + ",".join(f"B{j}" for j in range(loads.size))]
    for i in range(n):
        cells = ["" if mask[i, j] else f"{(100 if percent else 1) * x[i, j]:.6f}"
                 for j in range(loads.size)]
        flops = 10 ** (f[i] + rng.normal(scale=0.5))
        lines.append(f"model-{i},fam-{i // 3},{flops:.6g}," + ",".join(cells))
    path = tmp_path / ("planted_pct.csv" if percent else "planted.csv")
    path.write_text("\n".join(lines) + "\n")
    return path, f


def test_pca_recovers_a_planted_factor(tmp_path):
    path, f = planted(tmp_path)
    table = ob.read_table(path)
    assert len(table.models) == 60                      # rows with gaps are kept
    assert np.isnan(table.scores).sum() >= 15
    fit = ob.pca(table.scores)
    assert fit.explained[0] > 0.9
    assert np.corrcoef(fit.scores[:, 0], f)[0, 1] > 0.98  # same sign: higher is more capable
    assert (fit.components[0] > 0).all()


def test_imputation_is_close_to_the_hidden_values(tmp_path):
    path, _ = planted(tmp_path, missing=0.0)
    full = ob.read_table(path).scores
    holes = full.copy()
    rng = np.random.default_rng(1)
    mask = rng.random(holes.shape) < 0.15
    holes[mask] = np.nan
    a, b = ob.pca(full), ob.pca(holes)
    assert b.iterations > 0
    assert abs(a.explained[0] - b.explained[0]) < 0.03
    assert abs(np.corrcoef(a.scores[:, 0], b.scores[:, 0])[0, 1]) > 0.99


def test_percent_and_fraction_tables_agree(tmp_path):
    frac, _ = planted(tmp_path)
    pct, _ = planted(tmp_path, percent=True)
    a, b = ob.observe(frac, loo=False), ob.observe(pct, loo=False)
    assert b.percent_columns == a.benchmarks and a.percent_columns == []
    assert a.pc1_share == pytest.approx(b.pc1_share, abs=1e-6)


def test_sigmoid_recovers_its_parameters():
    x = np.linspace(-3, 3, 80)
    y = ob.sigmoid(x, 0.25, 0.9, 2.0, 0.5)
    fit = ob.fit_sigmoid(x, y)
    assert (fit.floor, fit.top, fit.slope, fit.mid) == pytest.approx((0.25, 0.9, 2.0, 0.5),
                                                                     abs=1e-3)
    assert fit.r2 == pytest.approx(1.0) and fit.rmse_pp < 1e-3
    assert ob.fit_sigmoid(x[:4], y[:4]) is None


def test_family_folds_never_share_rows():
    fams = ["a", "b", "a", "c", "b", "a"]
    folds = ob.family_folds(fams)
    assert [f for f, _, _ in folds] == ["a", "b", "c"]
    for fam, train, test in folds:
        assert set(train).isdisjoint(test) and set(train) | set(test) == set(range(6))
        assert all(fams[i] == fam for i in test) and all(fams[i] != fam for i in train)


def test_held_out_family_cannot_see_its_own_scores(tmp_path):
    path, _ = planted(tmp_path, n=30)
    table = ob.read_table(path)
    base = ob.leave_family_out(table)
    rows = [i for i, fam in enumerate(table.families) if fam == "fam-2"]
    table.scores[rows, 2] = [0.99, 0.01, 0.5]          # the held-out family's target changes
    moved = ob.leave_family_out(table)
    for method in ("pc1", "compute", "mean"):
        np.testing.assert_allclose(moved[method][rows, 2], base[method][rows, 2])
    others = [i for i in range(30) if i not in rows]
    assert not np.allclose(moved["mean"][others, 2], base["mean"][others, 2])


def test_prediction_beats_the_mean_on_planted_data(tmp_path):
    path, _ = planted(tmp_path)
    res = ob.observe(path)
    overall = res.loo[-1]
    assert overall["benchmark"] == "all"
    assert overall["mae_pc1_pp"] < 0.5 * overall["mae_mean_pp"]


def test_non_numeric_score_names_model_column_and_place():
    with pytest.raises(ConvergentError) as exc:
        ob.read_table(FIXTURES / "bad_value.csv")
    msg = str(exc.value)
    assert "'m4'" in msg and "GSM8K" in msg and "'about 0.2'" in msg
    assert exc.value.where.endswith("bad_value.csv:5:5")


def test_duplicate_model_is_named():
    with pytest.raises(ConvergentError) as exc:
        ob.read_table(FIXTURES / "duplicate.csv")
    assert "'m2' appears twice (lines 3 and 5)" in str(exc.value)


@pytest.mark.parametrize(("text", "match"), [
    ("Name2,A,B\nx,1,2\n", "no model column"),
    ("Model,A\nx,1\n", "at least two benchmark"),
    ("Model,A,B\na,1,2\nb,1,2\nc,1,2\nd,1,2\ne,1,200\n", "score 200 is outside 0–100"),
    ("Model,A,B\na,1,2\nb,1\n", "row has 2 cells"),
])
def test_malformed_tables(tmp_path, text, match):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(ConvergentError, match=match):
        ob.read_table(path)


def test_cli_observe_json(tmp_path, capsys, monkeypatch):
    from convergent.cli import main

    path, _ = planted(tmp_path, n=30)
    monkeypatch.setattr(sys, "argv", ["convergent", "capability", "observe", str(path),
                                      "--json"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code in (0, None)
    data = json.loads(capsys.readouterr().out)
    assert data["n_models"] == 30 and data["pc1_share"] > 0.9
    assert [f["benchmark"] for f in data["fits"]] == [f"B{j}" for j in range(6)]


def test_cli_observe_bad_table_exits_2(capsys, monkeypatch):
    from convergent.cli import main

    monkeypatch.setattr(sys, "argv", ["convergent", "capability", "observe",
                                      str(FIXTURES / "duplicate.csv")])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    assert "appears twice" in capsys.readouterr().err


def test_real_observational_scaling_table():
    if not REAL.exists():
        pytest.skip("../shared/data/obsscaling-base-llm-benchmark-eval.csv is not present")
    res = ob.observe(REAL)
    assert res.n_models == 148 and res.n_families == 47
    assert sum(res.missing.values()) == 40              # rows with gaps are all kept
    assert 0.75 < res.pc1_share < 0.85                  # 0.792 at the time of writing
    assert res.pc1_share_pairwise == pytest.approx(res.pc1_share, abs=0.02)
    overall = res.loo[-1]
    assert overall["mae_pc1_pp"] < overall["mae_compute_pp"] < overall["mae_mean_pp"]


def _synthetic(tmp_path, family: bool, compute: bool) -> Path:
    rng = np.random.default_rng(3)
    n, m = 12, 4
    skill = np.linspace(-2.0, 2.0, n)
    scores = 100.0 / (1.0 + np.exp(-(skill[:, None] - rng.normal(0, 0.5, m))))
    head = ["Model"] + (["Model Family"] if family else []) + (["FLOPs (1E21)"] if compute
                                                               else [])
    lines = [",".join(head + [f"B{j}" for j in range(m)])]
    for i in range(n):
        row = [f"m{i}"] + ([f"f{i // 3}"] if family else []) + (
            [f"{10 ** (skill[i] + 2):.4g}"] if compute else [])
        lines.append(",".join(row + [f"{v:.2f}" for v in scores[i]]))
    p = tmp_path / "t.csv"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_no_compute_and_no_family_are_said_and_pc1_still_reported(tmp_path) -> None:
    res = ob.observe(_synthetic(tmp_path, family=False, compute=False))
    assert any("no compute column" in n for n in res.notes)
    assert any("no family column" in n for n in res.notes)
    allrow = res.loo[-1]
    assert allrow["benchmark"] == "all" and allrow["n"] > 0
    assert allrow["mae_pc1_pp"] is not None and allrow["mae_compute_pp"] is None


def test_complete_table_has_no_notes(tmp_path) -> None:
    res = ob.observe(_synthetic(tmp_path, family=True, compute=True))
    assert res.notes == [] and res.n_families == 4
    assert res.loo[-1]["mae_compute_pp"] is not None


def test_imputation_cap_is_flagged() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0.2, 0.8, (20, 5))
    x[rng.random(x.shape) < 0.3] = np.nan
    assert not ob.pca(x, max_iter=1).converged
    assert ob.pca(x, max_iter=5000).converged
