"""`convergent scaling fit | optimal | compare`: JSON output, tables, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

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
