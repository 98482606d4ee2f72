"""`convergent scaling fit | optimal | compare`: JSON output, tables, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from convergent.cli.scaling import app
from convergent.errors import ConvergentError
from convergent.scaling.fit import DegenerateFit

FIX = Path(__file__).parent / "fixtures" / "scaling"
runner = CliRunner()


def _json(args: list[str]) -> dict:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, (res.output, res.exception)
    return json.loads(res.stdout)


def test_fit_json_with_bootstrap() -> None:
    out = _json(["fit", str(FIX / "runs_small.csv"), "--form", "power-C", "--bootstrap", "50",
                 "--seed", "3", "--json", "--no-progress"])
    assert out["form"] == "power-C" and out["points"] == 30
    assert set(out["params"]) == {"A", "E", "alpha"}
    assert out["bootstrap"]["n"] == 50 and out["bootstrap"]["seed"] == 3
    lo, hi = out["bootstrap"]["intervals"]["alpha"]
    assert lo <= out["params"]["alpha"] <= hi
    assert out["degenerate"] is False


def test_fit_chinchilla_reports_allocation_exponents() -> None:
    out = _json(["fit", str(FIX / "runs_small.csv"), "--json", "--delta", "1e-3"])
    assert out["form"] == "chinchilla" and out["starts"] == 4500
    assert out["allocation"]["a"] + out["allocation"]["b"] == pytest.approx(1.0)


def test_fit_table_and_csv() -> None:
    res = runner.invoke(app, ["fit", str(FIX / "coverage.csv"), "--form", "coverage"])
    assert res.exit_code == 0 and "alpha" in res.stdout and "objective" in res.stdout
    res = runner.invoke(app, ["fit", str(FIX / "coverage.csv"), "--form", "coverage", "--csv"])
    assert res.stdout.splitlines()[0] == "parameter,value,ci_low,ci_high"


def test_optimal_default_is_reference_fit() -> None:
    out = _json(["optimal", "--compute", "5.76e23", "--compute", "1e24", "--json"])
    assert out["source"] == "reference Chinchilla fit"
    assert [r["C"] for r in out["budgets"]] == [5.76e23, 1e24]
    assert 15 < out["budgets"][0]["tokens_per_param"] < 25


def test_optimal_explicit_parameters() -> None:
    out = _json(["optimal", "--compute", "6e20", "--A", "400", "--B", "400", "--alpha", "0.3",
                 "--beta", "0.3", "--json"])
    assert out["budgets"][0]["N"] == pytest.approx(1e10)
    assert out["exponents"]["a"] == pytest.approx(0.5)


def test_optimal_from_isoflop_runs() -> None:
    out = _json(["optimal", "--compute", "1e23", "--runs", str(FIX / "isoflop.csv"),
                 "--bootstrap", "30", "--json", "--no-progress"])
    assert out["fit"]["form"] == "chinchilla"
    assert out["isoflop"]["isoflop"] is True
    assert "a_ci" in out["exponents"] and "N_ci" in out["budgets"][0]
    assert out["isoflop"]["approach2"]["a"] == pytest.approx(0.45, abs=0.03)


def test_compare_json_ranks_and_verdict() -> None:
    out = _json(["compare", str(FIX / "coverage.csv"), "--holdout", "3", "--json"])
    assert [r["rank"] for r in out["forms"]] == [1, 2, 3]
    assert "power_law_supported" in out["verdict"]
    assert len(out["test_rows"]) == 3


def test_bad_input_is_a_convergent_error() -> None:
    res = runner.invoke(app, ["fit", str(FIX / "bad_nan.csv"), "--json"])
    assert isinstance(res.exception, ConvergentError)
    assert "rows 7, 8" in str(res.exception)


def test_degenerate_fit_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "flat.csv"
    p.write_text("C,loss\n" + "".join(f"{10.0 ** (18 + i / 3):g},2.5\n" for i in range(15)))
    res = runner.invoke(app, ["fit", str(p), "--form", "power-C", "--json"])
    assert isinstance(res.exception, DegenerateFit)
    assert res.exception.result.degenerate and res.stdout == ""


def _cli() -> list[str]:
    exe = shutil.which("convergent")
    return [exe] if exe else [sys.executable, "-c", "from convergent.cli import main; main()"]


@pytest.mark.parametrize(("args", "needle"), [
    (["fit", str(FIX / "bad_nonpositive.csv")], "bad_nonpositive.csv:5:N"),
    (["fit", str(FIX / "bad_too_few.csv")], "5 parameters"),
    (["compare", str(FIX / "bad_text.csv")], "bad_text.csv:4:D"),
])
def test_exit_code_two_with_one_line(args: list[str], needle: str) -> None:
    proc = subprocess.run([*_cli(), "scaling", *args], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_degenerate_exit_code_two(tmp_path: Path) -> None:
    p = tmp_path / "flat.csv"
    p.write_text("C,loss\n" + "".join(f"{10.0 ** (18 + i / 3):g},2.5\n" for i in range(15)))
    proc = subprocess.run([*_cli(), "scaling", "fit", str(p), "--form", "power-C"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "degenerate power-C fit" in proc.stderr


def test_inconsistent_compute_warns_on_stderr() -> None:
    proc = subprocess.run([*_cli(), "scaling", "fit", str(FIX / "bad_inconsistent_c.csv"),
                           "--form", "power-C", "--json"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0
    assert "warning:" in proc.stderr and "row 12" in proc.stderr
    assert json.loads(proc.stdout)["warnings"]


def _run(args: list[str]) -> tuple[int, str]:
    """Exit code and output as `main` gives them: a ConvergentError is one line and code 2."""
    res = runner.invoke(app, args)
    if isinstance(res.exception, ConvergentError):
        text = str(res.exception)
        assert "\n" not in text.strip(), text
        return 2, text
    assert isinstance(res.exception, SystemExit | type(None)), repr(res.exception)
    return res.exit_code, res.output


@pytest.mark.parametrize("header", ["D,loss", "tokens,loss", "N,loss", "steps,loss",
                                    "examples,loss"])
def test_compare_on_single_size_column(tmp_path: Path, header: str) -> None:
    p = tmp_path / "r.csv"
    x = np.geomspace(1e6, 1e9, 9)
    p.write_text(header + "\n" + "".join(f"{v},{1.2 + 40 * v**-0.2}\n" for v in x))
    code, text = _run(["compare", str(p), "--holdout", "1", "--json", "--no-progress"])
    assert code == 0, text
    out = json.loads(text)
    assert out["holdout"] == 1 and out["forms"][0]["error"] is not None
    assert any(r["form"].startswith("auto-") for r in out["forms"])


def test_predict_named_column_with_intervals(tmp_path: Path) -> None:
    p = tmp_path / "r.csv"
    x = np.geomspace(1e3, 1e6, 10)
    p.write_text("Seen Examples,Error\n" + "".join(f"{v},{0.1 + 3 * v**-0.3}\n" for v in x))
    out = _json(["predict", str(p), "--x", "Seen Examples", "--at", "1e7", "--at", "1e8",
                 "--json"])
    assert out["x"] == "X" and [r["x"] for r in out["predictions"]] == [1e7, 1e8]
    for r, at in zip(out["predictions"], (1e7, 1e8), strict=True):
        assert r["low"] <= r["predicted"] <= r["high"]
        assert r["predicted"] == pytest.approx(0.1 + 3 * at**-0.3, rel=0.02)
    code, text = _run(["predict", str(p), "--x", "nope", "--at", "1e7"])
    assert code == 2 and "no column named 'nope'" in text
    for bad in ("-1", "0", "nan", "1e400"):
        code, text = _run(["predict", str(p), "--x", "Seen Examples", "--at", bad])
        assert code == 2 and "must be positive finite numbers" in text, bad


def test_fit_shows_tokens_per_parameter() -> None:
    out = _json(["fit", str(FIX / "runs_small.csv"), "--json", "--no-progress"])
    tpp = out["tokens_per_param"]
    assert [r["C"] for r in tpp][-1] == 1e24 and all(r["tokens_per_param"] > 0 for r in tpp)
    res = runner.invoke(app, ["fit", str(FIX / "runs_small.csv"), "--no-progress"])
    assert "tokens/param" in res.stdout


def test_fit_warns_about_points_far_above_the_law(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = np.geomspace(1e6, 1e9, 30)
    y = (1.0 + 30.0 * x**-0.2) * np.exp(rng.normal(0.0, 0.003, x.size))
    clean = tmp_path / "clean.csv"
    clean.write_text("D,loss\n" + "".join(f"{a},{b}\n" for a, b in zip(x, y, strict=True)))
    res = runner.invoke(app, ["fit", str(clean), "--form", "power", "--no-progress"])
    assert res.exit_code == 0 and "robust standard deviations" not in res.output
    y[[3, 17]] *= 1.3
    bad = tmp_path / "bad.csv"
    bad.write_text("D,loss\n" + "".join(f"{a},{b}\n" for a, b in zip(x, y, strict=True)))
    res = runner.invoke(app, ["fit", str(bad), "--form", "power", "--no-progress"])
    assert res.exit_code == 0 and "2 point(s)" in res.output
    assert "(rows 5, 19)" in res.output or "(rows 19, 5)" in res.output  # file lines
    res = runner.invoke(app, ["fit", str(bad), "--form", "power", "--exclude-worst", "2",
                              "--no-progress"])
    assert "robust standard deviations" not in res.output


MALFORMED = {
    "empty.csv": b"",
    "header_only.csv": b"D,loss\n",
    "one_col_loss.csv": b"loss\n1\n2\n3\n",
    "one_col_d.csv": b"D\n1\n2\n3\n",
    "one_col_tokens.csv": b"tokens\n1e9\n2e9\n",
    "one_col_other.csv": b"foo\n1\n2\n",
    "one_row.csv": b"D,loss\n1e9,2.0\n",
    "two_rows.csv": b"D,loss\n1e9,2.0\n2e9,1.9\n",
    "text.csv": b"D,loss\n1e9,abc\n2e9,1.9\n3e9,1.8\n4e9,1.7\n",
    "nan.csv": b"D,loss\n1e9,nan\n2e9,1.9\n3e9,1.8\n4e9,1.7\n",
    "inf.csv": b"D,loss\ninf,2\n2e9,1.9\n3e9,1.8\n4e9,1.7\n",
    "negative.csv": b"D,loss\n1e9,-2\n2e9,1.9\n3e9,1.8\n4e9,1.7\n",
    "zero_x.csv": b"D,loss\n0,2\n2e9,1.9\n3e9,1.8\n4e9,1.7\n",
    "one_scale.csv": b"D,loss\n1e9,2\n1e9,1.9\n1e9,1.8\n1e9,1.7\n",
    "latin1.csv": "D,loss\n1e9,2\n2e9,1.9 \xe9\n".encode("latin-1"),
    "utf16.csv": "D,loss\n1e9,2\n2e9,1.9\n".encode("utf-16"),
    "gzip.csv": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(range(200)),
    "huge_cell.csv": b"D,loss\n1e9," + b"9" * 200_000 + b"\n",
    "trailing_comma.csv": b"D,loss,\n1e9,2,\n2e9,1.9,\n3e9,1.8,\n4e9,1.7,\n",
    "duplicate.csv": b"D,tokens,loss\n1,2,3\n",
    "accuracy_only.csv": b"accuracy\n0.5\n0.6\n",
    "ragged.csv": b"D,loss\n1e9\n2e9,1.9,7\n3e9,1.8\n4e9,1.7\n5e9,1.6\n",
    "quotes.csv": b'D,loss\n"1e9,2\n',
    "nd_only_loss_missing.csv": b"N,D\n1,2\n3,4\n",
    "accuracy_range.csv": b"C,accuracy\n1e20,0.5\n1e21,1.5\n1e22,0.7\n1e23,0.8\n",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_compare_never_shows_a_traceback(tmp_path: Path, name: str) -> None:
    p = tmp_path / name
    p.write_bytes(MALFORMED[name])
    code, text = _run(["compare", str(p), "--no-progress"])
    assert code in (0, 2) and "Traceback" not in text
    if code == 2:
        assert name in text  # the message names the file


def test_compare_on_a_folder_is_one_line(tmp_path: Path) -> None:
    code, text = _run(["compare", str(tmp_path), "--no-progress"])
    assert code == 2 and "is a folder" in text
