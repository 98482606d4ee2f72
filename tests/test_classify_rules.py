"""Direct tests of the rule functions and of the certainty, with hand-worked expectations."""

from __future__ import annotations

import copy
import datetime as dt
from math import comb

import numpy as np
import pytest

from convergent.classify import Classifier, _l0_batch, degree_of, level_codes, stars_for
from convergent.config import load_config
from convergent.measures import day_number, nmi_jsd
from plant import AS_OF, block_day, rows, store

CFG = load_config()
NAN = float("nan")

# (n, s₁, fastest rival trend pp/yr, L0 flag) → code (−1 insufficient, 0–4 = L0–L4).
CODES = [
    (10, 0.95, 5.0, False, 4),       # both L4 conditions hold with equality
    (10, 0.95, 5.0001, False, 3),    # a rival just faster than +5 pp/yr: L3
    (10, 0.96, 20.0, False, 3),      # "theory still challenged"
    (10, 0.9499, 0.0, False, 3),
    (10, 0.90, 0.0, False, 3),
    (10, 0.8999, 0.0, False, 2),
    (10, 0.50, 0.0, False, 2),
    (10, 0.4999, 0.0, False, 1),
    (10, 0.0, 0.0, False, 1),
    (10, 0.99, NAN, False, 4),       # no measurable trend does not block L4
    (10, 1.0, -3.0, False, 4),
    (10, 0.99, 0.0, True, 0),        # scenario tearing wins over any share
    (10, 0.20, 0.0, True, 0),
    (9, 0.99, 0.0, False, -1),       # too few known adoptions: no level at all
    (9, 0.99, 0.0, True, -1),
    (0, 0.0, NAN, False, -1),
]


def test_level_codes_by_hand() -> None:
    n, s1, trend, l0, want = (np.array(col) for col in zip(*CODES, strict=True))
    got = level_codes(n.astype(float), s1.astype(float), trend.astype(float), l0.astype(bool),
                      CFG)
    assert got.tolist() == want.tolist()


def test_level_codes_follow_the_config() -> None:
    cfg = copy.deepcopy(CFG)
    cfg["classify"].update(min_n=3, l2_share=0.4, l3_share=0.8, l4_share=0.9,
                           l4_max_challenger_trend_pp=1.0)
    got = level_codes(np.array([3, 3, 3, 3, 2.0]), np.array([0.45, 0.85, 0.92, 0.92, 0.92]),
                      np.array([0, 0, 0.5, 1.5, 0]), np.zeros(5, bool), cfg)
    assert got.tolist() == [2, 3, 4, 3, -1]


# Inside a band the position is L1 s₁/0.5, L2 (s₁−0.5)/0.4, L3 (s₁−0.9)/0.1,
# L4 (s₁−0.95)/0.05, L0 s₁; degree = lo + (hi − lo)·position, clamped to the band.
@pytest.mark.parametrize("code, s1, degree", [
    (1, 0.25, 32.5), (1, 0.0, 20.0), (1, 0.4999, 44.995),
    (2, 0.70, 60.0), (2, 0.50, 45.0), (2, 0.95, 75.0),
    (3, 0.95, 82.5), (3, 0.90, 75.0), (3, 0.99, 88.5),
    (4, 0.975, 95.0), (4, 0.95, 90.0), (4, 1.0, 100.0),
    (0, 0.40, 8.0), (0, 1.0, 20.0),
])
def test_degree_of_by_hand(code: int, s1: float, degree: float) -> None:
    assert degree_of(code, s1, CFG) == pytest.approx(degree)


def test_degree_of_insufficient_is_none_and_bands_come_from_config() -> None:
    assert degree_of(-1, 0.99, CFG) is None
    cfg = copy.deepcopy(CFG)
    cfg["degree"]["bands"]["L2"] = [40, 60]
    assert degree_of(2, 0.70, cfg) == pytest.approx(50.0)
    cfg["classify"]["l4_share"] = 1.0           # L4 only at s₁ = 1: the band's top, no 0/0
    assert degree_of(4, 1.0, cfg) == pytest.approx(100.0)


def _batch(*tables: list[list[int]]) -> np.ndarray:
    """Zero-padded [B, 3, 4] batch (empty segments and options change nothing)."""
    out = np.zeros((len(tables), 3, 4))
    for b, t in enumerate(tables):
        arr = np.array(t, float)
        out[b, : arr.shape[0], : arr.shape[1]] = arr
    return out


def test_l0_batch_by_hand() -> None:
    cases = [
        ([[10, 0], [0, 10]], True),                 # pure segments, different leaders
        ([[9, 0], [0, 9]], False),                  # segments below 10 do not count
        ([[10, 0], [10, 0]], False),                # same leader everywhere: NMI 0
        ([[41, 9], [9, 41]], True),                 # NMI 1 − H₂(0.82) = 0.320
        ([[40, 10], [10, 40]], False),              # NMI 1 − H₂(0.80) = 0.278
        ([[31, 19, 0, 0], [0, 0, 31, 19]], True),   # leaders 0.62
        ([[29, 21, 0, 0], [0, 0, 29, 21]], False),  # leaders 0.58
        ([[10, 0], [0, 10], [3, 3]], True),         # a small third segment is ignored
        ([[20, 0], [6, 5]], False),                 # only one strong segment
        ([[6, 4, 0, 0], [0, 0, 6, 4]], True),       # leaders exactly 0.60 (≥, not >)
        ([[90, 0], [0, 10]], True),                 # unequal segments: H(S)+H(O) < 1 nat
        # two strong segments with the same leader; the third (6/11) is not strong, so the
        # high NMI (0.66) alone does not make L0 — for leader 0 and for leader 1:
        ([[10, 0, 0], [10, 0, 0], [0, 6, 5]], False),
        ([[0, 10, 0], [0, 10, 0], [6, 0, 5]], False),
        ([[0, 0], [0, 0]], False),                  # nothing at all
    ]
    got = _l0_batch(_batch(*(t for t, _ in cases)), CFG)
    assert got.tolist() == [want for _, want in cases]


def test_l0_batch_follows_the_config() -> None:
    cfg = copy.deepcopy(CFG)
    cfg["classify"].update(min_n_segment=5, l0_min_nmi=0.25, l0_segment_leader_share=0.55)
    got = _l0_batch(_batch([[5, 0], [0, 5]], [[40, 10], [10, 40]], [[29, 21, 0, 0],
                                                                    [0, 0, 29, 21]]), cfg)
    assert got.tolist() == [True, True, True]
    cfg["classify"]["min_n_segment"] = 1        # single-entity segments count too
    assert _l0_batch(_batch([[1, 0], [0, 1]]), cfg).tolist() == [True]
    cfg["classify"]["l0_min_nmi"] = 1.0         # pure segments have NMI exactly 1: ≥ holds
    assert _l0_batch(_batch([[10, 0], [0, 10]]), cfg).tolist() == [True]


H2_08 = -(0.8 * np.log2(0.8) + 0.2 * np.log2(0.2))      # 0.7219 bits


@pytest.mark.parametrize("table, nmi, jsd", [
    ([[10, 20], [20, 40]], 0.0, 0.0),            # independent: no information
    ([[10, 0], [0, 10]], 1.0, 1.0),              # the option tells the segment
    ([[8, 2], [2, 8]], 1 - H2_08, 1 - H2_08),    # M = (½, ½): JSD = 1 − H₂(0.8)
    ([[1, 0], [10, 0], [0, 20]], None, 1.0),     # JSD between the two largest segments
    ([[5, 5]], 0.0, 0.0),                        # one segment: nothing to compare
    ([[5, 0], [0, 0]], 0.0, 0.0),                # one non-empty segment, one option
    ([[0, 0], [0, 0]], 0.0, 0.0),
    ([[0.5, 0], [0, 0.5]], 1.0, 1.0),            # split weights: a total of 1 still counts
])
def test_nmi_jsd_by_hand(table, nmi, jsd) -> None:
    got_nmi, got_jsd = nmi_jsd(np.array(table, float))
    if nmi is not None:
        assert got_nmi == pytest.approx(nmi, abs=1e-12)
    assert got_jsd == pytest.approx(jsd, abs=1e-12)


def test_nmi_with_little_entropy_by_hand() -> None:
    # [[18, 0], [1, 1]]: H(S) = H(0.9, 0.1) = 0.3251, H(O) = H(0.95, 0.05) = 0.1985,
    # H(S,O) = H(0.9, 0.05, 0.05) = 0.3944 nats → NMI = 2·(0.3251 + 0.1985 − 0.3944)/0.5236
    nmi, jsd = nmi_jsd(np.array([[18, 0], [1, 1]], float))
    assert nmi == pytest.approx(2 * (0.32508 + 0.19850 - 0.39439) / (0.32508 + 0.19850),
                                abs=1e-4)
    # JSD of (1, 0) and (0.5, 0.5): M = (0.75, 0.25), H(M) = 0.8113 bits, H = 0 and 1
    assert jsd == pytest.approx(0.8113 - 0.5, abs=1e-4)


def test_nmi_of_three_segments_by_hand() -> None:
    # [[1,0],[10,0],[0,20]]: H(S) over (1,10,20)/31, H(O) over (11,20)/31, H(S,O) = H(S)
    p = np.array([1, 10, 20]) / 31
    hs = -(p * np.log(p)).sum()
    q = np.array([11, 20]) / 31
    ho = -(q * np.log(q)).sum()
    nmi, _ = nmi_jsd(np.array([[1, 0], [10, 0], [0, 20]], float))
    assert nmi == pytest.approx(2 * ho / (hs + ho))


@pytest.mark.parametrize("certainty, stars", [
    (1.0, 5), (0.95, 5), (0.9499, 4), (0.80, 4), (0.7999, 3), (0.60, 3), (0.5999, 2),
    (0.40, 2), (0.3999, 1), (0.0, 1), (None, None), (NAN, None)])
def test_stars_for_each_cut(certainty, stars) -> None:
    assert stars_for(certainty, CFG) == stars


def _certainty(ads: list[dict], cfg: dict | None = None):
    (res,) = Classifier(store(ads), cfg, areas=["optimizer"]).classify(AS_OF)
    return res


def _binomial_area() -> list[dict]:
    """23 AdamW + 2 Adam in each of 8 quarter blocks: every window, jittered or not, holds
    exactly 4 blocks (n = 100, s₁ = 0.92, trends 0): L3."""
    return [r for j in range(8) for opt, c in (("AdamW", 23), ("Adam", 2))
            for r in rows("optimizer", opt, c, block_day(j), tag=f"b{j}")]


def _binom(n: int, p: float, k: int) -> float:
    return comb(n, k) * p**k * (1 - p) ** (n - k)


def test_certainty_is_the_predictive_probability_of_keeping_the_level() -> None:
    # A resample draws shares J/100 with J ~ Binomial(100, 0.92), then a fresh window
    # X ~ Binomial(100, J/100); the level stays L3 while 90 ≤ X ≤ 94:
    # P = Σ_j P(J = j) · Σ_{x=90}^{94} P(X = x | j) = 0.48 (one redraw alone: 0.64, which
    # is how well the share is known, not how often fresh evidence keeps the level).
    # With 400 resamples the estimate has a standard error of 0.025.
    exact = sum(_binom(100, 0.92, j) * sum(_binom(100, j / 100, x) for x in range(90, 95))
                for j in range(101))
    single = sum(_binom(100, 0.92, x) for x in range(90, 95))
    assert exact == pytest.approx(0.4814, abs=1e-4) and single == pytest.approx(0.6445, abs=1e-4)
    r = _certainty(_binomial_area())
    assert r.level == "L3"
    assert r.certainty == pytest.approx(exact, abs=0.075)
    assert r.stars == 2


def test_certainty_counts_window_ends_moved_back_up_to_3_months() -> None:
    # 600 AdamW + 400 Adam dated 100–300 days back sit in every jittered window; 9000
    # AdamW dated 10 days back sit only in windows ending at most 10 days back. Level L4
    # (s₁ 0.96) holds for the 11 of the 92 possible backward shifts (0..91 days) that keep
    # them: certainty ≈ 11/92 = 0.12. (Shifts forward would look past the as-of date.)
    old = [r for d in (100, 150, 200, 250, 300) for opt, c in (("AdamW", 120), ("Adam", 80))
           for r in rows("optimizer", opt, c, AS_OF - dt.timedelta(days=d))]
    new = rows("optimizer", "AdamW", 9000, AS_OF - dt.timedelta(days=10))
    r = _certainty(old + new)
    assert r.level == "L4" and r.leader_share == pytest.approx(0.96)
    assert r.certainty == pytest.approx(11 / 92, abs=0.05)
    assert r.stars == 1


def test_certainty_never_uses_evidence_after_the_as_of_date() -> None:
    base = _certainty(_binomial_area())
    future = rows("optimizer", "Adam", 500, AS_OF + dt.timedelta(days=30))
    later = _certainty(_binomial_area() + future)
    assert (later.level, later.certainty, later.n) == (base.level, base.certainty, base.n)


def test_certainty_is_seeded() -> None:
    a = _certainty(_binomial_area())
    b = _certainty(_binomial_area())
    assert a.certainty == b.certainty
    cfg = copy.deepcopy(CFG)
    cfg["certainty"]["seed"] += 1
    c = _certainty(_binomial_area(), cfg)
    assert c.certainty != a.certainty and c.certainty == pytest.approx(a.certainty, abs=0.1)


def test_insufficient_area_has_no_certainty_or_stars() -> None:
    r = _certainty(rows("optimizer", "AdamW", 9, block_day(0)))
    assert r.level == "insufficient"
    assert r.certainty is None and r.stars is None and r.degree is None


def test_l0_certainty_redraws_the_segment_tables() -> None:
    # Two segments of 50, leaders at 0.82 (NMI 0.320, just above 0.30): redraws of the
    # segment tables often fall below the NMI or leader cut, so L0 is far from certain.
    ads = [r for value, lead, other in (("edge", "AdamW", "Adam"), ("cloud", "Adam", "AdamW"))
           for opt, c in ((lead, 41), (other, 9))
           for j in range(4)
           for r in rows("optimizer", opt, c // 4 + (j < c % 4), block_day(j),
                         {"deployment": value}, tag=f"{value}{j}")]
    r = _certainty(ads)
    assert r.level == "L0"
    assert 0.2 < r.certainty < 0.8


def test_window_holds_its_end_day_but_not_its_start_day() -> None:
    # The window is (AS_OF − 365 days, AS_OF]: ten AdamW dated AS_OF count, ten Adam dated
    # exactly 365 days earlier do not.
    ads = (rows("optimizer", "AdamW", 10, AS_OF)
           + rows("optimizer", "Adam", 10, AS_OF - dt.timedelta(days=365)))
    r = _certainty(ads)
    assert r.n == 10 and r.shares == {"AdamW": 1.0}


def test_options_seen_only_outside_the_span_change_nothing() -> None:
    # Muon appears only after the as-of date and SGD only three years before it: neither
    # can enter any window the result reads, so the result (certainty included) is the
    # same as without them, and the cube the result is read from drops them.
    base = _binomial_area() + rows("optimizer", "Lion", 1, block_day(0))
    outside = (rows("optimizer", "Muon", 40, AS_OF + dt.timedelta(days=20))
               + rows("optimizer", "SGD", 40, AS_OF - dt.timedelta(days=3 * 365)))
    a, b = _certainty(base), _certainty(base + outside)
    assert a.to_dict() == b.to_dict()
    assert a.shares["Lion"] == pytest.approx(1 / 101)
    clf = Classifier(store(base + outside), CFG, areas=["optimizer"])
    cube = clf.cubes["optimizer"].restrict(day_number(AS_OF), 821)
    assert cube.options == ["Adam", "AdamW", "Lion"] and cube.cum.shape[0] == 3
    assert cube.counts(np.array([day_number(AS_OF)]), 365).tolist() == [[8.0, 92.0, 1.0]]


def _compound_pmf(n: int, p: float) -> np.ndarray:
    """pmf of X ~ Binomial(n, J/n) with J ~ Binomial(n, p): one block's predictive redraw."""
    from scipy.stats import binom

    j = np.arange(n + 1)
    x = np.arange(n + 1)
    pj = binom.pmf(j, n, p)
    keep = pj > 1e-15
    return pj[keep] @ binom.pmf(x[None, :], n, j[keep, None] / n)


def test_certainty_at_large_counts_matches_the_exact_predictive_probability() -> None:
    # Eight quarter blocks of 2256 AdamW + 244 Adam: every window holds four blocks, n 10,000,
    # s₁ 0.9024: L3, kept while 9000 ≤ X < 9500. Each block is redrawn on its own, so X is
    # the sum of four independent compound binomials (pmf convolved by hand below); every
    # expected count is far above 50, so these redraws come from the normal approximation.
    # With 4000 resamples the estimate's standard error is 0.007; redrawing once instead of
    # twice would give 0.79 (normal law, variance 4·2499·p(1 − p)), not 0.72.
    pmf = _compound_pmf(2500, 2256 / 2500)
    total = pmf
    for _ in range(3):
        total = np.convolve(total, pmf)
    exact = float(total[9000:9500].sum())
    assert exact == pytest.approx(0.722, abs=0.002)
    ads = [r for j in range(8) for opt, c in (("AdamW", 2256), ("Adam", 244))
           for r in rows("optimizer", opt, c, block_day(j), tag=f"b{j}")]
    cfg = copy.deepcopy(CFG)
    cfg["certainty"]["resamples"] = 4000
    r = _certainty(ads, cfg)
    assert r.level == "L3" and r.n == 10000
    assert r.certainty == pytest.approx(exact, abs=0.03)
    cfg["certainty"]["normal_min_expected"] = None             # exact draws agree too
    assert _certainty(ads, cfg).certainty == pytest.approx(exact, abs=0.03)


def test_predictive_draws_switch_to_the_normal_law_only_above_the_threshold() -> None:
    from convergent.classify import _predictive_draws

    p = np.array([[0.9, 0.1, 0.0]] * 3)
    n = np.array([400, 499, 500])                # expected Adam counts 40, 49.9, 50
    small = _predictive_draws(np.random.default_rng(1), n[:2], p[:2], 50)
    exact = _predictive_draws(np.random.default_rng(1), n[:2], p[:2], None)
    assert np.array_equal(small, exact)          # below 50: the exact draws' own stream
    rng = np.random.default_rng(2)
    big = _predictive_draws(rng, np.full(40_000, 500), np.tile([0.9, 0.1, 0.0], (40_000, 1)),
                            50)
    assert (big >= 0).all() and (big[:, 2] == 0).all()
    # mean n·p and variance (2n − 1)·p(1 − p) = 89.91 for each present option
    assert big[:, 1].mean() == pytest.approx(50, abs=0.15)
    assert big[:, 1].var() == pytest.approx(999 * 0.09, rel=0.04)
    assert np.corrcoef(big[:, 0], big[:, 1])[0, 1] == pytest.approx(-1, abs=0.01)
    with_one = _predictive_draws(np.random.default_rng(3), n, p, 50)
    without = _predictive_draws(np.random.default_rng(3), n, p, None)
    assert not np.array_equal(with_one, without)  # the 500-row is drawn from the normal law
