"""What the classification promises to show: no stars without evidence, no result past
today, the same default date everywhere, the window for capability rows, and reasons."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from convergent.advice import EXPLORE, NONE, advise_one
from convergent.analysis import capability_rows, evidence_as_of
from convergent.capability import spreads as sp
from convergent.catalog.load import build_evidence
from convergent.classify import classify, l0_note, resolve_as_of
from convergent.config import load_config
from convergent.errors import ConvergentError
from convergent.store import Store
from plant import AS_OF, block_day, rows, store

CFG = load_config()
CLI = [sys.executable, "-c", "from convergent.cli import main; main()"]
FIXTURES = Path(__file__).parent / "fixtures" / "capability"


def test_library_default_as_of_is_the_newest_evidence_like_the_cli() -> None:
    s = store(rows("optimizer", "AdamW", 12, AS_OF - dt.timedelta(days=40))
              + rows("ffn", "MoE", 3, AS_OF - dt.timedelta(days=5)))
    newest = AS_OF - dt.timedelta(days=5)
    assert evidence_as_of(s) == newest
    results = classify(s, areas=["optimizer"])
    assert results[0].as_of == newest
    assert results[0].level == "L4"          # today's window would hold nothing


def test_as_of_after_today_is_refused() -> None:
    s = store(rows("optimizer", "AdamW", 12, AS_OF))
    today = dt.date(2026, 1, 15)
    assert resolve_as_of(s, dt.date(2026, 1, 15), today) == today
    with pytest.raises(ConvergentError, match="2026-01-16 is later than today"):
        resolve_as_of(s, dt.date(2026, 1, 16), today)
    with pytest.raises(ConvergentError, match="later than today"):
        classify(s, dt.date.today() + dt.timedelta(days=1))
    with pytest.raises(ConvergentError, match="later than today"):
        sp._as_date(dt.date.today() + dt.timedelta(days=1))


@pytest.mark.parametrize("command", [["classify"], ["layers"], ["capability"], ["report"]])
def test_cli_refuses_a_future_as_of_in_one_line(command: list[str]) -> None:
    out = subprocess.run([*CLI, *command, "--as-of", "2030-01-01"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "2030-01-01 is later than today" in lines[0]


def test_insufficient_share_rows_have_no_certainty_in_json() -> None:
    out = subprocess.run([*CLI, "classify", "--area", "lr_schedule", "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    if row["level"] == "insufficient":
        assert row["certainty"] is None and row["stars"] is None
    else:
        assert 1 <= row["stars"] <= 5


@pytest.fixture(scope="module")
def cap_store() -> Store:
    ev, problems = build_evidence([FIXTURES / "models.yaml"], origin="test")
    assert problems == []
    s = Store(None)
    s.replace_origin("test", ev.frames())
    return s


def test_capability_rows_honour_the_window(cap_store: Store) -> None:
    # As of 2025-03-01 the 12-month window starts after 2024-03-01: Alpha (Jan) and Beta
    # (Feb) fall out; Gamma, Delta, Epsilon, Phi, Eta remain (k = 5 exactly).
    mmlu = sp.measure(cap_store, "2025-03-01", CFG, benchmark="MMLU")[0]
    assert mmlu.n == 5
    assert [m["name"] for m in mmlu.models] == ["Eta", "Phi", "Gamma", "Delta", "Epsilon"]
    rows_ = capability_rows(cap_store, dt.date(2025, 3, 1), CFG, window_days=3650)
    assert next(r for r in rows_ if r["area"] == "mmlu")["n"] == 7
    rows_ = capability_rows(cap_store, dt.date(2025, 3, 1), CFG)
    assert next(r for r in rows_ if r["area"] == "mmlu")["n"] == 5


def test_insufficient_capability_rows_have_no_stars(cap_store: Store) -> None:
    # As of 2025-06-01 only Phi (2024-06-10) and Eta (2024-09-01) are in the window: 2 < 5.
    rows_ = capability_rows(cap_store, dt.date(2025, 6, 1), CFG)
    mmlu = next(r for r in rows_ if r["area"] == "mmlu")
    assert mmlu["level"] == "insufficient" and mmlu["n"] == 2
    assert mmlu["certainty"] is None and mmlu["stars"] is None
    assert mmlu["criterion"] == "2 models scored < k = 5"


def test_saturated_benchmark_is_never_advised_explore() -> None:
    row = {"area": "math", "kind": "capability", "name_en": "MATH", "level": "L1",
           "degree": 30.0, "certainty": 0.9, "stars": 4, "leader": "M", "saturated": True,
           "top": 98.2, "ceiling": 100.0, "n": 8}
    adv = advise_one(row, CFG)
    assert adv["action"] == NONE != EXPLORE
    assert "saturated (top 98.2 of 100)" in adv["text_en"] and "饱和" in adv["text_zh"]
    assert advise_one({**row, "saturated": False}, CFG)["action"] == EXPLORE


def test_l4_without_measurable_trend_says_so() -> None:
    (r,) = classify(store(rows("optimizer", "AdamW", 30, block_day(0))), AS_OF,
                    areas=["optimizer"])
    assert r.level == "L4"
    assert "challenger trend not measurable" in r.criterion


def test_l0_note_names_the_largest_nmi() -> None:
    ads = [r for value, lead, other in (("edge", "AdamW", "Adam"), ("cloud", "Adam", "AdamW"))
           for opt, c in ((lead, 40), (other, 10))
           for r in rows("optimizer", opt, c, block_day(0), {"deployment": value}, tag=value)]
    results = [r.to_dict() for r in classify(store(ads), AS_OF, areas=["optimizer"])]
    assert results[0]["level"] == "L2"
    en, zh = l0_note(results, CFG)
    assert en == ("no area is L0: the largest segment NMI is 0.28 (Optimizer by deployment), "
                  "below 0.3")
    assert "0.28" in zh and "优化器" in zh
    assert l0_note([{**results[0], "level": "L0"}], CFG) is None
    en, _ = l0_note([{**results[0], "segments": []}], CFG)
    assert "no area has two segments with at least 10" in en
