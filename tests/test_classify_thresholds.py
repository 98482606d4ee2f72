"""Planted cases on both sides of every threshold, through the store, with hand-worked levels.

Every count and date is placed by hand (tests/plant.py): quarter block j holds the entities
dated in (AS_OF − EDGES[j+1], AS_OF − EDGES[j]], so the trailing 12-month window ending k
quarters back holds exactly blocks k..k+3. Expected levels and degrees are worked out in the
comments from the default thresholds (l2 0.50, l3 0.90, l4 0.95, rival trend +5 pp/yr, L0:
segments of ≥ 10, leaders ≥ 0.60, NMI ≥ 0.30) and bands (L1 20–45, L2 45–75, L3 75–90,
L4 90–100).
"""

from __future__ import annotations

import pytest

from convergent.classify import Classifier
from plant import AS_OF, block_day, rows, store


def _one(ads: list[dict], area: str, certainty: bool = False):
    (res,) = Classifier(store(ads), areas=[area]).classify(AS_OF, certainty=certainty)
    return res


def _stationary(area: str, per_block: dict[str, int]) -> list[dict]:
    """The same counts in each of the 8 quarter blocks: every trend window has equal shares,
    so every trend is exactly 0 pp/yr and only s₁ decides."""
    return [r for j in range(8) for opt, c in per_block.items()
            for r in rows(area, opt, c, block_day(j), tag=f"b{j}")]


# Blocks of 100, window = 4 blocks = 400 adoptions.
# s₁ 0.96: L4, degree 90 + 10·(0.96−0.95)/0.05 = 92.
# s₁ 0.94: L3, degree 75 + 15·(0.94−0.90)/0.10 = 81.
# s₁ 0.91: L3, degree 75 + 15·0.01/0.10 = 76.5.
# s₁ 0.89: L2, degree 45 + 30·(0.89−0.50)/0.40 = 74.25.
# s₁ 0.51: L2, degree 45 + 30·0.01/0.40 = 45.75; s₂ 0.30 ≥ 0.20: duopoly.
# s₁ 0.49: L1, degree 20 + 25·0.49/0.50 = 44.5.
SHARES = [
    ({"AdamW": 96, "Adam": 3, "Lion": 1}, "L4", 92.0, False,
     "s₁ 0.96 ≥ 0.95; no rival above +5 pp/yr", "s₁ 0.96 ≥ 0.95，无挑战者增速超过 +5 个百分点/年"),
    ({"AdamW": 94, "Adam": 4, "Lion": 2}, "L3", 81.0, False, "s₁ 0.94 ≥ 0.9", "s₁ 0.94 ≥ 0.9"),
    ({"AdamW": 91, "Adam": 6, "Lion": 3}, "L3", 76.5, False, "s₁ 0.91 ≥ 0.9", "s₁ 0.91 ≥ 0.9"),
    ({"AdamW": 89, "Adam": 8, "Lion": 3}, "L2", 74.25, False, "s₁ 0.89 ≥ 0.5", "s₁ 0.89 ≥ 0.5"),
    ({"AdamW": 51, "Adam": 30, "Lion": 19}, "L2", 45.75, True,
     "s₁ 0.51 ≥ 0.5; duopoly, s₂ 0.30", "s₁ 0.51 ≥ 0.5；双寡头，s₂ 0.30"),
    ({"AdamW": 49, "Adam": 30, "Lion": 21}, "L1", 44.5, False,
     "s₁ 0.49 < 0.5: no option holds half", "s₁ 0.49 < 0.5：没有方案占据半数"),
]


@pytest.mark.parametrize("per_block, level, degree, duopoly, en, zh", SHARES,
                         ids=[f"s1={p['AdamW']}" for p, *_ in SHARES])
def test_leader_share_on_both_sides_of_each_threshold(per_block, level, degree, duopoly, en, zh):
    r = _one(_stationary("optimizer", per_block), "optimizer")
    assert (r.criterion, r.criterion_zh) == (en, zh)
    assert r.n == 400
    assert r.leader == "AdamW" and r.leader_share == pytest.approx(per_block["AdamW"] / 100)
    assert r.level == level
    assert r.degree == pytest.approx(degree)
    assert r.duopoly is duopoly
    assert r.fastest_rival_trend_pp == pytest.approx(0.0, abs=1e-9)


def _trend_case(challenger: list[int]) -> list[dict]:
    """Blocks of 250: challenger (Lion) counts per block, newest first; AdamW the rest."""
    out = []
    for j in range(8):
        c = challenger[j] if j < len(challenger) else 0
        out += rows("optimizer", "Lion", c, block_day(j), tag=f"b{j}")
        out += rows("optimizer", "AdamW", 250 - c, block_day(j), tag=f"b{j}")
    return out


# Window k's Lion count is the sum of blocks k..k+3 (of 1000). The window ends lie at
# t = 0, −0.25, −0.50, −0.75, −1.00 yr (to within a day), so the least-squares slope is
# Σ d_k·s_k / 0.625 with d = (0.5, 0.25, 0, −0.25, −0.5).
# Under: blocks (12, 12, 12, 12, 0, 0, 0, 0) → windows 48, 36, 24, 12, 0 ‰ →
#   slope = (0.5·4.8 + 0.25·3.6 − 0.25·1.2) / 0.625 = 4.8 pp/yr ≤ 5: L4 (s₁ 0.952).
# Over: blocks (7, 17, 17, 7, 0, 0, 0, 0) → windows 48, 41, 24, 7, 0 ‰ →
#   slope = (0.5·4.8 + 0.25·4.1 − 0.25·0.7) / 0.625 = 5.2 pp/yr > 5: L3 (same s₁ 0.952).
@pytest.mark.parametrize("blocks, slope, level", [
    ([12, 12, 12, 12], 4.8, "L4"),
    ([7, 17, 17, 7], 5.2, "L3"),
])
def test_challenger_trend_just_under_and_over_5pp(blocks, slope, level):
    r = _one(_trend_case(blocks), "optimizer")
    assert r.leader_share == pytest.approx(0.952)
    assert r.fastest_rival == "Lion"
    assert r.fastest_rival_trend_pp == pytest.approx(slope, abs=0.03)
    assert r.level == level
    if level == "L3":
        assert r.criterion == "s₁ 0.95 ≥ 0.95 but Lion grows +5.2 pp/yr"
        assert r.criterion_zh == "s₁ 0.95 ≥ 0.95，但 Lion 每年增长 +5.2 个百分点"
        # L3 reached through a growing challenger: position (0.952 − 0.90)/0.10 in 75–90
        assert r.degree == pytest.approx(75 + 15 * 0.52)
    else:
        assert "no rival above +5 pp/yr" in r.criterion


@pytest.mark.parametrize("n, level", [(9, "insufficient"), (10, "L4")])
def test_nine_or_ten_known_adoptions(n, level):
    r = _one(rows("optimizer", "AdamW", n, block_day(0)), "optimizer", certainty=True)
    assert r.n == n and r.level == level
    if level == "insufficient":
        assert r.degree is None and r.certainty is None and r.stars is None
        assert r.criterion == "n = 9 < 10 known adoptions in the window"
        assert r.criterion_zh == "窗口内已知采用数 n = 9 < 10"
    else:
        # all ten sit in the newest quarter: older windows are empty, no trend can be fitted
        assert r.degree == pytest.approx(100.0)
        assert r.criterion == ("s₁ 1.00 ≥ 0.95; challenger trend not measurable (fewer than 3 "
                               "trend windows with n ≥ 10)")
        assert r.criterion_zh == "s₁ 1.00 ≥ 0.95；挑战者趋势无法测量（n ≥ 10 的趋势窗口少于 3 个）"
        assert r.certainty is not None and r.stars is not None


def _segments(tables: dict[str, dict[str, int]]) -> list[dict]:
    return [r for value, counts in tables.items() for opt, c in counts.items()
            for r in rows("optimizer", opt, c, block_day(0), {"deployment": value}, tag=value)]


# Symmetric 2×2, 50 per segment, leaders at p: NMI = 1 − H₂(p) (bits).
# p = 0.80: H₂ = 0.8·0.3219 + 0.2·2.3219 = 0.7219 → NMI 0.278 < 0.30: not L0; s₁ = 0.50: L2.
# p = 0.82: H₂ = 0.82·0.2863 + 0.18·2.4739 = 0.6801 → NMI 0.320 ≥ 0.30: L0.
@pytest.mark.parametrize("lead, nmi, level", [(40, 0.278, "L2"), (41, 0.320, "L0")])
def test_l0_nmi_on_both_sides(lead, nmi, level):
    r = _one(_segments({"edge": {"AdamW": lead, "Adam": 50 - lead},
                        "cloud": {"Adam": lead, "AdamW": 50 - lead}}), "optimizer")
    (seg,) = [s for s in r.segments if s["dimension"] == "deployment"]
    assert seg["nmi"] == pytest.approx(nmi, abs=0.001)
    assert r.level == level
    assert (r.l0_dimension == "deployment") is (level == "L0")
    if level == "L0":
        assert r.criterion == "deployment: cloud→Adam (82%), edge→AdamW (82%); NMI 0.32 ≥ 0.3"
        assert r.criterion_zh == ("按deployment分场景：cloud→Adam (82%), edge→AdamW (82%)；"
                                  "NMI 0.32 ≥ 0.3")


# Each segment's leader at p, the rest on an option only that segment uses: the option
# tells the segment, MI = ln 2, NMI = 2 / (2 + H₂(p)) ≈ 0.67 either way.
# p = 0.58 (29 of 50): no segment leader ≥ 0.60: not L0; s₁ = 0.29: L1.
# p = 0.62 (31 of 50): two strong segments, different leaders: L0.
@pytest.mark.parametrize("lead, level", [(29, "L1"), (31, "L0")])
def test_l0_segment_leader_share_on_both_sides(lead, level):
    r = _one(_segments({"edge": {"AdamW": lead, "Lion": 50 - lead},
                        "cloud": {"Adam": lead, "Muon": 50 - lead}}), "optimizer")
    (seg,) = [s for s in r.segments if s["dimension"] == "deployment"]
    h2 = {29: 0.9815, 31: 0.9580}[lead]
    assert seg["nmi"] == pytest.approx(2 / (2 + h2), abs=0.001)
    assert r.level == level
    if level == "L0":
        assert "edge→AdamW (62%)" in r.criterion and "cloud→Adam (62%)" in r.criterion


# Two pure segments (NMI 1, leaders 1.0): 9 each do not count as segments, so no L0
# (n = 18, s₁ = 0.50: L2); 10 each are segments: L0.
@pytest.mark.parametrize("size, level", [(9, "L2"), (10, "L0")])
def test_l0_segment_size_on_both_sides(size, level):
    r = _one(_segments({"edge": {"AdamW": size}, "cloud": {"Adam": size}}), "optimizer")
    assert r.level == level
    assert bool(r.segments) is (size >= 10)
