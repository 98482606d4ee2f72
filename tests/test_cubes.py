"""The cumulative cubes: packed integer group keys decode to exactly the counts a direct sum
over the adoptions gives, for any dates a store can hold."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convergent.errors import ConvergentError
from convergent.measures import (
    _check_packable,
    build_cubes,
    build_segment_cubes,
    day_number,
)
from convergent.schema import table_frame
from convergent.store import Store

OPTIONS = ["Adam", "AdamW", "Lion"]


def _store(rows: list[tuple[str, float, dt.date, str | None]]) -> Store:
    """Optimizer adoptions (option, weight, date, deployment value or None), one entity each."""
    store = Store(None)
    ads = [{"entity_id": f"e{i}", "area_id": "optimizer", "option": o, "weight": w,
            "date": d, "source_id": "s", "origin": "test"} for i, (o, w, d, _) in enumerate(rows)]
    segs = [{"entity_id": f"e{i}", "dimension": "deployment", "value": v}
            for i, (_, _, _, v) in enumerate(rows) if v is not None]
    store.append("adoptions", table_frame("adoptions", ads))
    if segs:
        store.append("segments", table_frame("segments", segs))
    return store


def test_dates_at_both_ends_of_the_calendar_decode_exactly() -> None:
    # day numbers from −719,162 (year 1) to +2,932,896 (year 9999) sit inside the packed span
    first, epoch_eve, last = dt.date(1, 1, 2), dt.date(1969, 12, 31), dt.date(9999, 12, 30)
    store = _store([("AdamW", 1.0, first, "open"), ("Lion", 0.5, epoch_eve, "api"),
                    ("Adam", 0.5, epoch_eve, "api"), ("AdamW", 1.0, last, "open")])
    cube = build_cubes(store, ["optimizer"])["optimizer"]
    assert cube.options == OPTIONS
    assert cube.days.tolist() == [day_number(first), -1, day_number(last)]
    # cumulative weight per option after each day: Adam, AdamW, Lion
    assert cube.cum[:, 1:].tolist() == [[0, 0.5, 0.5], [1, 1, 2], [0, 0.5, 0.5]]
    (seg,) = build_segment_cubes(store, ["optimizer"])["optimizer"]
    assert (seg.values, seg.options) == (["api", "open"], OPTIONS)
    assert seg.days.tolist() == cube.days.tolist()
    assert seg.tables(np.array([day_number(last)]), 10**7)[0].tolist() == [
        [0.5, 0, 0.5], [0, 2, 0]]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(OPTIONS), st.sampled_from([1.0, 0.5, 0.25]),
                          st.integers(-3000, 3000), st.sampled_from(["open", "api", None])),
                min_size=1, max_size=40),
       st.integers(-3200, 3200), st.integers(1, 2000))
def test_window_counts_equal_a_direct_sum(rows: list, end: int, length: int) -> None:
    base = dt.date(2000, 1, 1)
    data = [(o, w, base + dt.timedelta(days=d), v) for o, w, d, v in rows]
    store = _store(data)
    cube = build_cubes(store, ["optimizer"])["optimizer"]
    end_day = day_number(base) + end
    got = dict(zip(cube.options, cube.counts(np.array([end_day]), length)[0], strict=True))
    for option in OPTIONS:
        want = sum(w for o, w, d, _ in data
                   if o == option and end_day - length < day_number(d) <= end_day)
        assert got.get(option, 0.0) == pytest.approx(want)
    segs = build_segment_cubes(store, ["optimizer"]).get("optimizer", [])
    for seg in segs:
        table = seg.tables(np.array([end_day]), length)[0]
        for vi, value in enumerate(seg.values):
            for oi, option in enumerate(seg.options):
                want = sum(w for o, w, d, v in data if o == option and v == value
                           and end_day - length < day_number(d) <= end_day)
                assert table[vi, oi] == pytest.approx(want)


def test_too_many_labels_to_pack_is_one_clear_error() -> None:
    _check_packable(1000, 1000, 100)               # 10⁸ combinations × the day span: fine
    with pytest.raises(ConvergentError, match="too many distinct"):
        _check_packable(10**5, 10**5, 10**2)
