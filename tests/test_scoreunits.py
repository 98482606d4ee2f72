"""One score-unit rule for `ingest benchmarks` and `capability observe`."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from convergent.capability.observe import read_table
from convergent.errors import ConvergentError
from convergent.ingest import ingest
from convergent.scoreunits import AMBIGUOUS_MAX, score_column, strip_unit, unit_hint
from test_ingest_common import assert_refused_unchanged, store_with_catalog


def _cells(*values: float) -> list[tuple[int, float]]:
    return [(i + 2, v) for i, v in enumerate(values)]


def test_fraction_and_percent() -> None:
    assert score_column("A", _cells(0.2, 0.5, 1.0, math.nan), "f:1:A") == (100.0, [])
    assert score_column("A", _cells(12.0, 55.5, 99.0), "f:1:A") == (1.0, [])
    # values below 1 next to a largest value above AMBIGUOUS_MAX: percent (a 0.4 % score)
    assert score_column("A", _cells(0.4, 3.0, AMBIGUOUS_MAX + 0.01), "f:1:A")[0] == 1.0


def test_one_bad_cell_does_not_flip_the_column() -> None:
    mult, bad = score_column("MMLU", _cells(47.6, 60.1, -0.4, 143.0), "f:1:MMLU")
    assert mult == 1.0
    assert bad == [(4, "score -0.4 is outside 0–100"), (5, "score 143 is outside 0–100")]


def test_signed_column_is_refused() -> None:
    with pytest.raises(ConvergentError, match=r"signed values in −1\.\.1"):
        score_column("corr", _cells(0.3, -0.2, 0.9), "f:1:corr")
    # all within 0..1: an ordinary fraction
    assert score_column("corr", _cells(0.3, 0.0, 0.9), "f:1:corr")[0] == 100.0


def test_ambiguous_range_needs_a_unit() -> None:
    with pytest.raises(ConvergentError, match=r"0\.03 to 4\.01"):
        score_column("S", _cells(0.03, 1.5, 4.01), "f:1:S")
    assert score_column("S (%)", _cells(0.03, 1.5, 4.01), "f:1:S")[0] == 1.0
    mult, bad = score_column("S (0-1)", _cells(0.03, 0.5, 1.2), "f:1:S")
    assert mult == 100.0 and bad == [(4, "score 1.2 is outside 0–1")]
    assert unit_hint("MMLU (%)") == "percent" and strip_unit("MMLU (0-1)") == "MMLU"


TABLE_SIGNED = "Model,MMLU,GSM8K,Corr\n" + "".join(
    f"m{i},{40 + i},{20 + i},{(-1) ** i * 0.1 * i}\n" for i in range(1, 7))
TABLE_AMBIG = "Model,MMLU,GSM8K,Odd\n" + "".join(
    f"m{i},{40 + i},{20 + i},{[0.03, 0.5, 1.2, 2.2, 3.3, 4.01][i - 1]}\n" for i in range(1, 7))


@pytest.mark.parametrize(("text", "needle"), [(TABLE_SIGNED, "signed values"),
                                              (TABLE_AMBIG, "could be a fraction")])
def test_ingest_and_observe_refuse_the_same_files(tmp_path: Path, text: str,
                                                  needle: str) -> None:
    p = tmp_path / "t.csv"
    p.write_text(text, "utf-8")
    with pytest.raises(ConvergentError, match=needle):
        read_table(p)
    assert_refused_unchanged("benchmarks", p, needle)


def test_ingest_reports_the_out_of_range_row(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("Model,MMLU\na,47.6\nb,60.1\nc,143\n", "utf-8")
    store = store_with_catalog()
    with pytest.raises(ConvergentError, match=r"row 4.*143 is outside 0–100"):
        ingest(store, "benchmarks", p)
    report = ingest(store, "benchmarks", p, skip_bad_rows=True)
    assert report.skipped == 1
    got = sorted(r[0] for r in store.con.con.execute("SELECT score FROM scores").fetchall())
    assert got == [pytest.approx(47.6), pytest.approx(60.1)]
