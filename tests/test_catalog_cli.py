"""`convergent catalog coverage --markdown`: the table docs/catalog.md carries."""

from __future__ import annotations

import sys

import pytest

from convergent.cli import main


def test_coverage_markdown(monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["convergent", "catalog", "coverage", "--since", "2023",
                                      "--until", "2024", "--markdown"])
    try:
        main()
    except SystemExit as exc:
        assert not exc.code
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| area | 2023 | 2024 | all years |"
    assert lines[1] == "|---|---|---|---|"
    rows = {ln.split(" | ")[0].lstrip("| "): ln for ln in lines[2:]}
    assert {"optimizer", "attention", "precision", "accelerator_vendor"} <= set(rows)
    known, total = rows["attention"].split(" | ")[1].split("/")
    assert 0 < int(known) <= int(total)
