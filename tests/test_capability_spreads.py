"""Spreads, gaps, saturation, levels and certainty of benchmark scores, checked by hand."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convergent.capability import default_config
from convergent.capability import spreads as sp
from convergent.catalog.load import Evidence, build_evidence
from convergent.errors import ConvergentError
from convergent.registry import registry
from convergent.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "capability"


@pytest.fixture(scope="module")
def cfg() -> dict:
    return default_config()


@pytest.fixture(scope="module")
def store() -> Store:
    ev, problems = build_evidence([FIXTURES / "models.yaml"], origin="test")
    assert problems == []
    s = Store(None)
    s.replace_origin("test", ev.frames())
    return s


def _with(cfg: dict, **changes: object) -> dict:
    out = copy.deepcopy(cfg)
    out["capability"].update(changes)
    return out


def scored_store(scores: list[float], benchmark: str = "GPQA") -> Store:
    """A store with one model per score, all released and scored on 2024-06-01."""
    ev = Evidence()
    for i, v in enumerate(scores):
        ev.rows["entities"].append({
            "entity_id": f"m{i}", "name": f"M{i}", "kind": "model", "organization": f"Org {i}",
            "country": "United States", "date": dt.date(2024, 6, 1), "open_weights": False})
        ev.rows["scores"].append({"entity_id": f"m{i}", "benchmark": benchmark, "score": v,
                                  "date": dt.date(2024, 6, 1), "origin": "test"})
    s = Store(None)
    frames = ev.frames()
    s.append("entities", frames["entities"])
    s.append("scores", frames["scores"])
    return s


def one(store: Store, as_of: str, cfg: dict, benchmark: str = "MMLU", **kw: object):
    (pt,) = sp.measure(store, as_of, cfg, benchmark=benchmark, **kw)
    return pt


def test_spread_and_gaps_by_hand(store, cfg):
    pt = one(store, "2024-05-31", cfg)
    assert pt.n == 5 and pt.leader == "Alpha" and pt.kth_model == "Epsilon"
    assert pt.spread_pts == pytest.approx(3.6)           # 80.0 - 76.4
    assert pt.spread_pct == pytest.approx(4.5)           # 3.6 / 80
    assert pt.level == "L2" and pt.spread_level == "L2"
    assert (pt.best_closed, pt.best_open) == ("Alpha", "Beta")
    assert pt.open_closed_gap_pts == pytest.approx(1.0)  # closed 80 - open 79
    assert (pt.best_us, pt.best_cn) == ("Alpha", "Beta")
    assert pt.us_china_gap_pts == pytest.approx(1.0)
    assert pt.gap_pts is None                             # fewer than 10 models
    assert not pt.saturated and pt.edge_pp is None
    assert [m["name"] for m in pt.models] == ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"]


def test_gap_rank_as_configured(store, cfg):
    pt = one(store, "2024-05-31", _with(cfg, gap_rank=3))
    assert pt.gap_pts == pytest.approx(1.6)              # 80.0 - 78.4
    assert pt.gap_pct == pytest.approx(2.0)


def test_new_model_joins_and_unknown_openness_is_left_out(store, cfg):
    pt = one(store, "2024-06-30", cfg)
    assert pt.n == 6 and pt.leader == "Phi"
    assert pt.spread_pts == pytest.approx(3.4)           # 81.0 - 77.6
    assert pt.spread_pct == pytest.approx(100 * 3.4 / 81)
    assert pt.best_closed == "Alpha"                     # Phi's openness is unknown
    assert pt.us_china_gap_pts == pytest.approx(2.0)     # Phi 81 - Beta 79


def test_score_before_release_does_not_count(store, cfg):
    pt = one(store, "2024-06-30", cfg)
    assert "Eta" not in [m["name"] for m in pt.models]
    later = one(store, "2024-09-30", cfg)
    assert later.leader == "Eta"


def test_best_score_per_model_as_of(store, cfg):
    before = {m["name"]: m["score"] for m in one(store, "2024-07-31", cfg).models}
    after = {m["name"]: m["score"] for m in one(store, "2024-08-31", cfg).models}
    assert before["Beta"] == 79.0 and after["Beta"] == 80.5


def test_one_model_per_organisation(store, cfg):
    pt = one(store, "2024-06-30", _with(cfg, distinct_organizations=True))
    assert [m["name"] for m in pt.models] == ["Phi", "Beta", "Gamma", "Delta", "Epsilon"]
    assert pt.spread_pct == pytest.approx(100 * 4.6 / 81)
    assert pt.level == "L1"


def test_too_few_models_is_insufficient(store, cfg):
    pt = one(store, "2024-04-30", cfg)
    assert pt.n == 4 and pt.level == "insufficient"
    assert pt.spread_pts is None and pt.degree is None and pt.certainty is None
    assert pt.open_closed_gap_pts == pytest.approx(1.0)


def test_elo_uses_win_probability(store, cfg):
    pt = one(store, "2024-07-31", cfg, benchmark="arena_elo")
    assert pt.scale == "elo" and pt.spread_pct is None and pt.ceiling is None
    assert pt.spread_pts == pytest.approx(40.0)
    assert pt.edge_pp == pytest.approx(100 * (1 / (1 + 10 ** (-40 / 400)) - 0.5))  # 5.75 pp
    assert pt.level == "L1" and not pt.saturated


@pytest.mark.parametrize(("scores", "level"), [
    ([80, 79.9, 79.8, 79.7, 79.6], "L4"),    # 0.5 %
    ([80, 79.5, 79.0, 78.8, 78.4], "L3"),    # 2 %
    ([80, 79, 78, 77.5, 76.8], "L2"),        # 4 %
    ([80, 78, 76, 74, 72], "L1"),            # 10 %
])
def test_levels_from_spread_thresholds(cfg, scores, level):
    pt = one(scored_store(scores), "2024-06-30", cfg, benchmark="GPQA")
    assert pt.level == level
    lo, hi = cfg["degree"]["bands"][level]
    assert lo <= pt.degree <= hi


def test_saturated_benchmark_is_flagged_not_converged(cfg):
    pt = one(scored_store([99.0, 98.9, 98.8, 98.7, 98.6]), "2024-06-30", cfg, benchmark="GPQA")
    assert pt.saturated and pt.spread_level == "L4"
    assert pt.level == "L2" and pt.degree <= cfg["degree"]["bands"]["L2"][1]


def test_certainty_follows_the_evidence(cfg):
    thin = one(scored_store([80, 79.9, 79.8, 79.7, 79.6], "MyBench"), "2024-06-30", cfg,
               benchmark="mybench")
    assert thin.certainty == pytest.approx(0.04, abs=0.03)   # all five must be redrawn
    assert thin.stars == 1
    many = [90 - 0.05 * i for i in range(60)]
    rich = one(scored_store(many, "MyBench"), "2024-06-30", cfg, benchmark="mybench")
    assert rich.level == "L4" and rich.certainty >= 0.9 and rich.stars >= 4
    again = one(scored_store(many, "MyBench"), "2024-06-30", cfg, benchmark="mybench")
    assert again.certainty == rich.certainty


def test_history_is_quarterly(store, cfg):
    pts = sp.history(store, "MMLU", as_of="2024-10-15", cfg=cfg)
    assert [p.as_of for p in pts] == [dt.date(2024, 3, 31), dt.date(2024, 6, 30),
                                      dt.date(2024, 9, 30), dt.date(2024, 10, 15)]
    assert [p.n for p in pts] == [3, 6, 7, 7]


def test_capability_levels_cover_the_registry(store, cfg):
    rows = sp.capability_levels(store, "2024-05-31", cfg)
    areas = {a.area_id for a in registry().areas.values() if a.kind == "capability"}
    assert {r["area"] for r in rows} == areas
    mmlu = next(r for r in rows if r["area"] == "mmlu")
    for key in ("benchmark", "level", "degree", "certainty", "stars", "leader", "leader_share",
                "n", "spread_pts", "spread_pct", "saturated"):
        assert key in mmlu
    assert mmlu["level"] == "L2" and mmlu["leader"] == "Alpha" and mmlu["leader_share"] is None
    assert 1 <= mmlu["stars"] <= 5 and 0 <= mmlu["certainty"] <= 1
    assert next(r for r in rows if r["area"] == "gpqa")["level"] == "insufficient"


def test_claim_verdict_names_the_models(store, cfg):
    c = sp.claim_mmlu(store, "2024-05-31", cfg)
    assert c["holds"] is True and c["spread_pct"] == pytest.approx(4.5)
    assert [m["name"] for m in c["models"]] == ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"]
    assert c["verdict"].startswith("Holds") and "Epsilon" in c["verdict"]
    c = sp.claim_mmlu(store, "2024-06-30", _with(cfg, distinct_organizations=True))
    assert c["holds"] is False and c["verdict"].startswith("Does not hold")
    c = sp.claim_mmlu(store, "2024-03-31", cfg)
    assert c["holds"] is None and c["verdict"].startswith("Cannot tell")


def test_unknown_benchmark_is_a_clear_error(store, cfg):
    with pytest.raises(ConvergentError, match="unknown benchmark 'NoSuchBench'"):
        sp.measure(store, "2024-06-30", cfg, benchmark="NoSuchBench")


def test_bad_settings_are_rejected(cfg):
    bad = _with(cfg, spread_pct={"L4": 3.0, "L3": 2.5, "L2": 5.0})
    with pytest.raises(ConvergentError, match="L4 < L3 < L2"):
        sp.settings(bad)
    with pytest.raises(ConvergentError, match="at least 2"):
        sp.settings(cfg, k=1)
    with pytest.raises(ConvergentError, match="YYYY-MM-DD"):
        sp.measure(Store(None), "last year", cfg)


@given(st.floats(min_value=0.0, max_value=50.0), st.floats(min_value=0.0, max_value=50.0))
def test_degree_never_ranks_a_wider_spread_higher(a, b):
    import numpy as np

    s = sp.settings(default_config())
    thr, bands = s.spread_pct, s.bands
    lv = sp._levels(np.array([a, b]), thr)
    da = sp.degree_of(a, sp._CODE_LEVEL[int(lv[0])], thr, bands)
    db = sp.degree_of(b, sp._CODE_LEVEL[int(lv[1])], thr, bands)
    if a < b:
        assert da >= db and lv[0] >= lv[1]


def _run_cli(monkeypatch, capsys, store, *args: str) -> tuple[str, str]:
    import sys

    import convergent.store
    from convergent.cli import main

    monkeypatch.setattr(convergent.store, "open_store", lambda db=None, **kw: store)
    monkeypatch.setattr(sys, "argv", ["convergent", "capability", *args])
    try:
        main()
    except SystemExit as exc:
        assert exc.code in (0, None), capsys.readouterr().err
    out = capsys.readouterr()
    return out.out, out.err


def test_cli_history_json(monkeypatch, capsys, store):
    import json

    out, _ = _run_cli(monkeypatch, capsys, store, "--benchmark", "MMLU", "--as-of",
                      "2024-06-30", "--json")
    data = json.loads(out)
    assert [r["as_of"] for r in data["history"]] == ["2024-03-31", "2024-06-30"]
    assert data["history"][-1]["spread_pct"] == pytest.approx(100 * 3.4 / 81)
    assert data["claim"]["holds"] is True
    assert data["claim"]["models"][0]["name"] == "Phi"


def test_cli_history_csv_and_table(monkeypatch, capsys, store):
    out, _ = _run_cli(monkeypatch, capsys, store, "--as-of", "2024-07-31", "--k", "3", "--csv")
    header = out.splitlines()[0].split(",")
    assert {"benchmark", "as_of", "spread_pts", "level", "models"} <= set(header)
    assert any(line.startswith("Arena Elo,") for line in out.splitlines())
    out, _ = _run_cli(monkeypatch, capsys, store, "--as-of", "2024-07-31")
    assert "Holds" in out or "Does not hold" in out


def test_cli_unknown_benchmark_exits_2(monkeypatch, capsys, store):
    import sys

    import convergent.store
    from convergent.cli import main

    monkeypatch.setattr(convergent.store, "open_store", lambda db=None, **kw: store)
    monkeypatch.setattr(sys, "argv", ["convergent", "capability", "-b", "NoSuch"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2
    assert "unknown benchmark 'NoSuch'" in capsys.readouterr().err
