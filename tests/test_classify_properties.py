"""Invariants of the classifier on time-varying, segmented evidence (hypothesis).

Each example plants counts per (quarter block, option) over two years, so shares move from
window to window and the challenger-trend rule is live, and spreads each option's entities
over up to three deployment segments with an option-specific pattern, so the L0 rule is live
too. The invariants: labels do not matter; evidence after the as-of date changes nothing;
more of the leader in the newest quarter never lowers the level or the degree; duplicating
every entity changes nothing but n; and every result is internally consistent. The cubes
are built in memory (as the store builds them; a test checks the two agree) so that hundreds
of examples run in seconds.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convergent.classify import Classifier, degree_of, stars_for
from convergent.config import LEVELS, load_config
from plant import AS_OF, block_day, classifier, store

AREA = "optimizer"
OPTIONS = ["AdamW", "Adam", "Adafactor", "Lion", "Muon"]
SEGMENTS = ["edge", "cloud", "mobile"]
RANK = {"insufficient": -1, "L0": 0, "L1": 1, "L2": 2, "L3": 3, "L4": 4}
CFG = load_config()
FAST = copy.deepcopy(CFG)
FAST["certainty"]["resamples"] = 40

# counts[block][option] for 8 quarter blocks (newest first), 2–5 options;
# seg[option] = (segment offset, segment stride) spreading that option's entities
plans = st.integers(2, 5).flatmap(lambda k: st.fixed_dictionaries({
    "counts": st.lists(st.lists(st.integers(0, 14), min_size=k, max_size=k),
                       min_size=8, max_size=8),
    "seg": st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=k, max_size=k),
    "n_seg": st.integers(1, 3),
}))


def _ads(plan: dict[str, Any], labels: list[str], seg_labels: list[str], copies: int = 1,
         tag: str = "") -> list[dict[str, Any]]:
    out = []
    for j, counts in enumerate(plan["counts"]):
        for o, c in enumerate(counts):
            off, stride = plan["seg"][o]
            for i in range(c):
                seg = seg_labels[(off + stride * i) % plan["n_seg"]]
                for copy_ in range(copies):
                    out.append({"area": AREA, "option": labels[o], "date": block_day(j),
                                "segments": {"deployment": seg},
                                "id": f"{tag}{copy_}-{j}-{o}-{i}"})
    return out


def _result(ads: list[dict[str, Any]], cfg: dict[str, Any] = CFG, certainty: bool = False):
    """Classify with cubes built in memory (tests/plant.py), as the store would build them."""
    return classifier(ads, cfg).classify(AS_OF, certainty=certainty)[0]


# 200 examples each; mutation testing (docs/mutation.md) runs fewer to stay within hours
EXAMPLES = int(os.environ.get("CONVERGENT_PROPERTY_EXAMPLES", "200"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(plan=plans, perm_seed=st.integers(0, 10_000))
def test_relabelling_options_and_segments_keeps_the_result(plan, perm_seed) -> None:
    k = len(plan["counts"][0])
    rng = np.random.default_rng(perm_seed)
    a = _result(_ads(plan, OPTIONS[:k], SEGMENTS))
    b = _result(_ads(plan, list(rng.permutation(OPTIONS)[:k]), list(rng.permutation(SEGMENTS))))
    assert (a.level, a.n, a.duopoly) == (b.level, b.n, b.duopoly)
    assert a.degree == b.degree
    assert a.leader_share == b.leader_share


@SETTINGS
@given(plan=plans, future=st.lists(st.tuples(st.integers(0, 4), st.integers(1, 400),
                                             st.integers(0, 2)), min_size=1, max_size=4))
def test_evidence_after_the_as_of_date_changes_nothing(plan, future) -> None:
    k = len(plan["counts"][0])
    ads = _ads(plan, OPTIONS[:k], SEGMENTS)
    later = [{"area": AREA, "option": OPTIONS[o % k], "date": AS_OF + dt.timedelta(days=d),
              "segments": {"deployment": SEGMENTS[s]}, "id": f"future-{i}"}
             for i, (o, d, s) in enumerate(future)]
    a = _result(ads, FAST, certainty=True)
    b = _result(ads + later, FAST, certainty=True)
    assert a.to_dict() == b.to_dict()


@SETTINGS
@given(plan=plans, extra=st.integers(1, 60))
def test_more_leader_in_the_newest_quarter_never_lowers_level_or_degree(plan, extra) -> None:
    k = len(plan["counts"][0])
    ads = _ads(plan, OPTIONS[:k], SEGMENTS)
    a = _result(ads)
    if a.leader is None:
        return
    # added without a segment, so the segment tables (and the L0 test) are unchanged
    more = [{"area": AREA, "option": a.leader, "date": block_day(0), "segments": {},
             "id": f"more-{i}"} for i in range(extra)]
    b = _result(ads + more)
    assert RANK[b.level] >= RANK[a.level]
    if a.degree is not None:
        assert b.degree >= a.degree - 1e-9


@settings(max_examples=max(EXAMPLES // 2, 1), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plan=plans)
def test_duplicating_every_entity_changes_only_n(plan) -> None:
    cfg = copy.deepcopy(CFG)
    cfg["classify"].update(min_n=1, min_n_segment=1)     # thresholds on counts cannot flip
    k = len(plan["counts"][0])
    a = _result(_ads(plan, OPTIONS[:k], SEGMENTS), cfg)
    b = _result(_ads(plan, OPTIONS[:k], SEGMENTS, copies=2), cfg)
    assert (a.level, a.leader, a.degree) == (b.level, b.leader, b.degree)
    assert b.n == 2 * a.n
    if a.fastest_rival_trend_pp is not None:
        assert b.fastest_rival_trend_pp == a.fastest_rival_trend_pp


@SETTINGS
@given(plan=plans)
def test_every_result_is_consistent(plan) -> None:
    k = len(plan["counts"][0])
    r = _result(_ads(plan, OPTIONS[:k], SEGMENTS), FAST, certainty=True)
    window = sum(sum(c) for c in plan["counts"][:4])
    assert r.n == window
    if r.level == "insufficient":
        assert r.n < CFG["classify"]["min_n"]
        assert r.certainty is None and r.stars is None and r.degree is None
        return
    assert r.level in LEVELS
    assert 0.0 <= r.certainty <= 1.0 and r.stars == stars_for(r.certainty, CFG)
    lo, hi = CFG["degree"]["bands"][r.level]
    assert lo <= r.degree <= hi
    assert r.degree == degree_of(LEVELS.index(r.level), r.leader_share, CFG)
    assert r.leader_share == max(r.shares.values())
    assert (r.level == "L0") is (r.l0_dimension is not None)
    if r.level == "L4":
        assert r.leader_share >= CFG["classify"]["l4_share"]
        assert not (r.fastest_rival_trend_pp or 0) > CFG["classify"]["l4_max_challenger_trend_pp"]
    if r.level == "L3" and r.leader_share >= CFG["classify"]["l4_share"]:
        assert r.fastest_rival_trend_pp > CFG["classify"]["l4_max_challenger_trend_pp"]


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plan=plans)
def test_in_memory_cubes_match_the_store(plan) -> None:
    k = len(plan["counts"][0])
    ads = _ads(plan, OPTIONS[:k], SEGMENTS)
    a = _result(ads, FAST, certainty=True)
    b = Classifier(store(ads), FAST, areas=[AREA]).classify(AS_OF)[0]
    assert a.to_dict() == b.to_dict()
