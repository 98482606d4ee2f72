"""Calibration: for every star band, fresh draws keep the level as often as the band says.

A reliability table. Areas get a true leader share drawn uniformly from 0.40 to 1.00 (so the
L2, L3 and L4 thresholds all lie inside and many areas sit near one), two rivals, and about
100 adoptions per 12-month window at random dates over two years. Each area is classified
once with certainty; then fresh evidence is drawn from the same truth and classified again.
For each star band, the share of fresh draws that keep the first level must lie in the band's
range (★★★★★ ≥ 0.95, ★★★★ 0.80–0.95, ★★★ 0.60–0.80, ★★ 0.40–0.60, ★ < 0.40), with a margin
of 0.05 for the finite number of draws; bands with fewer than 15 areas are not judged.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from convergent.config import load_config
from plant import AS_OF, classifier

CFG = load_config()
OPTIONS = ["AdamW", "Adam", "Lion"]
AREAS, FRESH, MARGIN, MIN_AREAS = 240, 8, 0.05, 15


def _draw(p: list[float], rng: np.random.Generator, tag: str) -> list[dict]:
    days = rng.integers(0, 730, size=200)
    choice = rng.choice(3, size=200, p=p)
    return [{"area": "optimizer", "option": OPTIONS[c], "date": AS_OF - dt.timedelta(days=int(d)),
             "segments": {}, "id": f"{tag}-{i}"} for i, (d, c) in enumerate(zip(days, choice,
                                                                                 strict=True))]


def _reliability(seed: int) -> dict[int, tuple[int, float]]:
    """Stars → (areas, share of fresh draws keeping the level)."""
    rng = np.random.default_rng(seed)
    kept: dict[int, list[int]] = {s: [] for s in range(1, 6)}
    for a in range(AREAS):
        s1 = float(rng.uniform(0.40, 1.0))
        p = [s1, 0.7 * (1 - s1), 0.3 * (1 - s1)]
        first = classifier(_draw(p, rng, f"a{a}"), CFG).classify(AS_OF)[0]
        if first.stars is None:
            continue
        same = sum(classifier(_draw(p, rng, f"a{a}f{k}"), CFG).classify(
            AS_OF, certainty=False)[0].level == first.level for k in range(FRESH))
        kept[first.stars].append(same)
    return {s: (len(v), sum(v) / (FRESH * len(v)) if v else float("nan"))
            for s, v in kept.items()}


BANDS = {5: (0.95, 1.0), 4: (0.80, 0.95), 3: (0.60, 0.80), 2: (0.40, 0.60), 1: (0.0, 0.40)}


def test_every_star_band_keeps_its_level_as_often_as_it_claims() -> None:
    table = _reliability(seed=2026)
    judged = 0
    for stars, (areas, share) in table.items():
        lo, hi = BANDS[stars]
        if areas < MIN_AREAS:
            continue
        judged += 1
        assert lo - MARGIN <= share <= hi + MARGIN, (
            f"{'★' * stars}: {areas} areas kept their level in {share:.3f} of fresh draws, "
            f"outside {lo}–{hi}; table {table}")
    assert judged >= 4, f"too few star bands populated to judge: {table}"


def test_certainty_is_seeded_and_reproducible() -> None:
    rng = np.random.default_rng(5)
    ads = _draw([0.9, 0.07, 0.03], rng, "r")
    a = classifier(ads, CFG).classify(AS_OF)[0]
    b = classifier(ads, CFG).classify(AS_OF)[0]
    assert a.certainty == b.certainty
