"""Reading runs CSVs: header spellings, derived columns, and bad input naming its rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convergent.errors import ConvergentError
from convergent.scaling.fit import fit
from convergent.scaling.runs import Runs, canonical_column, read_runs

FIX = Path(__file__).parent / "fixtures" / "scaling"


@pytest.mark.parametrize(("header", "canon"), [
    ("Model Size", "N"), ("params", "N"), ("n_params", "N"), ("Training Tokens", "D"),
    ("tokens", "D"), ("Training FLOP", "C"), ("compute", "C"), ("FLOPs", "C"),
    ("Loss", "loss"), ("val_loss", "loss"), ("pass@k", "pass_at_k"), ("coverage", "pass_at_k"),
    ("acc", "accuracy"), ("group", "group"), ("x", None), ("hex_color", None),
])
def test_header_spellings(header: str, canon: str | None) -> None:
    assert canonical_column(header) == canon


def test_reads_fixture_and_derives_nothing_when_all_present() -> None:
    runs = read_runs(FIX / "runs_small.csv")
    assert len(runs) == 30
    assert set(runs.columns) == {"N", "D", "C", "loss"}
    assert runs.rows[0] == 2 and runs.rows[-1] == 31
    assert runs.warnings == []


def test_derives_tokens_from_compute(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("Model Size,Training FLOP,loss\n1e8,6e18,3.0\n2e8,6e18,2.9\n")
    runs = read_runs(p)
    assert np.allclose(runs.columns["D"], [1e10, 5e9])
    assert runs.derived == {"D": "C / (6 N)"}


def _err(path: Path, form: str = "chinchilla") -> ConvergentError:
    with pytest.raises(ConvergentError) as exc:
        fit(read_runs(path), form, show_progress=False)
    return exc.value


def test_nonpositive_names_row_and_column() -> None:
    e = _err(FIX / "bad_nonpositive.csv")
    assert "row 5" in str(e) and "must be positive" in str(e)
    assert e.where and e.where.endswith("bad_nonpositive.csv:5:N")


def test_nan_and_empty_name_rows() -> None:
    e = _err(FIX / "bad_nan.csv")
    assert "rows 7, 8" in str(e) and "missing or non-numeric loss" in str(e)
    assert e.where.endswith(":7:loss")


def test_fewer_points_than_parameters() -> None:
    e = _err(FIX / "bad_too_few.csv")
    assert "4 points" in str(e) and "5 parameters" in str(e) and "rows 2, 3, 4, 5" in str(e)


def test_every_point_at_one_scale() -> None:
    e = _err(FIX / "bad_one_scale.csv")
    assert "one scale" in str(e) and "N (parameters)" in str(e)


def test_text_in_numeric_column() -> None:
    with pytest.raises(ConvergentError) as exc:
        read_runs(FIX / "bad_text.csv")
    assert exc.value.where.endswith("bad_text.csv:4:D")
    assert "'lots'" in str(exc.value)


def test_inconsistent_compute_warns_with_row() -> None:
    runs = read_runs(FIX / "bad_inconsistent_c.csv")
    assert len(runs.warnings) == 1
    assert "row 12" in runs.warnings[0] and "6·N·D" in runs.warnings[0]
    assert ":12:C" in runs.warnings[0]


def test_missing_column_is_named(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    p.write_text("N,loss\n1e8,3\n2e8,2.9\n")
    with pytest.raises(ConvergentError, match=r"no column for D \(tokens\)"):
        fit(read_runs(p), "chinchilla", show_progress=False)


def test_accuracy_range_checked() -> None:
    runs = Runs.from_columns({"C": [1e20, 1e21, 1e22, 1e23], "accuracy": [0.3, 0.5, 1.4, 0.8]})
    with pytest.raises(ConvergentError, match=r"in \(0, 1\].*row 3"):
        fit(runs, "sigmoid", show_progress=False)


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ConvergentError, match="runs file not found"):
        read_runs(tmp_path / "nope.csv")
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(ConvergentError, match="empty file"):
        read_runs(tmp_path / "e.csv")


def test_drop_worst_removes_highest_loss() -> None:
    runs = read_runs(FIX / "runs_small.csv")
    kept = runs.drop_worst(5)
    assert len(kept) == 25
    assert kept.columns["loss"].max() < np.sort(runs.columns["loss"])[-5]
