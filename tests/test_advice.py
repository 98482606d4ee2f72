"""Advice per area from level and certainty, in both languages."""

from __future__ import annotations

import copy
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convergent.advice import ADOPT, EXPLORE, HEDGE, NONE, advise
from convergent.config import load_config

CFG = load_config()


def row(level: str, degree: float | None = 80.0, certainty: float | None = 0.97,
        stars: int | None = 5, **kw: object) -> dict:
    out = {"area": "backbone", "layer": "architecture", "name_en": "Backbone",
           "name_zh": "主干网络", "level": level, "degree": degree, "certainty": certainty,
           "stars": stars, "leader": "Transformer", "challenger": "SSM", "n": 40}
    out.update(kw)
    return out


def one(r: dict, lang: str = "en", cfg: dict = CFG) -> dict:
    (adv,) = advise([r], cfg, lang)
    return adv


@pytest.mark.parametrize(("level", "action"), [
    ("L4", ADOPT), ("L3", ADOPT), ("L2", HEDGE), ("L1", EXPLORE), ("L0", EXPLORE)])
def test_action_follows_level_when_certain(level: str, action: str) -> None:
    adv = one(row(level, degree=50.0))
    assert adv["action"] == action
    assert adv["low_certainty"] is False
    assert level in adv["text"] and "degree 50%" in adv["text"]
    assert "★★★★★ 0.97" in adv["text"]


def test_chinese_uses_the_seed_terms() -> None:
    assert "拥抱已收敛层" in one(row("L4", 96.0), "zh")["text"]
    assert "谨慎参与收敛层" in one(row("L2", 60.0), "zh")["text"]
    assert "激进探索未收敛层" in one(row("L1", 30.0), "zh")["text"]
    zh = one(row("L4", 96.0), "zh")
    assert "收敛度 96%" in zh["text"] and "完全收敛" in zh["text"]
    assert zh["text"] == zh["text_zh"] and zh["text_en"].startswith("Backbone")


def test_low_stars_downgrade_adoption_and_say_so() -> None:
    adv = one(row("L3", 85.0, certainty=0.7, stars=3))
    assert adv["action"] == HEDGE and adv["low_certainty"] is True
    assert "low certainty" in adv["text"] and "★★★☆☆" in adv["text"]
    assert "确定性低" in one(row("L3", 85.0, certainty=0.7, stars=3), "zh")["text"]


def test_low_certainty_value_counts_even_with_many_stars() -> None:
    cfg = copy.deepcopy(CFG)
    cfg["advice"]["adopt_min_stars"] = 1
    adv = one(row("L4", 95.0, certainty=0.55, stars=2), cfg=cfg)
    assert adv["action"] == HEDGE and adv["low_certainty"] is True


def test_low_certainty_is_stated_for_unconverged_areas_too() -> None:
    adv = one(row("L1", 30.0, certainty=0.3, stars=1))
    assert adv["action"] == EXPLORE and "low certainty" in adv["text"]


def test_unmeasured_certainty_is_stated() -> None:
    adv = one(row("L4", 95.0, certainty=math.nan, stars=0))
    assert adv["action"] == HEDGE and "not measured" in adv["text"]
    adv = one(row("L2", 60.0, certainty=None, stars=None))
    assert adv["low_certainty"] is True and "not measured" in adv["text"]


def test_insufficient_evidence_gives_no_advice() -> None:
    adv = one(row("insufficient", degree=None, n=3))
    assert adv["action"] == NONE
    assert "no advice: insufficient evidence" in adv["text"]
    assert "证据不足" in one(row("insufficient", degree=None), "zh")["text"]


@given(st.sampled_from(["L0", "L1", "L2", "L3", "L4", "insufficient"]),
       st.floats(0, 1), st.integers(0, 5))
def test_adopt_only_when_converged_and_certain(level: str, cert: float, stars: int) -> None:
    adv = one(row(level, None if level == "insufficient" else 50.0, cert, stars))
    if adv["action"] == ADOPT:
        assert level in ("L3", "L4") and stars >= 4 and cert >= 0.6
    if level in ("L0", "L1"):
        assert adv["action"] == EXPLORE
    if adv["low_certainty"]:
        assert "certainty" in adv["text"].split("Note:")[-1]
