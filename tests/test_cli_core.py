"""The `areas` and `classify` commands: output shapes, history, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-c", "from convergent.cli import main; main()"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def matrix() -> list[dict]:
    out = run("classify", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_classify_json_has_required_keys(matrix: list[dict]) -> None:
    required = {"area", "layer", "level", "degree", "certainty", "stars", "leader",
                "leader_share", "n"}
    assert matrix
    for row in matrix:
        assert required <= set(row)
        assert row["level"] in {"L0", "L1", "L2", "L3", "L4", "insufficient"}
        if row["level"] == "insufficient":
            assert row["certainty"] is None and row["stars"] is None
        else:
            assert 0 <= row["certainty"] <= 1
            assert 1 <= row["stars"] <= 5
            assert 0 <= row["degree"] <= 100
            assert row["n"] >= (5 if row["kind"] == "capability" else 10)


def test_builtin_evidence_says_decoder_only_is_converged(matrix: list[dict]) -> None:
    by = {r["area"]: r for r in matrix}
    assert by["structure"]["leader"] == "decoder-only"
    assert by["structure"]["level"] in {"L3", "L4"}


def test_classify_history_and_window() -> None:
    out = run("classify", "--area", "normalization", "--as-of", "2019-12-31", "--window", "3y",
              "--json")
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    assert row["as_of"] == "2019-12-31"
    assert row["window_start"] < "2017-01-02"


def test_classify_csv_and_table() -> None:
    csv = run("classify", "--area", "optimizer", "--csv")
    assert csv.returncode == 0 and csv.stdout.splitlines()[0].startswith("area,")
    table = run("classify", "--lang", "zh")
    assert table.returncode == 0 and "收敛模型分类矩阵" in table.stdout


def test_areas_lists_every_layer() -> None:
    out = run("areas", "--json")
    layers = {r["layer"] for r in json.loads(out.stdout)}
    assert {"math", "architecture", "training", "capability", "application", "hardware",
            "market"} <= layers


@pytest.mark.parametrize("args, needle", [
    (["classify", "--area", "nonsense"], "unknown area 'nonsense'"),
    (["classify", "--as-of", "2023-13-45"], "bad date '2023-13-45'"),
    (["classify", "--as-of", "2024-13"], "bad date '2024-13'"),
    (["classify", "--window", "twelve"], "bad window 'twelve'"),
    (["classify", "--window", "0m"], "bad window '0m'"),
])
def test_bad_requests_give_one_line_and_exit_2(args: list[str], needle: str) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert needle in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_impossible_config_is_rejected(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("classify:\n  l3_share: 0.4\n")
    out = run("classify", "--config", str(cfg))
    assert out.returncode == 2
    assert "l2_share < l3_share" in out.stderr and str(cfg) in out.stderr
    assert "Traceback" not in out.stderr


def test_config_overrides_thresholds(tmp_path: Path) -> None:
    cfg = tmp_path / "strict.yaml"
    cfg.write_text("classify:\n  min_n: 100000\n")
    out = run("classify", "--config", str(cfg), "--area", "structure", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["level"] == "insufficient"


def test_missing_db_file_is_an_error_not_an_empty_store(tmp_path: Path) -> None:
    """A mistyped --db path must not read as "no evidence of my own": one line, exit 2,
    and reading creates nothing."""
    db = tmp_path / "ev.duckdb"
    out = run("classify", "--area", "structure", "--db", str(db), "--json")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"error: {db}: no such database file (an ingest or `convergent update` with --db "
        "creates one)"]
    assert not db.exists() and not list(tmp_path.iterdir())


def test_help_is_fast_and_light() -> None:
    code = ("import sys, time; t=time.perf_counter(); from convergent.cli import app; "
            "heavy=[m for m in ('numpy','pandas','ibis','duckdb','scipy','altair') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", f"heavy modules imported at start-up: {out.stdout}"


def _leaf_commands(group: object, path: tuple[str, ...] = ()
                   ) -> list[tuple[tuple[str, ...], object]]:
    """Every runnable command of the Click tree under `group`, with its path (a group that
    runs on its own, like `convergent forecast`, counts too)."""
    subs = getattr(group, "commands", None)
    if not subs:
        return [(path, group)]
    own = [(path, group)] if path and getattr(group, "invoke_without_command", False) else []
    return own + [leaf for name, cmd in sorted(subs.items())
                  for leaf in _leaf_commands(cmd, (*path, name))]


def test_every_command_help_has_a_pasteable_example() -> None:
    """Each command's help ends with an 'Example: convergent …' line naming that command."""
    import typer.main

    from convergent.cli import app

    leaves = _leaf_commands(typer.main.get_command(app))
    assert len(leaves) >= 25
    missing = []
    for path, cmd in leaves:
        text = getattr(cmd, "help", None) or ""
        examples = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("Example:")]
        if not any(e.removeprefix("Example:").strip().startswith(" ".join(("convergent", *path)))
                   for e in examples):
            missing.append(" ".join(path))
    assert missing == []


def test_global_help_shows_bracketed_text_verbatim() -> None:
    # help is rendered with rich markup, which silently drops an unescaped "[spark]"
    out = run("--help").stdout
    assert "convergent[spark]" in out and "local[2]" in out and "--tables" in out
