"""Layer scores, the pyramid, the five-layer table and the Mermaid drawing."""

from __future__ import annotations

import copy
import datetime as dt
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convergent.config import LEVELS, load_config
from convergent.layers import (
    FIVE_LAYERS,
    NO_EVIDENCE,
    NOT_MEASURED,
    five_layer_table,
    layer_scores,
    level_for_score,
    pyramid_mermaid,
)
from convergent.registry import registry
from convergent.schema import TABLES
from convergent.store import Store

CFG = load_config()
AS_OF = dt.date(2025, 12, 31)


def area(area_id: str, level: str, degree: float | None, **kw: object) -> dict:
    """A classification row with the keys layers and advice read."""
    a = registry().areas[area_id]
    row = {"area": area_id, "layer": a.layer, "name_en": a.en, "name_zh": a.zh,
           "level": level, "degree": degree, "certainty": 0.9, "stars": 4,
           "leader": "X", "leader_share": 0.9, "challenger": None, "challenger_share": None,
           "challenger_trend_pp": None, "n": 20}
    row.update(kw)
    return row


def by_layer(rows: list[dict]) -> dict[str, dict]:
    return {r["layer"]: r for r in rows}


def test_score_is_weighted_mean_of_classified_degrees() -> None:
    rows = [area("backbone", "L4", 95.0), area("ffn", "L2", 60.0),
            area("attention", "insufficient", None)]
    got = by_layer(layer_scores(rows, CFG))["architecture"]
    assert got["score"] == pytest.approx(77.5)        # (95 + 60) / 2
    assert got["level"] == "L3"                       # band L3 = [75, 90]
    assert got["n_areas"] == 3 and got["n_classified"] == 2
    cfg = copy.deepcopy(CFG)
    cfg["layers"]["weights"] = {"backbone": 3}
    got = by_layer(layer_scores(rows, cfg))["architecture"]
    assert got["score"] == pytest.approx((3 * 95 + 60) / 4)


def test_layers_in_registry_order_and_empty_layer_says_no_evidence() -> None:
    rows = layer_scores([area("backbone", "L4", 95.0)], CFG)
    assert [r["layer"] for r in rows] == ["math", "architecture", "training", "capability",
                                          "application", "hardware", "market"]
    math = by_layer(rows)["math"]
    assert math["score"] is None and math["level"] == NO_EVIDENCE
    only_insufficient = layer_scores([area("optimizer", "insufficient", None)], CFG)
    assert by_layer(only_insufficient)["math"]["level"] == NO_EVIDENCE


def test_unconverged_lists_l1_and_l0_only() -> None:
    rows = [area("alignment", "L2", 60.0), area("reasoning", "L1", 40.0),
            area("agent_protocol", "L0", 10.0)]
    got = by_layer(layer_scores(rows, CFG))
    assert [a["area"] for a in got["training"]["unconverged"]] == ["reasoning"]
    assert [a["area"] for a in got["application"]["unconverged"]] == ["agent_protocol"]
    assert got["application"]["level"] == "L0"


def test_capability_rows_without_layer_are_placed_by_registry() -> None:
    row = {"area": "mmlu", "level": "L3", "degree": 80.0, "certainty": 0.4, "stars": 2,
           "leader": "o1", "leader_share": None, "spread_pct": 1.96, "n": 49}
    got = by_layer(layer_scores([row], CFG))["capability"]
    assert got["level"] == "L3" and got["score"] == 80.0
    assert got["areas"][0]["name_en"] == "MMLU"


def test_band_edge_does_not_name_a_level_no_area_has() -> None:
    # an L3 area whose leader holds 100 % but whose challenger grows sits at degree 90,
    # the lower edge of L4's band; the layer must still read L3
    got = by_layer(layer_scores([area("positional", "L3", 90.0)], CFG))["architecture"]
    assert level_for_score(90.0, CFG) == "L4"
    assert got["level"] == "L3"


def _in_band(level: str, frac: float) -> float:
    lo, hi = CFG["degree"]["bands"][level]
    return lo + (hi - lo) * frac


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(LEVELS), st.floats(0, 1),
                          st.floats(0.1, 5)), min_size=1, max_size=8))
def test_layer_level_lies_between_its_areas_levels(spec: list) -> None:
    ids = ["backbone", "structure", "ffn", "attention", "normalization", "norm_placement",
           "activation", "positional"]
    cfg = copy.deepcopy(CFG)
    rows = []
    for aid, (lvl, frac, w) in zip(ids, spec, strict=False):
        rows.append(area(aid, lvl, _in_band(lvl, frac)))
        cfg["layers"]["weights"][aid] = w
    got = by_layer(layer_scores(rows, cfg))["architecture"]
    idx = [LEVELS.index(r["level"]) for r in rows]
    assert min(idx) <= LEVELS.index(got["level"]) <= max(idx)
    assert min(r["degree"] for r in rows) - 1e-9 <= got["score"] <= max(
        r["degree"] for r in rows) + 1e-9


def _store(entities: list[tuple], adoptions: list[tuple], scores: list[tuple] = ()) -> Store:
    """Entities (id, org, date), adoptions (id, area, option, date), scores (id, bench, date)."""
    store = Store(None)
    ent = pd.DataFrame([{c: None for c in TABLES["entities"]} | {
        "entity_id": i, "name": i, "kind": "model", "organization": o, "date": d,
        "origin": "test"} for i, o, d in entities], columns=list(TABLES["entities"]))
    for c, t in TABLES["entities"].items():
        if t == "float64":
            ent[c] = ent[c].astype(float)
    store.append("entities", ent)
    ad = pd.DataFrame([{"entity_id": i, "area_id": a, "option": o, "weight": 1.0, "date": d,
                        "source_id": "s", "origin": "test"} for i, a, o, d in adoptions])
    store.append("adoptions", ad)
    if scores:
        sc = pd.DataFrame([{"entity_id": i, "benchmark": b, "score": 80.0, "date": d,
                            "source_id": "s", "origin": "test"} for i, b, d in scores])
        store.append("scores", sc)
    return store


def test_five_layer_market_concentration_by_hand() -> None:
    d = dt.date(2025, 6, 1)
    ents = [("a1", "A", d), ("a2", "A", d), ("b1", "B", d), ("c1", "C", d),
            ("d1", "D", d), ("old", "E", dt.date(2020, 1, 1)), ("h1", "H", d)]
    ads = [("a1", "backbone", "Transformer", d), ("a1", "ffn", "MoE", d),  # a1 counts once
           ("a2", "ffn", "dense", d), ("b1", "backbone", "Transformer", d),
           ("c1", "normalization", "RMSNorm", d),
           ("d1", "backbone", "unknown", d),                   # unknown option: not adopting
           ("old", "backbone", "Transformer", dt.date(2020, 1, 1)),  # outside the window
           ("h1", "accelerator_vendor", "NVIDIA", d)]
    scores = [("a1", "MMLU", d), ("b1", "mmlu", d), ("h1", "GPQA", d)]
    results = [area("backbone", "L4", 96.0, leader="Transformer", leader_share=0.97, n=40,
                    challenger="hybrid", challenger_share=0.03, challenger_trend_pp=1.0),
               area("ffn", "L2", 55.0, leader="MoE", leader_share=0.6, n=30,
                    challenger="dense", challenger_share=0.4, challenger_trend_pp=-5.0)]
    table = five_layer_table(_store(ents, ads, scores), results, AS_OF, CFG,
                             predictability={"architecture": "★★★★"})
    assert [r["layer"] for r in table] == list(FIVE_LAYERS)
    assert [r["name_zh"] for r in table] == ["基础架构层", "训练范式层", "能力表现层",
                                             "应用协议层", "硬件适配层"]
    arch = {r["layer"]: r for r in table}["architecture"]
    # A 2 entities, B 1, C 1: HHI = (0.5² + 0.25² + 0.25²)·10⁴ = 3750, effective n = 8/3
    assert arch["market_hhi"] == pytest.approx(3750)
    assert arch["market_effective_n"] == pytest.approx(8 / 3)
    assert arch["market_n_organisations"] == 3
    assert arch["leader"] == "Transformer" and arch["leader_share"] == 0.97
    assert arch["challenger"] == "hybrid"            # the fastest-growing challenger
    assert arch["predictability"] == "★★★★"
    cap = {r["layer"]: r for r in table}["capability"]
    # A and B scored on MMLU (two spellings), H on GPQA: one entity each, HHI = 10⁴/3
    assert cap["market_hhi"] == pytest.approx(10_000 / 3)
    assert cap["market_n_organisations"] == 3
    train = {r["layer"]: r for r in table}["training"]
    assert train["market_hhi"] is None and train["technical_en"] == NO_EVIDENCE
    assert train["predictability"] == NOT_MEASURED
    hw = {r["layer"]: r for r in table}["hardware"]
    assert hw["market_hhi"] == pytest.approx(10_000)


def test_capability_market_counts_each_benchmark_scorer() -> None:
    d = dt.date(2025, 6, 1)
    ents = [("a1", "A", d), ("b1", "B", d), ("b2", "B", d)]
    scores = [("a1", "MMLU", d), ("b1", "MMLU-Pro", d), ("b2", "Unlisted bench", d)]
    table = five_layer_table(_store(ents, [], scores), [], AS_OF, CFG)
    cap = {r["layer"]: r for r in table}["capability"]
    assert cap["market_hhi"] == pytest.approx(5000)   # A 1, B 1 (b2's benchmark is no area)
    assert cap["level"] == NO_EVIDENCE


LABEL = re.compile(r'\["([^"]*)"\]')


def test_mermaid_pyramid_lists_unconverged_and_escapes_labels() -> None:
    rows = [area("backbone", "L4", 95.0), area("reasoning", "L1", 40.0),
            area("agent_protocol", "L1", 30.0,
                 name_en='Agent "protocols" [MCP] (A2A) #1', name_zh='智能体"协议"[MCP]')]
    layers = layer_scores(rows, CFG)
    text = pyramid_mermaid(layers, "en")
    assert text.startswith("graph TD\n")
    assert "UNCONVERGED" in text
    assert text.count("-.->") == 2
    labels = LABEL.findall(text)
    assert "Agent protocols MCP A2A 1 L1" in labels
    for line in text.splitlines():
        for lab in LABEL.findall(line):
            assert not set(lab) & set('"[](){}<>|#')
    assert "Market no evidence" in text
    zh = pyramid_mermaid(layers, "zh")
    assert "未收敛区域" in zh and "智能体 协议 MCP L1" in zh
    assert "架构层 L4 完全收敛 收敛度 95%" in zh


def test_mermaid_without_unconverged_areas_has_no_subgraph() -> None:
    text = pyramid_mermaid(layer_scores([area("backbone", "L4", 95.0)], CFG), "en")
    assert "UNCONVERGED" not in text and "-.->" not in text


def test_cli_layers_drivers_advice_json() -> None:
    import json

    from typer.testing import CliRunner

    from convergent.cli import app

    runner = CliRunner()
    res = runner.invoke(app, ["layers", "--json", "--as-of", "2025-06-30"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [r["layer"] for r in data["five_layer_table"]] == list(FIVE_LAYERS)
    assert len(data["layers"]) == 7 and data["mermaid"].startswith("graph TD")
    res = runner.invoke(app, ["drivers", "--csv", "--as-of", "2025-06-30", "--lang", "zh"])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0].startswith("id,name_en,name_zh,group")
    res = runner.invoke(app, ["advice", "--json", "--area", "backbone", "--lang", "zh"])
    assert res.exit_code == 0, res.output
    (adv,) = json.loads(res.output)
    assert adv["area"] == "backbone" and adv["text"] == adv["text_zh"]
