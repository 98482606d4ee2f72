"""The seed's claims on planted evidence where each is known to be true or false.

Two opposite evidence sets are built into full reports: in TRUE the seed's claims hold
(AdamW alone, decoder-only alone, RLHF alone, MoE 60 / dense 40, reasoning split three
ways, edge and cloud on different attention variants, five frontier developers, MMLU
within 2 points, 210 organisations in 2023 and 13 in 2025); in FALSE each is reversed.
Every verdict is worked out by hand below, and the conclusions must differ accordingly.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
import yaml

from convergent.config import load_config
from convergent.report.write import build_report
from convergent.seedcheck import CONFIRMED, CONTRADICTED, NOT_MEASURABLE, VERDICTS
from convergent.store import Store

AS_OF = dt.date(2026, 1, 31)
SRC = ["https://example.org/planted"]


def _spread(options: dict[str, int]) -> list[str]:
    """Options repeated by count, interleaved so every stretch of time sees the same mix."""
    out: list[str] = []
    pools = {k: v for k, v in options.items() if v > 0}
    total = sum(pools.values())
    acc = dict.fromkeys(pools, 0.0)
    for _ in range(total):
        for k in acc:
            acc[k] += pools[k] / total
        best = max(acc, key=lambda k: acc[k])
        acc[best] -= 1
        out.append(best)
    return out


def _models(truth: bool) -> list[dict]:
    """40 language models over the 12 months to AS_OF, 20 edge and 20 cloud."""
    n = 40
    plans = {
        "optimizer": {"AdamW": 40} if truth else {"AdamW": 12, "Muon": 12, "Lion": 8, "Adam": 8},
        "structure": {"decoder-only": 40} if truth else {"decoder-only": 20,
                                                         "encoder-decoder": 20},
        "alignment": {"RLHF-PPO": 40} if truth else {"DPO": 40},
        "tokenizer": {"BPE": 40} if truth else {"Unigram": 24, "BPE": 16},
        "ffn": {"MoE": 24, "dense": 16} if truth else {"MoE": 40},
        "reasoning": ({"none": 16, "explicit-CoT": 14, "hybrid-thinking": 10} if truth
                      else {"none": 40}),
        "backbone": {"Transformer": 40},
    }
    seqs = {area: _spread(p) for area, p in plans.items()}
    sides = [True] * (n // 2) + [False] * (n // 2)
    random.Random(3).shuffle(sides)    # deployment independent of every planted choice
    out = []
    for i in range(n):
        edge = sides[i]
        choices = {area: seq[i] for area, seq in seqs.items()}
        choices["attention"] = ("MQA" if edge else "GQA") if truth else "GQA"
        out.append({
            "name": f"planted-{i}", "organization": f"Lab {i % 8}", "country": "United States",
            "date": (AS_OF - dt.timedelta(days=7 + 8 * i)).isoformat(), "kind": "model",
            "modality": "language", "domain": "general",
            "deployment": "edge" if edge else "cloud", "tier": "notable",
            "sources": SRC, "choices": choices,
        })
    return out


def _frontier(truth: bool) -> list[dict]:
    """20 frontier models: five developers (TRUE) or twelve of equal weight (FALSE)."""
    orgs = [f"Frontier {k % (5 if truth else 12)}" for k in range(24 if not truth else 20)]
    return [{"name": f"frontier-{k}", "organization": org, "country": "United States",
             "date": (AS_OF - dt.timedelta(days=10 + 12 * k)).isoformat(), "kind": "model",
             "modality": "language", "tier": "frontier", "sources": SRC}
            for k, org in enumerate(orgs)]


def _players(truth: bool) -> list[dict]:
    """Organisations with a model in 2023 and 2025, besides the labs above (8 + 5 or 12 in
    2025): 210 and none (TRUE: 210 -> 13), or 20 and 30 (FALSE: 20 -> 50)."""
    a, b = (210, 0) if truth else (20, 30)
    rows = []
    for year, count in ((2023, a), (2025, b)):
        for k in range(count):
            rows.append({"name": f"player-{year}-{k}", "organization": f"Player {year}-{k}",
                         "country": "United States", "date": f"{year}-0{1 + k % 9}-10",
                         "kind": "model", "modality": "language", "sources": SRC})
    return rows


def _scores(truth: bool) -> list[dict]:
    """MMLU of five frontier models: within 1.6 points (TRUE) or 20 points apart (FALSE)."""
    vals = [90.0, 89.6, 89.2, 88.8, 88.4] if truth else [90.0, 85.0, 80.0, 75.0, 70.0]
    return [{"model": f"frontier-{k}", "benchmark": "MMLU", "score": v,
             "date": (AS_OF - dt.timedelta(days=20)).isoformat(), "source": SRC[0]}
            for k, v in enumerate(vals)]


def _report(folder: Path, truth: bool):
    from convergent.catalog.load import build_evidence

    doc = {"entities": _models(truth) + _frontier(truth) + _players(truth),
           "scores": _scores(truth)}
    path = folder / f"planted-{truth}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    ev, problems = build_evidence([path], origin="planted")
    assert not problems, problems
    store = Store(None)
    store.replace_origin("planted", ev.frames())
    with store.transaction():
        store.apply_facts()
    out, data = build_report(store, load_config(), folder / f"report-{truth}", as_of=AS_OF,
                             figures=False)
    return out, data


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[bool, tuple[Path, object]]:
    folder = tmp_path_factory.mktemp("planted")
    return {truth: _report(folder, truth) for truth in (True, False)}


# claim id -> (verdict when the seed is right, verdict when it is wrong)
EXPECTED = {
    "s4-adamw": (CONFIRMED, CONTRADICTED),        # AdamW 100 % (L4) vs 30 % (L1)
    "s3-math": (CONFIRMED, CONTRADICTED),         # the math layer is the optimizer alone
    "s4-decoder": (CONFIRMED, CONTRADICTED),      # 100 % vs 50 %
    "s4-rlhf": (CONFIRMED, CONTRADICTED),         # RLHF-PPO 100 % vs DPO leading
    "s4-tokenization": (CONFIRMED, CONTRADICTED),  # BPE 100 % vs Unigram leading
    "s4-moe": (CONFIRMED, CONTRADICTED),          # 60/40 is L2; MoE 100 % is L4
    "s4-reasoning": (CONFIRMED, CONTRADICTED),    # 40/35/25 is L1; 'none' 100 % is L4
    "s4-edge-cloud": (CONFIRMED, CONTRADICTED),   # MQA on edge, GQA in the cloud: L0
    "s3-transformer": (CONFIRMED, CONFIRMED),     # Transformer 100 % in both sets
    "s5-top6": (CONFIRMED, CONTRADICTED),         # 5 developers vs 6 of 12 = 50 %
    "s3-mmlu": (CONFIRMED, CONTRADICTED),         # spread 1.8 % vs 22 % of the top
    "s3-players": (CONFIRMED, CONTRADICTED),      # 210 -> 13 (16x) vs 20 -> 50
    "s4-pretrain": (NOT_MEASURABLE, NOT_MEASURABLE),
    "s4-code-general": (NOT_MEASURABLE, NOT_MEASURABLE),  # every model is 'general'
    "s7-market": (NOT_MEASURABLE, NOT_MEASURABLE),  # due 2027-06-30, after the evidence
    "s8-thesis": (NOT_MEASURABLE, NOT_MEASURABLE),
}


@pytest.mark.parametrize("truth", [True, False])
def test_each_verdict_on_planted_evidence(reports, truth: bool) -> None:
    _, data = reports[truth]
    got = {c["id"]: c for c in data.claims}
    for cid, pair in EXPECTED.items():
        want = pair[0 if truth else 1]
        assert got[cid]["verdict"] == want, (cid, got[cid])
    for c in data.claims:
        assert c["verdict"] in VERDICTS and c["why_zh"] and c["why_en"]
        if c["verdict"] == NOT_MEASURABLE:
            assert c["certainty"] is None and c["stars"] is None
    assert got["s5-top6"]["value"] == pytest.approx(1.0 if truth else 0.5, abs=0.01)


@pytest.mark.parametrize("truth", [True, False])
def test_claims_section_in_both_languages(reports, truth: bool) -> None:
    folder, _ = reports[truth]
    zh = (folder / "report.md").read_text("utf-8")
    en = (folder / "report.en.md").read_text("utf-8")
    assert "## 九、原文论断逐条核查" in zh and "## 9. The seed's claims, checked" in en
    zh_part = zh.split("## 九、")[1]
    en_part = en.split("## 9. ")[1]
    adamw = "| **证实** |" if truth else "| **否定** |"
    line = next(x for x in zh_part.splitlines() if "AdamW 优化器" in x)
    assert adamw in line
    line = next(x for x in en_part.splitlines() if "AdamW: L4" in x)
    assert ("| **confirmed** |" if truth else "| **contradicted** |") in line
    html = (folder / "index.html").read_text("utf-8")
    assert "AdamW" in html


def test_conclusions_follow_the_data(reports) -> None:
    """Opposite evidence, opposite conclusions: no sentence is fixed."""
    _, yes = reports[True]
    _, no = reports[False]
    by_yes = {c["key"]: c for c in yes.conclusions}
    by_no = {c["key"]: c for c in no.conclusions}
    assert "math" in by_yes["converged"]["values"]["layers"]
    assert "math" not in by_no["converged"]["values"]["layers"]
    assert "math" in by_no["diverging"]["values"]["layers"]
    assert "math" not in by_yes["diverging"]["values"]["layers"]
    for key in by_yes:
        if key in by_no and key not in ("thin", "moved", "tagline"):  # same thinness in both
            assert by_yes[key]["text_en"] != by_no[key]["text_en"], key
    assert by_yes["seed"]["values"][CONFIRMED] > by_no["seed"]["values"][CONFIRMED]
    assert by_yes["seed"]["values"][CONTRADICTED] < by_no["seed"]["values"][CONTRADICTED]


def test_tagline_needs_evidence(tmp_path) -> None:
    """Far past the evidence every area is thin: the tagline is not claimed either way."""
    from convergent.store import open_store

    _, data = build_report(open_store(), load_config(), tmp_path / "r",
                           as_of=dt.date(2030, 1, 1), figures=False, langs=["zh"])
    tag = next(c for c in data.claims if c["id"] == "s1-tagline")
    assert tag["verdict"] == NOT_MEASURABLE
    text = (tmp_path / "r" / "report.md").read_text("utf-8")
    overview = text.split("## 一、主题概述")[1].split("## 二、")[0]
    assert "尚无法判断" in overview


@pytest.mark.parametrize("layer_level, area_level, want", [
    ("L3", "L1", CONFIRMED),       # a converged layer and a local divergence
    ("L2", "L1", CONTRADICTED),    # no layer has converged
    ("L4", "L2", CONTRADICTED),    # nothing diverges
])
def test_tagline_needs_a_converged_layer_and_a_divergence(layer_level, area_level,
                                                           want) -> None:
    from convergent.seedcheck import Inputs, tagline_claim

    rows = [{"area": f"a{i}", "level": lv} for i, lv in enumerate(["L4", area_level, "L2"])]
    layers = [{"layer": "architecture", "level": layer_level, "name_zh": "架构层",
               "name_en": "Architecture"}]
    got = tagline_claim(Inputs(as_of=AS_OF, rows=rows, layers=layers))
    assert got["verdict"] == want, got


def test_claims_table_is_complete_and_checked_by_known_rules() -> None:
    """Every entry of seedclaims.yaml is a table claim with what its rule needs, or a claim
    computed in code under a known name; ids are unique; a half-written entry is refused."""
    import pydantic

    from convergent.seedcheck import COMPUTED, Claim, Computed, seed_claims

    claims = seed_claims()
    ids = [c.id for c in claims if isinstance(c, Claim)]
    assert len(ids) == len(set(ids)) == 27
    assert {c.computed for c in claims if isinstance(c, Computed)} == set(COMPUTED)
    with pytest.raises(pydantic.ValidationError, match="needs area"):
        Claim(id="x", section="§四", zh="甲", en="a", kind="period", start="2024", end="2025")
    with pytest.raises(pydantic.ValidationError):
        Claim(id="x", section="§四", zh="甲", en="a", kind="level", area="ffn",
              expect=("L2",), leeder="MoE")


@pytest.mark.parametrize("status, numbers", [
    ("not within 10 years", ["90", "10"]),
    ("not within 3 years", ["90", "3"]),
    ("reached", ["90"]),
])
def test_forecast_clause_carries_the_same_numbers_in_both_languages(status, numbers) -> None:
    import re

    from convergent.seedcheck import Inputs, _forecast_text

    inp = Inputs(as_of=AS_OF, rows=[], forecasts=[
        {"area": "agent_protocol", "target": "AG-UI", "cross_90": {"status": status}}])
    zh, en = _forecast_text(inp, "agent_protocol")
    assert "AG-UI" in zh and "AG-UI" in en
    assert sorted(re.findall(r"\d+", zh)) == sorted(re.findall(r"\d+", en)) == sorted(numbers)
