"""Output safety: formula prefixes neutralised, bidi controls removed, report swap recoverable."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convergent.cli.render import fmt_cell, to_csv, to_json
from convergent.report.write import MARKER, _swap_in, recover, write_table
from convergent.sanitize import BIDI, clean_text, csv_cell


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://x","y")', "@SUM(A1:A9)", "+1+cmd",
                                     "-2+3", "\tx", "\rx", "\uff1dSUM(A1)"])
def test_formula_like_text_is_quoted(payload: str) -> None:
    """A cell a spreadsheet would evaluate starts with an apostrophe instead."""
    assert csv_cell(payload) == "'" + payload


@pytest.mark.parametrize("value", ["-0.5", "+3", "-1e9", "Meta", "a=b", "", "x-1"])
def test_plain_values_are_left_alone(value: str) -> None:
    """Numbers written as text and ordinary names are not changed."""
    assert csv_cell(value) == value


def test_non_text_cells_pass_through() -> None:
    """Floats (also negative) and None are data, never prefixed."""
    assert csv_cell(-0.25) == -0.25 and csv_cell(None) is None


@given(st.text())
def test_cleaned_text_has_no_bidi_controls(text: str) -> None:
    """Invariant: nothing cleaned can still reorder the display; other text survives."""
    out = clean_text(text)
    assert not BIDI.search(out)
    assert out == "".join(ch for ch in text if not BIDI.match(ch))


@given(st.text())
def test_csv_cells_never_start_a_formula(text: str) -> None:
    """Invariant: a written text cell starts with a formula character only when it is a number."""
    out = csv_cell(text)
    assert not BIDI.search(out)
    if out[:1] in ("=", "@", "\t", "\r"):
        raise AssertionError(out)


def test_cli_outputs_are_sanitised() -> None:
    """`--csv`, `--json` and tables remove U+202E; CSV also quotes formulas."""
    rows = [{"org": "=HYPERLINK(\"x\")", "name": "evil\u202eexe.txt", "n": -3.0}]
    text = to_csv(rows)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[1] == ["'=HYPERLINK(\"x\")", "evilexe.txt", "-3.0"]
    assert "\u202e" not in to_json(rows) and "\u202e" not in fmt_cell("a\u202eb")


def test_report_tables_are_sanitised(tmp_path: Path) -> None:
    """data/*.csv quotes formulas; data/*.json carries no bidi controls."""
    write_table([{"organization": "@SUM(1)", "name": "x\u2066y"}], tmp_path, "history")
    rows = list(csv.reader((tmp_path / "history.csv").open(encoding="utf-8")))
    assert rows[1] == ["'@SUM(1)", "xy"]
    assert "\u2066" not in (tmp_path / "history.json").read_text("utf-8")


def _report(folder: Path, text: str) -> Path:
    folder.mkdir()
    (folder / MARKER).write_text("as_of x\n")
    (folder / "report.md").write_text(text)
    return folder


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_swap_replaces_the_report_whole(tmp_path: Path) -> None:
    """After the swap --out holds the new report and no temporary folder remains."""
    out = _report(tmp_path / "R", "old")
    tmp = _report(tmp_path / f".R.tmp-{os.getpid()}-abc", "new")
    _swap_in(tmp, out)
    assert (out / "report.md").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["R"]


def test_kill_between_renames_is_repaired(tmp_path: Path) -> None:
    """A run killed after moving the old report aside: the next run puts it back."""
    pid = _dead_pid()
    _report(tmp_path / f".R.old-{pid}", "old")
    _report(tmp_path / f".R.tmp-{pid}-xyz", "half")
    recover(tmp_path / "R")
    assert (tmp_path / "R" / "report.md").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["R"]


def test_stale_folders_of_killed_runs_are_removed(tmp_path: Path) -> None:
    """Leftovers of dead processes go; a live run's temporary folder is left alone."""
    pid = _dead_pid()
    _report(tmp_path / "R", "current")
    _report(tmp_path / f".R.tmp-{pid}-a", "half")
    _report(tmp_path / f".R.old-{pid}", "older")
    live = _report(tmp_path / f".R.tmp-{os.getpid()}-b", "running")
    recover(tmp_path / "R")
    assert (tmp_path / "R" / "report.md").read_text() == "current"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["R", live.name])
