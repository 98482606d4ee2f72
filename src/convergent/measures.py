"""Shares and concentration per area and window (DESIGN.md §3).

The relational work is Ibis: adoptions are normalised to one unit per (entity, area, date)
and summed per (area, option, day). Windows are then exact differences of cumulative sums
over those days, so any number of window ends (history, trends, jitter) costs one query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np

from convergent.dates import months_to_days
from convergent.errors import ConvergentError
from convergent.registry import registry
from convergent.schema import UNKNOWN
from convergent.stats import entropy_nats

if TYPE_CHECKING:
    from ibis.expr.types import Table

    from convergent.store import Store

EPOCH = dt.date(1970, 1, 1)


def day_number(d: dt.date) -> int:
    """Days since 1970-01-01."""
    return (d - EPOCH).days


def from_day(n: int) -> dt.date:
    """The date of a day number."""
    return EPOCH + dt.timedelta(days=int(n))


def evidence_as_of(store: Store, today: dt.date | None = None) -> dt.date:
    """The default as-of date: the newest dated adoption, never later than today.

    Classifying 'today' when the newest evidence is months old would empty the window;
    the date used is always printed, so nothing is hidden.
    """
    today = today or dt.date.today()
    a = store.table("adoptions")
    newest = a.filter(a.date <= today).date.max().execute()
    import pandas as pd

    if newest is None or pd.isna(newest):
        return today
    return pd.Timestamp(newest).date()


def known_units(store: Store, areas: list[str] | None = None) -> Table:
    """Known adoptions with their weights (column `w`).

    Writers keep one unit of weight per (entity, area, date): the catalog splits a
    multi-valued choice evenly, and ingest adds a fact only where no known option is
    recorded, so no entity counts twice and no per-entity regrouping is needed here.
    Undated adoptions (a config file states no release date) fall in no window.
    """
    a = store.table("adoptions")
    a = a.filter(a.date.notnull())
    if areas is not None:
        a = a.filter(a.area_id.isin(areas))
    known = a.filter(a.option != UNKNOWN)
    return known.select("entity_id", "area_id", "option", "date", w=known.weight,
                        source_id=known.source_id)


def unknown_units(store: Store, areas: list[str] | None = None) -> Table:
    """(entity, area, date) with only `unknown` recorded: no source states the option."""
    a = store.table("adoptions")
    a = a.filter(a.date.notnull())
    if areas is not None:
        a = a.filter(a.area_id.isin(areas))
    unk = a.filter(a.option == UNKNOWN).select("entity_id", "area_id", "date").distinct()
    known = a.filter(a.option != UNKNOWN)
    # known rows of entities that also have an unknown row: small, so the anti-join is cheap
    stated = known.semi_join(unk, ["entity_id", "area_id"]).select(
        "entity_id", "area_id").distinct()
    return unk.anti_join(stated, ["entity_id", "area_id"])


@dataclass
class AreaCube:
    """Cumulative daily weights of one area: any window's counts are two lookups."""

    area_id: str
    options: list[str]
    days: np.ndarray            # sorted unique day numbers with evidence
    cum: np.ndarray             # [n_options, len(days) + 1] cumulative known weight
    unk_days: np.ndarray
    unk_cum: np.ndarray         # [len(unk_days) + 1] cumulative unknown count

    def counts(self, ends: np.ndarray, length: int) -> np.ndarray:
        """Known weight per option in windows (end - length, end]: shape [len(ends), n_options]."""
        ends = np.asarray(ends)
        i1 = np.searchsorted(self.days, ends, side="right")
        i0 = np.searchsorted(self.days, ends - length, side="right")
        return (self.cum[:, i1] - self.cum[:, i0]).T

    def restrict(self, end: int, lookback: int) -> AreaCube:
        """The cube with only the options that have evidence in (end - lookback, end].

        Results at `end` then cannot depend on options seen only before that span or only
        after `end` (whose zero shares would otherwise enter the resampling and entropy).
        """
        keep = self.counts(np.array([end]), lookback)[0] > 0
        if keep.all():
            return self
        return AreaCube(self.area_id, [o for o, k in zip(self.options, keep, strict=True) if k],
                        self.days, self.cum[keep], self.unk_days, self.unk_cum)

    def unknown(self, ends: np.ndarray, length: int) -> np.ndarray:
        """Unknown count in windows (end - length, end]."""
        ends = np.asarray(ends)
        i1 = np.searchsorted(self.unk_days, ends, side="right")
        i0 = np.searchsorted(self.unk_days, ends - length, side="right")
        return self.unk_cum[i1] - self.unk_cum[i0]


def _columns(store: Store, expr: Any) -> dict[str, Any]:
    """Run an Ibis expression; string columns come back as (codes, labels), others as arrays."""
    import pyarrow as pa
    import pyarrow.compute as pc

    tbl = store.con.to_pyarrow(expr)
    out: dict[str, Any] = {}
    for name in tbl.column_names:
        col = tbl.column(name)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            enc = pc.dictionary_encode(col).combine_chunks()
            out[name] = (enc.indices.to_numpy(zero_copy_only=False).astype(np.int64),
                         [str(x) for x in enc.dictionary.to_pylist()])
        else:
            out[name] = col.to_numpy(zero_copy_only=False)
    return out


_DAY_SPAN = 1 << 23     # day numbers are packed shifted by half of this: any date of years 1–9999


def _distinct(store: Store, t: Table, cols: list[str]) -> list[tuple[str, ...]]:
    """The distinct non-null combinations of string columns `cols` of `t`, sorted."""
    got = store.con.to_pyarrow(t.select(cols).distinct())
    rows = zip(*(got.column(c).to_pylist() for c in cols), strict=True)
    return sorted(tuple(str(v) for v in r) for r in rows if None not in r)


def _with_code(t: Table, cols: list[str], labels: list[tuple[str, ...]], code: str) -> Table:
    """`t` with column `code`: the index of each row's `cols` values in `labels` (rows whose
    values are not listed drop out)."""
    table = ibis.memtable({**{c: [lab[i] for lab in labels] for i, c in enumerate(cols)},
                           code: list(range(len(labels)))},
                          schema={**dict.fromkeys(cols, "string"), code: "int64"})
    return t.join(table, cols)


def _check_packable(*sizes: int) -> None:
    """Refuse label counts whose packed keys would not fit in a signed 64-bit integer."""
    if float(np.prod([max(s, 1) for s in sizes], dtype=float)) * _DAY_SPAN >= 2.0 ** 62:
        raise ConvergentError("too many distinct areas, options and segment values to count "
                              "in one pass")


def _packed_units(store: Store, k: Table, areas: list[str], options: list[str] | None = None
                  ) -> tuple[Table, list[str]]:
    """Known units as (entity_id, w, _key), with area, option and day packed into one
    integer, and the sorted option labels.

    Engines group and join integers far faster than several strings at millions of rows;
    `_unpack` turns the key back into codes into `areas` (sorted) and the option labels."""
    if options is None:
        options = [o for (o,) in _distinct(store, k, ["option"])]
    _check_packable(len(areas), len(options))
    coded = _with_code(_with_code(k, ["area_id"], [(a,) for a in areas], "_a"),
                       ["option"], [(o,) for o in options], "_o")
    day = coded.date.delta(ibis.date(EPOCH), unit="day").cast("int64")
    key = (coded._a * max(len(options), 1) + coded._o) * _DAY_SPAN + day + _DAY_SPAN // 2
    return coded.select("entity_id", "w", _key=key), options


def _unpack(key: np.ndarray, n_options: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(area codes, option codes, day numbers) of packed keys (see `_packed_units`)."""
    rest, day = np.divmod(key.astype(np.int64), _DAY_SPAN)
    area, option = np.divmod(rest, max(n_options, 1))
    return area, option, day - _DAY_SPAN // 2


def _groups(codes: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Row indices per distinct code, without a Python loop over rows."""
    order = np.argsort(codes, kind="stable")
    uniq, starts = np.unique(codes[order], return_index=True)
    ends = np.append(starts[1:], len(order))
    return [(int(u), order[a:b]) for u, a, b in zip(uniq, starts, ends, strict=True)]


def _local(codes: np.ndarray, labels: list[str]) -> tuple[list[str], np.ndarray]:
    """Labels present in `codes`, sorted by name, and each row's index into them."""
    present = np.unique(codes)
    names = sorted(labels[c] for c in present)
    rank = {n: i for i, n in enumerate(names)}
    lut = np.zeros(len(labels), np.int64)
    for c in present:
        lut[c] = rank[labels[c]]
    return names, lut[codes]


def _cumulative(index: tuple[np.ndarray, ...], shape: tuple[int, ...], day: np.ndarray,
                w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense cumulative sums over sorted unique days for the given leading indices."""
    days, di = np.unique(day.astype(np.int64), return_inverse=True)
    flat = np.ravel_multi_index((*index, di), (*shape, len(days)))
    dense = np.bincount(flat, weights=w, minlength=int(np.prod(shape)) * len(days))
    dense = dense.reshape(*shape, len(days))
    zeros = np.zeros((*shape, 1))
    return days, np.concatenate([zeros, np.cumsum(dense, axis=-1)], axis=-1)


def build_cubes(store: Store, areas: list[str] | None = None) -> dict[str, AreaCube]:
    """One Ibis group-by per kind of unit, then cumulative sums per area."""
    if areas is None:
        areas = [a.area_id for a in registry().areas.values() if a.kind == "share"]
    alabels = sorted(set(areas))
    units, olabels = _packed_units(store, known_units(store, areas), alabels)
    got = store.con.to_pyarrow(units.group_by("_key").agg(w=units.w.sum()))
    cubes = {a: AreaCube(a, [], np.zeros(0, np.int64), np.zeros((0, 1)),
                         np.zeros(0, np.int64), np.zeros(1)) for a in areas}
    if got.num_rows:
        acodes, ocodes, day = _unpack(got.column("_key").to_numpy(), len(olabels))
        w = got.column("w").to_numpy().astype(float)
        for code, rows in _groups(acodes):
            options, oi = _local(ocodes[rows], olabels)
            days, cum = _cumulative((oi,), (len(options),), day[rows], w[rows])
            cubes[alabels[code]] = AreaCube(alabels[code], options, days, cum,
                                            np.zeros(0, np.int64), np.zeros(1))
    a = store.table("adoptions")
    has_unknown = a.filter(a.area_id.isin(areas) & (a.option == UNKNOWN)).count().execute()
    if has_unknown:
        u = unknown_units(store, areas)
        uday = u.date.delta(ibis.date(EPOCH), unit="day")
        ugot = _columns(store, u.group_by([u.area_id, uday.name("day")]).agg(n=u.count()))
        acodes, alabels = ugot["area_id"]
        for code, rows in _groups(acodes):
            days, cum = _cumulative((), (), ugot["day"][rows], ugot["n"][rows].astype(float))
            cube = cubes[alabels[code]]
            cube.unk_days, cube.unk_cum = days, cum
    return cubes


def trend_pp_per_year(shares_over_time: np.ndarray, ends: np.ndarray, n: np.ndarray,
                      min_n: int) -> np.ndarray:
    """Least-squares slope of each option's share, in percentage points per year.

    `shares_over_time` is [n_ends, n_options]; windows with fewer than `min_n` known
    adoptions are left out; fewer than three usable windows give NaN.
    """
    from convergent.stats import slopes

    return slopes(np.asarray(ends) / 365.25, shares_over_time, np.asarray(n) >= min_n) * 100.0


def trend_ends(end: np.ndarray | int, cfg: dict[str, Any]) -> np.ndarray:
    """Window ends of the trend fit: every `trend_step_months` over `trend_span_months`
    back from each end, oldest first ([..., steps + 1])."""
    w = cfg["window"]
    steps = int(w["trend_span_months"] // w["trend_step_months"])
    offs = np.array([months_to_days(k * w["trend_step_months"]) for k in range(steps, -1, -1)])
    return np.asarray(end)[..., None] - offs


def share_trends(cube: AreaCube, end: int, length: int, cfg: dict[str, Any]) -> np.ndarray:
    """The one share trend of every option (pp/yr) at day `end`: the slope of its share
    over the trend windows, all ending on or before `end`. Matrix and forecasts use it."""
    if not cube.options:
        return np.zeros(0)
    ends = trend_ends(end, cfg)
    counts = cube.counts(ends, length)
    n = counts.sum(axis=1)
    shares = np.divide(counts, n[:, None], out=np.zeros_like(counts), where=n[:, None] > 0)
    return trend_pp_per_year(shares, ends, n, cfg["classify"]["min_n"])


@dataclass
class SegmentStats:
    """How one segment dimension splits an area's adoptions."""

    dimension: str
    nmi: float
    jsd: float
    segments: list[dict[str, Any]]   # value, n, leader, leader_share
    table: np.ndarray = field(repr=False)  # [segments, options] weights
    values: list[str] = field(default_factory=list)


def nmi_jsd(table: np.ndarray) -> tuple[float, float]:
    """Normalised mutual information (arithmetic-mean normalisation) of a segment×option
    table, and the Jensen–Shannon divergence (base 2) between its two largest segments."""
    total = table.sum()
    if total <= 0 or table.shape[0] < 2:
        return 0.0, 0.0
    p = table / total
    hs, ho = entropy_nats(p.sum(axis=1)), entropy_nats(p.sum(axis=0))
    mi = hs + ho - entropy_nats(p.ravel())
    nmi = 0.0 if hs + ho <= 0 else max(0.0, 2 * mi / (hs + ho))
    sizes = table.sum(axis=1)
    order = np.argsort(-sizes, kind="stable")[:2]
    if sizes[order[1]] <= 0:                 # one segment holds everything: nothing to compare
        return float(min(nmi, 1.0)), 0.0
    a, b = (table[i] / sizes[i] for i in order)
    m = (a + b) / 2
    jsd = (entropy_nats(m) - (entropy_nats(a) + entropy_nats(b)) / 2) / np.log(2)
    return float(min(nmi, 1.0)), float(max(jsd, 0.0))


@dataclass
class SegmentCube:
    """Cumulative daily weights of one area split by one segment dimension."""

    area_id: str
    dimension: str
    values: list[str]
    options: list[str]
    days: np.ndarray
    cum: np.ndarray             # [n_values, n_options, len(days) + 1]

    def tables(self, ends: np.ndarray, length: int) -> np.ndarray:
        """Segment×option weights in windows (end - length, end]: [len(ends), V, O]."""
        ends = np.asarray(ends)
        i1 = np.searchsorted(self.days, ends, side="right")
        i0 = np.searchsorted(self.days, ends - length, side="right")
        return np.moveaxis(self.cum[:, :, i1] - self.cum[:, :, i0], -1, 0)

    def restrict(self, end: int, lookback: int) -> SegmentCube:
        """The cube with only the values and options that have evidence in
        (end - lookback, end] (see AreaCube.restrict)."""
        table = self.tables(np.array([end]), lookback)[0]
        vals, opts = table.sum(axis=1) > 0, table.sum(axis=0) > 0
        if vals.all() and opts.all():
            return self
        return SegmentCube(self.area_id, self.dimension,
                           [v for v, k in zip(self.values, vals, strict=True) if k],
                           [o for o, k in zip(self.options, opts, strict=True) if k],
                           self.days, self.cum[vals][:, opts])

    def stats(self, end: int, length: int, min_n_segment: int) -> SegmentStats | None:
        """NMI, JSD and per-segment leaders for segments with at least `min_n_segment`."""
        table = self.tables(np.array([end]), length)[0]
        keep = table.sum(axis=1) >= min_n_segment
        if keep.sum() < 2:
            return None
        table = table[keep]
        values = [v for v, k in zip(self.values, keep, strict=True) if k]
        nmi, jsd = nmi_jsd(table)
        segs = []
        for value, row in zip(values, table, strict=True):
            i = int(np.argmax(row))
            segs.append({"value": value, "n": float(row.sum()), "leader": self.options[i],
                         "leader_share": float(row[i] / row.sum())})
        return SegmentStats(self.dimension, nmi, jsd, segs, table, values)


def build_segment_cubes(store: Store, areas: list[str], options: list[str] | None = None
                        ) -> dict[str, list[SegmentCube]]:
    """Per area, one cube per segment dimension the registry lists for it (one query).

    `options`, sorted, must include every known option of these areas (the area cubes'
    options, say); without it they are read from the store."""
    reg = registry()
    dims = {a: reg.areas[a].segments for a in areas if reg.areas[a].segments}
    if not dims:
        return {}
    alabels = sorted(dims)
    units, olabels = _packed_units(store, known_units(store, list(dims)), alabels, options)
    seg = store.table("segments")
    all_dims = sorted({d for ds in dims.values() for d in ds})
    seg = seg.filter(seg.dimension.isin(all_dims) & (seg.value != UNKNOWN))
    pairs = _distinct(store, seg, ["dimension", "value"])
    _check_packable(len(alabels), len(olabels), len(pairs))
    coded = _with_code(seg, ["dimension", "value"], pairs, "_v").select("entity_id", "_v")
    j = units.join(coded, "entity_id")
    key = j._key * max(len(pairs), 1) + j._v
    got = store.con.to_pyarrow(j.group_by(key.name("_key")).agg(w=j.w.sum()))
    out: dict[str, list[SegmentCube]] = {}
    if not got.num_rows:
        return out
    rest, pcodes = np.divmod(got.column("_key").to_numpy().astype(np.int64),
                             max(len(pairs), 1))
    acodes, ocodes, day = _unpack(rest, len(olabels))
    w = got.column("w").to_numpy().astype(float)
    dlabels = sorted({d for d, _ in pairs})
    vlabels = sorted({v for _, v in pairs})
    dcodes = np.array([dlabels.index(d) for d, _ in pairs], np.int64)[pcodes]
    vcodes = np.array([vlabels.index(v) for _, v in pairs], np.int64)[pcodes]
    pair = acodes * (len(dlabels) + 1) + dcodes
    for _, rows in _groups(pair):
        area_id, dim = alabels[acodes[rows[0]]], dlabels[dcodes[rows[0]]]
        if dim not in dims.get(area_id, []):
            continue
        values, vi = _local(vcodes[rows], vlabels)
        options, oi = _local(ocodes[rows], olabels)
        days, cum = _cumulative((vi, oi), (len(values), len(options)), day[rows], w[rows])
        out.setdefault(area_id, []).append(
            SegmentCube(area_id, dim, values, options, days, cum))
    for cubes in out.values():
        cubes.sort(key=lambda c: c.dimension)
    return out
