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

from convergent.registry import registry
from convergent.schema import UNKNOWN

if TYPE_CHECKING:
    from ibis.expr.types import Table

    from convergent.store import Store

EPOCH = dt.date(1970, 1, 1)
DAYS_PER_MONTH = 30.4375


def months_to_days(months: float) -> int:
    """Window length in days for a length in months (12 months -> 365 days)."""
    return round(months * DAYS_PER_MONTH)


def day_number(d: dt.date) -> int:
    """Days since 1970-01-01."""
    return (d - EPOCH).days


def from_day(n: int) -> dt.date:
    """The date of a day number."""
    return EPOCH + dt.timedelta(days=int(n))


def known_units(store: Store, areas: list[str] | None = None) -> Table:
    """Known adoptions with their weights (column `w`).

    Writers keep one unit of weight per (entity, area, date): the catalog splits a
    multi-valued choice evenly, and ingest adds a fact only where no known option is
    recorded, so no entity counts twice and no per-entity regrouping is needed here.
    """
    a = store.table("adoptions")
    if areas is not None:
        a = a.filter(a.area_id.isin(areas))
    known = a.filter(a.option != UNKNOWN)
    return known.select("entity_id", "area_id", "option", "date", w=known.weight,
                        source_id=known.source_id)


def unknown_units(store: Store, areas: list[str] | None = None) -> Table:
    """(entity, area, date) with only `unknown` recorded: no source states the option."""
    a = store.table("adoptions")
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

    def unknown(self, ends: np.ndarray, length: int) -> np.ndarray:
        """Unknown count in windows (end - length, end]."""
        ends = np.asarray(ends)
        i1 = np.searchsorted(self.unk_days, ends, side="right")
        i0 = np.searchsorted(self.unk_days, ends - length, side="right")
        return self.unk_cum[i1] - self.unk_cum[i0]


def build_cubes(store: Store, areas: list[str] | None = None) -> dict[str, AreaCube]:
    """One Ibis group-by per kind of unit, then cumulative sums per area."""
    if areas is None:
        areas = [a.area_id for a in registry().areas.values() if a.kind == "share"]
    k = known_units(store, areas)
    day = k.date.delta(ibis.date(EPOCH), unit="day")
    grouped = k.group_by([k.area_id, k.option, day.name("day")]).agg(w=k.w.sum())
    df = store.con.execute(grouped)
    u = unknown_units(store, areas)
    uday = u.date.delta(ibis.date(EPOCH), unit="day")
    udf = store.con.execute(u.group_by([u.area_id, uday.name("day")]).agg(n=u.count()))
    cubes: dict[str, AreaCube] = {}
    by_area = {a: g for a, g in df.groupby("area_id", sort=False)}
    uby_area = {a: g for a, g in udf.groupby("area_id", sort=False)}
    for area_id in areas:
        g = by_area.get(area_id)
        if g is not None and len(g):
            options = sorted(g["option"].unique().tolist())
            days = np.unique(g["day"].to_numpy(dtype=np.int64))
            oi = np.searchsorted(options, g["option"].to_numpy())
            di = np.searchsorted(days, g["day"].to_numpy(dtype=np.int64))
            dense = np.zeros((len(options), len(days)))
            np.add.at(dense, (oi, di), g["w"].to_numpy(dtype=float))
            cum = np.concatenate([np.zeros((len(options), 1)), np.cumsum(dense, axis=1)], axis=1)
        else:
            options, days, cum = [], np.zeros(0, np.int64), np.zeros((0, 1))
        ug = uby_area.get(area_id)
        if ug is not None and len(ug):
            ud = ug.sort_values("day")
            udays = ud["day"].to_numpy(dtype=np.int64)
            ucum = np.concatenate([[0.0], np.cumsum(ud["n"].to_numpy(dtype=float))])
        else:
            udays, ucum = np.zeros(0, np.int64), np.zeros(1)
        cubes[area_id] = AreaCube(area_id, options, days, cum, udays, ucum)
    return cubes


def concentration(shares: np.ndarray) -> dict[str, float]:
    """HHI (0–10,000), effective number and normalised entropy of one share vector."""
    s = shares[shares > 0]
    if s.size == 0:
        return {"hhi": float("nan"), "effective_n": float("nan"), "entropy_norm": float("nan")}
    hhi = float(np.sum(s**2))
    h = float(-np.sum(s * np.log(s)))
    k = shares.size
    return {
        "hhi": hhi * 10_000,
        "effective_n": 1.0 / hhi,
        "entropy_norm": h / np.log(k) if k > 1 else 0.0,
    }


def trend_pp_per_year(shares_over_time: np.ndarray, ends: np.ndarray, n: np.ndarray,
                      min_n: int) -> np.ndarray:
    """Least-squares slope of each option's share, in percentage points per year.

    `shares_over_time` is [n_ends, n_options]; windows with fewer than `min_n` known
    adoptions are left out; fewer than three usable windows give NaN.
    """
    ok = n >= min_n
    if ok.sum() < 3:
        return np.full(shares_over_time.shape[1], np.nan)
    t = (ends[ok] - ends[ok].mean()) / 365.25
    y = shares_over_time[ok]
    slope = (t[:, None] * (y - y.mean(axis=0))).sum(axis=0) / np.sum(t**2)
    return slope * 100.0


@dataclass
class SegmentStats:
    """How one segment dimension splits an area's adoptions."""

    dimension: str
    nmi: float
    jsd: float
    segments: list[dict[str, Any]]   # value, n, leader, leader_share
    table: np.ndarray = field(repr=False)  # [segments, options] weights
    values: list[str] = field(default_factory=list)


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-np.sum(p * np.log(p)))


def nmi_jsd(table: np.ndarray) -> tuple[float, float]:
    """Normalised mutual information (arithmetic-mean normalisation) of a segment×option
    table, and the Jensen–Shannon divergence (base 2) between its two largest segments."""
    total = table.sum()
    if total <= 0 or table.shape[0] < 2:
        return 0.0, 0.0
    p = table / total
    hs, ho = _entropy(p.sum(axis=1)), _entropy(p.sum(axis=0))
    mi = hs + ho - _entropy(p.ravel())
    nmi = 0.0 if hs + ho <= 0 else max(0.0, 2 * mi / (hs + ho))
    order = np.argsort(-table.sum(axis=1))[:2]
    a, b = (table[i] / table[i].sum() for i in order)
    m = (a + b) / 2
    jsd = (_entropy(m) - (_entropy(a) + _entropy(b)) / 2) / np.log(2)
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


def build_segment_cubes(store: Store, areas: list[str]) -> dict[str, list[SegmentCube]]:
    """Per area, one cube per segment dimension the registry lists for it (one query)."""
    reg = registry()
    dims = {a: reg.areas[a].segments for a in areas if reg.areas[a].segments}
    if not dims:
        return {}
    k = known_units(store, list(dims))
    seg = store.table("segments")
    all_dims = sorted({d for ds in dims.values() for d in ds})
    seg = seg.filter(seg.dimension.isin(all_dims) & (seg.value != UNKNOWN))
    j = k.join(seg, "entity_id")
    day = j.date.delta(ibis.date(EPOCH), unit="day")
    g = j.group_by([j.area_id, j.dimension, j.value, j.option, day.name("day")]).agg(w=j.w.sum())
    df = store.con.execute(g)
    out: dict[str, list[SegmentCube]] = {}
    for (area_id, dim), sub in df.groupby(["area_id", "dimension"], sort=True):
        if dim not in dims.get(area_id, []):
            continue
        values = sorted(sub["value"].astype(str).unique().tolist())
        options = sorted(sub["option"].astype(str).unique().tolist())
        days = np.unique(sub["day"].to_numpy(dtype=np.int64))
        vi = np.searchsorted(values, sub["value"].astype(str).to_numpy())
        oi = np.searchsorted(options, sub["option"].astype(str).to_numpy())
        di = np.searchsorted(days, sub["day"].to_numpy(dtype=np.int64))
        dense = np.zeros((len(values), len(options), len(days)))
        np.add.at(dense, (vi, oi, di), sub["w"].to_numpy(dtype=float))
        cum = np.concatenate([np.zeros((len(values), len(options), 1)),
                              np.cumsum(dense, axis=2)], axis=2)
        out.setdefault(area_id, []).append(
            SegmentCube(area_id, dim, values, options, days, cum))
    return out


def segment_tables(
    store: Store, end: dt.date, length: int, areas: list[str], min_n_segment: int
) -> dict[str, list[SegmentStats]]:
    """Per area, segment×option statistics in one window (see `build_segment_cubes`)."""
    out: dict[str, list[SegmentStats]] = {}
    for area_id, cubes in build_segment_cubes(store, areas).items():
        for cube in cubes:
            st = cube.stats(day_number(end), length, min_n_segment)
            if st is not None:
                out.setdefault(area_id, []).append(st)
    return out
