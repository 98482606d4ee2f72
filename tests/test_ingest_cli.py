"""`convergent ingest SOURCE PATH --db FILE`: report output, JSON, and one-line errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import convergent.catalog.load as catalog_load
from convergent.cli import main
from test_ingest_common import FIXTURES


@pytest.fixture(autouse=True)
def fixture_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in catalog is replaced by the small fixture catalog."""
    monkeypatch.setattr(catalog_load, "builtin_files", lambda: [FIXTURES / "catalog.yaml"])


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return exit code, stdout and stderr."""
    monkeypatch.setattr(sys, "argv", ["convergent", *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_ingest_into_db_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    """Two runs against one --db file: first adds, second changes nothing."""
    db = str(tmp_path / "ev.duckdb")
    code, out, err = run(monkeypatch, capsys, "ingest", "epoch", str(FIXTURES / "epoch_small.csv"),
                         "--db", db, "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["added"] == 6 and first["matched"] == 2 and first["conflicts"]
    code, out, _ = run(monkeypatch, capsys, "ingest", "epoch",
                       str(FIXTURES / "epoch_small.csv"), "--db", db, "--json")
    assert json.loads(out)["unchanged"] == 6
    code, out, err = run(monkeypatch, capsys, "ingest", "hf-config", str(FIXTURES / "hf"),
                         "--db", db)
    assert code == 0 and "rows_read" in out


def test_bad_input_exits_2_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A bad date: exit code 2, one line naming file, row and column, no traceback."""
    bad = tmp_path / "bad.csv"
    bad.write_text((FIXTURES / "epoch_small.csv").read_text("utf-8").replace(
        "2023-06-01", "2023-13-45"), "utf-8")
    code, _, err = run(monkeypatch, capsys, "ingest", "epoch", str(bad),
                       "--db", str(tmp_path / "x.duckdb"))
    assert code == 2
    assert err.count("\n") == 1 and "bad.csv" in err and "row 2" in err
    assert "Publication date" in err and "Traceback" not in err


def test_skip_bad_rows_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    """--skip-bad-rows ingests the rest and lists the skipped row on stderr."""
    bad = tmp_path / "bad.csv"
    bad.write_text((FIXTURES / "epoch_small.csv").read_text("utf-8").replace(
        "2023-06-01", "2023-13-45"), "utf-8")
    code, out, _ = run(monkeypatch, capsys, "ingest", "epoch", str(bad), "--skip-bad-rows",
                         "--json")
    assert code == 0
    assert json.loads(out)["skipped"] == 1 and "row 2" in json.loads(out)["skipped_rows"][0]
