"""`ingest runs` refuses implausible values and ambiguous headers instead of storing them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from convergent.ingest import ingest
from test_ingest_common import assert_refused_unchanged, store_with_catalog


@pytest.mark.parametrize(("body", "needle"), [
    ("params,tokens,loss\n1e8,2e9,-2.9\n", "must be positive"),
    ("params,tokens,loss\n1e8,2e9,0\n", "must be positive"),
    ("params,tokens,loss\n1e300,1e300,2.0\n", "outside the plausible range"),
    ("params,compute,loss\n1e8,1e40,2.0\n", "compute = 1e+40"),
    ("N,params,loss\n1e8,1e8,2.0\n", "both mean N"),
])
def test_implausible_runs_are_refused(tmp_path: Path, body: str, needle: str) -> None:
    p = tmp_path / "runs.csv"
    p.write_text(body, "utf-8")
    assert_refused_unchanged("runs", p, re.escape(needle))


def test_values_just_inside_the_ranges_are_stored(tmp_path: Path) -> None:
    p = tmp_path / "runs.csv"
    # 6 · 1e14 · 1e17 = 6e31 FLOP, under the 1e32 limit; a loss of 1e-6 is the smallest allowed
    p.write_text("params,tokens,loss\n1e14,1e17,1e-6\n", "utf-8")
    store = store_with_catalog()
    ingest(store, "runs", p)
    got = store.con.con.execute("SELECT compute, loss FROM runs").fetchone()
    assert got == (pytest.approx(6e31), pytest.approx(1e-6))
