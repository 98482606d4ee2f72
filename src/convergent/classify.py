"""The L0–L4 rules, the degree (收敛度) and the certainty (确定性) of every share area."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from convergent.config import load_config
from convergent.dates import months_to_days
from convergent.errors import ConvergentError
from convergent.levels import INSUFFICIENT, LEVELS
from convergent.levels import stars_for as stars_on_cuts
from convergent.measures import (
    AreaCube,
    SegmentCube,
    SegmentStats,
    build_cubes,
    build_segment_cubes,
    day_number,
    evidence_as_of,
    trend_ends,
    trend_pp_per_year,
)
from convergent.registry import get_area, registry
from convergent.stats import concentration, slopes

if TYPE_CHECKING:
    from convergent.store import Store


def stars_for(certainty: float | None, cfg: dict[str, Any]) -> int | None:
    """★ count (1–5) for a certainty (0–1) on the configured cuts; None without certainty."""
    return stars_on_cuts(certainty, cfg["certainty"]["stars"])


def level_codes(n: np.ndarray, s1: np.ndarray, rival_trend: np.ndarray, l0: np.ndarray,
                cfg: dict[str, Any]) -> np.ndarray:
    """The rule order as array arithmetic: −1 insufficient, else 0–4 for L0–L4."""
    c = cfg["classify"]
    growing = np.nan_to_num(rival_trend, nan=-np.inf) > c["l4_max_challenger_trend_pp"]
    lev = np.where(s1 >= c["l2_share"], 2, 1)
    lev = np.where(s1 >= c["l3_share"], 3, lev)
    lev = np.where((s1 >= c["l4_share"]) & ~growing, 4, lev)
    lev = np.where(l0, 0, lev)
    return np.where(n < c["min_n"], -1, lev)


def degree_of(level: int, s1: float, cfg: dict[str, Any]) -> float | None:
    """收敛度 in percent: the level's band, rising inside it with the leader's share.

    Bands do not overlap, so a lower level never outranks a higher one. Inside L1 the
    position is s₁/l2_share; L2 (s₁−l2)/(l3−l2); L3 (s₁−l3)/(1−l3); L4 (s₁−l4)/(1−l4);
    L0 uses s₁ itself (how much one option still holds overall).
    """
    if level < 0:
        return None
    c = cfg["classify"]
    lo, hi = cfg["degree"]["bands"][LEVELS[level]]
    lower = {0: 0.0, 1: 0.0, 2: c["l2_share"], 3: c["l3_share"], 4: c["l4_share"]}[level]
    upper = {0: 1.0, 1: c["l2_share"], 2: c["l3_share"], 3: 1.0, 4: 1.0}[level]
    pos = 1.0 if upper <= lower else (s1 - lower) / (upper - lower)
    return float(lo + (hi - lo) * min(max(pos, 0.0), 1.0))


def _l0_batch(tables: np.ndarray, cfg: dict[str, Any]) -> np.ndarray:
    """Scenario tearing for a batch of segment×option tables [B, S, O]."""
    c = cfg["classify"]
    sizes = tables.sum(axis=2)                               # [B, S]
    ok = sizes >= c["min_n_segment"]
    leader = tables.argmax(axis=2)                           # [B, S]
    lshare = np.divide(tables.max(axis=2), sizes, out=np.zeros_like(sizes), where=sizes > 0)
    strong = ok & (lshare >= c["l0_segment_leader_share"])
    # at least two strong segments whose leaders differ
    big = np.iinfo(np.int64).max
    lo = np.where(strong, leader, big).min(axis=1)
    hi = np.where(strong, leader, -1).max(axis=1)
    distinct = (strong.sum(axis=1) >= 2) & (lo != hi)
    t = np.where(ok[:, :, None], tables, 0.0)
    tot = t.sum(axis=(1, 2))
    p = np.divide(t, tot[:, None, None], out=np.zeros_like(t), where=tot[:, None, None] > 0)

    def ent(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
        return -np.sum(np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0), axis=axes)

    hs, ho, hj = ent(p.sum(axis=2), (1,)), ent(p.sum(axis=1), (1,)), ent(p, (1, 2))
    denom = hs + ho
    nmi = np.divide(2 * (hs + ho - hj), denom, out=np.zeros_like(denom), where=denom > 0)
    return distinct & (nmi >= c["l0_min_nmi"])


def _l0_flag(stats: list[SegmentStats], cfg: dict[str, Any]) -> tuple[bool, SegmentStats | None]:
    for st in stats:
        if _l0_batch(st.table[None], cfg)[0]:
            return True, st
    return False, None


@dataclass
class AreaResult:
    """One row of the classification matrix (分类矩阵), with the numbers behind it."""

    area: str
    layer: str
    name_en: str
    name_zh: str
    kind: str
    as_of: dt.date
    window_start: dt.date
    level: str
    criterion: str
    criterion_zh: str
    degree: float | None
    certainty: float | None
    stars: int | None
    leader: str | None
    leader_share: float | None
    leader_trend_pp: float | None
    challenger: str | None
    challenger_share: float | None
    challenger_trend_pp: float | None
    fastest_rival: str | None
    fastest_rival_trend_pp: float | None
    duopoly: bool
    top2_share: float | None
    hhi: float | None
    effective_n: float | None
    entropy_norm: float | None
    n: float
    unknown: float
    coverage: float | None
    shares: dict[str, float] = field(default_factory=dict)
    segments: list[dict[str, Any]] = field(default_factory=list)
    l0_dimension: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (dates stay dates; renderers convert)."""
        return asdict(self)


def _nz(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


class Classifier:
    """Classifies share areas at any as-of date from one set of cumulative cubes."""

    def __init__(self, store: Store, cfg: dict[str, Any] | None = None,
                 areas: list[str] | None = None) -> None:
        self.store = store
        self.cfg = cfg or load_config()
        reg = registry()
        if areas is None:
            areas = [a.area_id for a in reg.areas.values() if a.kind == "share"]
        else:
            areas = [get_area(a).area_id for a in areas]
            areas = [a for a in areas if reg.areas[a].kind == "share"]
        self.areas = areas
        self.cubes: dict[str, AreaCube] = build_cubes(store, areas)
        known = sorted({o for cube in self.cubes.values() for o in cube.options})
        self.segment_cubes: dict[str, list[SegmentCube]] = build_segment_cubes(store, areas,
                                                                               known)

    def classify(self, as_of: dt.date, length: int | None = None,
                 with_segments: bool = True, seed_offset: int = 0,
                 certainty: bool = True) -> list[AreaResult]:
        """Every area at `as_of` over a trailing window of `length` days.

        `certainty=False` skips the resampling (certainty and stars are then None, as they
        are for an area with insufficient evidence).
        """
        cfg = self.cfg
        length = length or months_to_days(cfg["window"]["months"])
        parts = [self._one(area, as_of, length,
                           self.segment_cubes.get(area, []) if with_segments else [],
                           certainty)
                 for area in self.areas]
        jobs = [(r, job) for r, job in parts if job is not None]
        if jobs:
            found = self._certainties([job for _, job in jobs], day_number(as_of), length,
                                      seed_offset)
            for (r, _), value in zip(jobs, found, strict=True):
                r.certainty, r.stars = value, stars_for(value, cfg)
        return [r for r, _ in parts]

    def _trend_ends(self, end: np.ndarray) -> np.ndarray:
        return trend_ends(end, self.cfg)                         # [..., steps+1]

    def _one(self, area_id: str, as_of: dt.date, length: int, seg_cubes: list[SegmentCube],
             with_certainty: bool) -> tuple[AreaResult, _Job | None]:
        """The result without its certainty, and the resampling job that gives it."""
        cfg, c = self.cfg, self.cfg["classify"]
        area = registry().areas[area_id]
        end = day_number(as_of)
        # every window this result reads lies in (end - lookback, end]
        lookback = (length + months_to_days(cfg["window"]["trend_span_months"])
                    + months_to_days(cfg["certainty"]["jitter_months"]))
        cube = self.cubes[area_id].restrict(end, lookback)
        seg_cubes = [sc.restrict(end, lookback) for sc in seg_cubes]
        segs = [st for sc in seg_cubes
                if (st := sc.stats(end, length, c["min_n_segment"])) is not None]
        counts = cube.counts(np.array([end]), length)[0] if cube.options else np.zeros(0)
        n = float(counts.sum())
        unknown = float(cube.unknown(np.array([end]), length)[0])
        shares = counts / n if n > 0 else np.zeros_like(counts)
        order = np.argsort(-shares, kind="stable")
        s1 = float(shares[order[0]]) if n > 0 else 0.0
        s2 = float(shares[order[1]]) if n > 0 and len(order) > 1 else 0.0

        tends = self._trend_ends(np.array(end))
        tcounts = cube.counts(tends, length) if cube.options else np.zeros((len(tends), 0))
        tn = tcounts.sum(axis=1)
        tshares = np.divide(tcounts, tn[:, None], out=np.zeros_like(tcounts),
                            where=tn[:, None] > 0)
        trends = trend_pp_per_year(tshares, tends, tn, c["min_n"]) if cube.options else counts
        rival_idx = order[1:] if n > 0 else np.array([], int)
        rival_trends = trends[rival_idx] if len(rival_idx) else np.array([])
        if rival_trends.size and np.isfinite(rival_trends).any():
            fr = int(rival_idx[np.nanargmax(rival_trends)])
            fastest, fastest_trend = cube.options[fr], float(trends[fr])
        else:
            fastest, fastest_trend = None, float("nan")

        l0, l0_stats = _l0_flag(segs, cfg)
        code = int(level_codes(np.array([n]), np.array([s1]), np.array([fastest_trend]),
                               np.array([l0]), cfg)[0])
        job = _Job(cube, code, seg_cubes) if with_certainty and code >= 0 else None
        level = LEVELS[code] if code >= 0 else INSUFFICIENT
        leader = cube.options[order[0]] if n > 0 else None
        challenger = cube.options[order[1]] if n > 0 and len(order) > 1 and s2 > 0 else None
        measured = int((tn >= c["min_n"]).sum()) >= 3
        crit_en, crit_zh = _criterion(code, n, s1, s2, leader, fastest, fastest_trend,
                                      l0_stats, cfg, measured)
        conc = concentration(shares[shares > 0]) if n > 0 else {}   # k: options present
        start = as_of - dt.timedelta(days=length)
        return AreaResult(
            area=area_id, layer=area.layer, name_en=area.en, name_zh=area.zh, kind=area.kind,
            as_of=as_of, window_start=start, level=level, criterion=crit_en,
            criterion_zh=crit_zh, degree=degree_of(code, s1, cfg), certainty=None,
            stars=None, leader=leader,
            leader_share=s1 if n > 0 else None,
            leader_trend_pp=_nz(trends[order[0]]) if n > 0 else None,
            challenger=challenger, challenger_share=s2 if challenger else None,
            challenger_trend_pp=_nz(trends[order[1]]) if challenger else None,
            fastest_rival=fastest, fastest_rival_trend_pp=_nz(fastest_trend),
            duopoly=code == 2 and s2 >= c["duopoly_second_share"],
            top2_share=s1 + s2 if n > 0 else None,
            hhi=_nz(conc.get("hhi", float("nan"))),
            effective_n=_nz(conc.get("effective_n", float("nan"))),
            entropy_norm=_nz(conc.get("entropy_norm", float("nan"))),
            n=n, unknown=unknown, coverage=n / (n + unknown) if n + unknown > 0 else None,
            shares={cube.options[i]: float(shares[i]) for i in order if shares[i] > 0},
            segments=[{"dimension": s.dimension, "nmi": s.nmi, "jsd": s.jsd,
                       "segments": s.segments} for s in segs],
            l0_dimension=l0_stats.dimension if l0_stats else None,
        ), job

    def _certainties(self, jobs: list[_Job], end: int, length: int,
                     seed_offset: int) -> list[float]:
        """Share of resamples keeping the level, for every job at day `end`: predictive
        redraws (see `_predictive_draws`) of the window's and the trend windows' adoptions
        and of the segment tables, with the window end moved back by up to `jitter_months`
        (never forward: nothing after the as-of date may be used).

        Each area draws from its own seeded stream, in the same order as when it was
        resampled alone; the rules then run once over all areas with the same number of
        options (and the tearing test once per segment-table shape).
        """
        cfg = self.cfg
        b = int(cfg["certainty"]["resamples"])
        seed = int(cfg["certainty"]["seed"]) + seed_offset
        jit = months_to_days(cfg["certainty"]["jitter_months"])
        normal = cfg["certainty"]["normal_min_expected"]
        # Redraw the evidence piece by piece between all window edges, so the overlapping
        # trend windows share their redrawn adoptions as real windows share real ones.
        rel_ends = self._trend_ends(np.array(0))                  # [T], last = 0
        rel = np.unique(np.concatenate([rel_ends, rel_ends - length]))
        inside = ((rel[None, 1:] <= rel_ends[:, None])
                  & (rel[None, :-1] >= rel_ends[:, None] - length)).astype(float)  # [T, P]
        out = [0.0] * len(jobs)
        main: dict[int, list[tuple[int, np.ndarray, np.ndarray]]] = {}
        tables: dict[tuple[int, ...], list[tuple[int, np.ndarray]]] = {}
        for i, job in enumerate(jobs):
            cube = job.cube
            rng = np.random.default_rng([seed, sum(map(ord, cube.area_id)), end])
            ends = end + rng.integers(-jit, 1, size=b)
            if not cube.options:
                continue
            cum = cube.cum[:, np.searchsorted(cube.days, ends[:, None] + rel, side="right")]
            pieces = np.ascontiguousarray(np.moveaxis(np.diff(cum, axis=2), 0, 2))  # [B, P, O]
            flat = pieces.reshape(-1, pieces.shape[2])
            tot = flat.sum(axis=1, keepdims=True)
            shares = np.divide(flat, tot, out=np.full_like(flat, 1.0 / flat.shape[1]),
                               where=tot > 0)
            drawn = _predictive_draws(rng, np.rint(tot[:, 0]).astype(np.int64), shares, normal)
            main.setdefault(len(cube.options), []).append(
                (i, ends, drawn.reshape(pieces.shape).astype(float)))
            for sc in job.seg_cubes:
                tabs = sc.tables(ends, length)                   # [B, V, O], jittered
                stot = tabs.sum(axis=(1, 2))
                if not (stot > 0).any():
                    continue
                sflat = tabs.reshape(b, -1)
                p = np.divide(sflat, stot[:, None],
                              out=np.full_like(sflat, 1.0 / sflat.shape[1]),
                              where=stot[:, None] > 0)
                redraw = _predictive_draws(rng, np.rint(stot).astype(np.int64), p, normal)
                tables.setdefault(tabs.shape, []).append(
                    (i, redraw.reshape(tabs.shape).astype(float)))
        l0 = np.zeros((len(jobs), b), bool)
        for group in tables.values():
            torn = _l0_batch(np.concatenate([t for _, t in group]), cfg).reshape(len(group), b)
            for (i, _), row in zip(group, torn, strict=True):
                l0[i] |= row
        for group in main.values():
            idx = np.array([i for i, _, _ in group])
            ends = np.stack([e for _, e, _ in group])                      # [G, B]
            drawn = np.stack([d for _, _, d in group])                     # [G, B, P, O]
            tc = np.einsum("tp,gbpo->gbto", inside, drawn)                 # [G, B, T, O]
            tn = tc.sum(axis=3)
            tsh = np.divide(tc, tn[..., None], out=np.zeros_like(tc), where=tn[..., None] > 0)
            n, sh = tn[..., -1], tsh[..., -1, :]                 # the main (newest) window
            s1 = sh.max(axis=2)
            lead = sh.argmax(axis=2)
            slope = slopes((self._trend_ends(ends) - end) / 365.25, tsh,
                           tn >= cfg["classify"]["min_n"]) * 100.0
            np.put_along_axis(slope, lead[..., None], -np.inf, axis=2)   # rivals only
            rival = np.nan_to_num(slope, nan=-np.inf).max(axis=2)
            codes = level_codes(n, s1, rival, l0[idx], cfg)
            code = np.array([jobs[i].code for i in idx])
            for i, value in zip(idx, np.mean(codes == code[:, None], axis=1), strict=True):
                out[i] = float(value)
        return out


@dataclass
class _Job:
    """What the certainty of one area's result is resampled from."""

    cube: AreaCube
    code: int
    seg_cubes: list[SegmentCube]


def _predictive_draws(rng: np.random.Generator, n: np.ndarray, p: np.ndarray,
                      normal_min: float | None = None) -> np.ndarray:
    """Counts of a fresh window of the same size: shares drawn from the evidence
    (multinomial), then fresh counts drawn from those shares (multinomial again).

    One redraw alone measures how well the shares are known, not how often fresh evidence
    keeps the level, and is overconfident near a threshold; the second draw adds the
    sampling of the fresh evidence, so a ★★★★★ area keeps its level in fresh draws.

    Rows in which every option present expects at least `normal_min` adoptions are drawn
    from the normal law with the same mean and covariance, (2n − 1)(diag p − p pᵀ), and
    rounded: at such counts the two agree closely and the normal draw costs a fraction of
    two multinomial ones. Other rows (all rows when `normal_min` is None) are drawn
    exactly, and when every row is, the random stream is the exact draws' alone.
    """
    n = np.asarray(n, dtype=np.int64)
    p = np.asarray(p, dtype=float)
    approx = np.zeros(len(n), bool)
    if normal_min is not None:
        approx = (n > 0) & ((n[:, None] * p >= normal_min) | (p <= 0)).all(axis=1)
    out = np.empty(p.shape, np.int64)
    exact = ~approx
    if exact.any():
        ne, pe = (n, p) if not approx.any() else (n[exact], p[exact])
        first = rng.multinomial(ne, pe)
        q = np.divide(first, ne[:, None], out=np.array(pe, dtype=float),
                      where=ne[:, None] > 0)
        out[exact] = rng.multinomial(ne, q)
    if approx.any():
        na, pa = n[approx].astype(float), p[approx]
        root = np.sqrt(pa)
        g = root * rng.standard_normal(pa.shape)
        x = g - pa * g.sum(axis=1, keepdims=True)         # covariance diag p − p pᵀ
        counts = na[:, None] * pa + np.sqrt(2 * na - 1)[:, None] * x
        out[approx] = np.maximum(np.rint(counts), 0).astype(np.int64)
    return out


def _criterion(code: int, n: float, s1: float, s2: float, leader: str | None,
               rival: str | None, rival_trend: float, l0: SegmentStats | None,
               cfg: dict[str, Any], trend_measured: bool = True) -> tuple[str, str]:
    """Why the area got its level, in English and Chinese, with the numbers compared."""
    c = cfg["classify"]
    if code < 0:
        return (f"n = {n:.0f} < {c['min_n']} known adoptions in the window",
                f"窗口内已知采用数 n = {n:.0f} < {c['min_n']}")
    if code == 0 and l0 is not None:
        strong = [s for s in l0.segments if s["leader_share"] >= c["l0_segment_leader_share"]]
        parts = ", ".join(f"{s['value']}→{s['leader']} ({s['leader_share']:.0%})" for s in strong)
        return (f"{l0.dimension}: {parts}; NMI {l0.nmi:.2f} ≥ {c['l0_min_nmi']}",
                f"按{l0.dimension}分场景：{parts}；NMI {l0.nmi:.2f} ≥ {c['l0_min_nmi']}")
    if code == 4 and not trend_measured:
        return (f"s₁ {s1:.2f} ≥ {c['l4_share']}; challenger trend not measurable (fewer than "
                f"3 trend windows with n ≥ {c['min_n']})",
                f"s₁ {s1:.2f} ≥ {c['l4_share']}；挑战者趋势无法测量（n ≥ {c['min_n']} 的趋势窗口"
                "少于 3 个）")
    if code == 4:
        return (f"s₁ {s1:.2f} ≥ {c['l4_share']}; no rival above "
                f"+{c['l4_max_challenger_trend_pp']:g} pp/yr",
                f"s₁ {s1:.2f} ≥ {c['l4_share']}，无挑战者增速超过 "
                f"+{c['l4_max_challenger_trend_pp']:g} 个百分点/年")
    if code == 3:
        if s1 >= c["l4_share"]:
            return (f"s₁ {s1:.2f} ≥ {c['l4_share']} but {rival} grows "
                    f"{rival_trend:+.1f} pp/yr",
                    f"s₁ {s1:.2f} ≥ {c['l4_share']}，但 {rival} 每年增长 "
                    f"{rival_trend:+.1f} 个百分点")
        return f"s₁ {s1:.2f} ≥ {c['l3_share']}", f"s₁ {s1:.2f} ≥ {c['l3_share']}"
    if code == 2:
        duo = s2 >= c["duopoly_second_share"]
        en = f"s₁ {s1:.2f} ≥ {c['l2_share']}" + (f"; duopoly, s₂ {s2:.2f}" if duo else "")
        zh = f"s₁ {s1:.2f} ≥ {c['l2_share']}" + (f"；双寡头，s₂ {s2:.2f}" if duo else "")
        return en, zh
    return (f"s₁ {s1:.2f} < {c['l2_share']}: no option holds half",
            f"s₁ {s1:.2f} < {c['l2_share']}：没有方案占据半数")


def l0_note(results: list[dict[str, Any]], cfg: dict[str, Any]) -> tuple[str, str] | None:
    """Why no area is L0 (English, Chinese): the largest segment NMI found and where.

    None when some area is L0. The matrix's L0 row shows this instead of staying blank.
    """
    c = cfg["classify"]
    if any(r.get("level") == "L0" for r in results):
        return None
    best = max(((float(seg["nmi"]), r, seg) for r in results
                for seg in r.get("segments") or [] if np.isfinite(seg.get("nmi", np.nan))),
               key=lambda x: x[0], default=None)
    if best is None:
        return (f"no area is L0: no area has two segments with at least {c['min_n_segment']} "
                "known adoptions each",
                f"无 L0 领域：没有领域有两个各含至少 {c['min_n_segment']} 个已知采用的场景")
    nmi, r, seg = best
    where_en = f"{r.get('name_en') or r.get('area')} by {seg['dimension']}"
    where_zh = f"{r.get('name_zh') or r.get('area')}，按{seg['dimension']}"
    if nmi < c["l0_min_nmi"]:
        return (f"no area is L0: the largest segment NMI is {nmi:.2f} ({where_en}), below "
                f"{c['l0_min_nmi']}",
                f"无 L0 领域：最大的场景 NMI 为 {nmi:.2f}（{where_zh}），低于 {c['l0_min_nmi']}")
    share = f"{c['l0_segment_leader_share']:.0%}"
    return (f"no area is L0: the largest segment NMI is {nmi:.2f} ({where_en}), but fewer than "
            f"two segments have different leaders holding ≥ {share}",
            f"无 L0 领域：最大的场景 NMI 为 {nmi:.2f}（{where_zh}），但不足两个场景由不同且占比 ≥ "
            f"{share} 的方案领先")


def resolve_as_of(store: Store, as_of: dt.date | None, today: dt.date | None = None
                  ) -> dt.date:
    """The as-of date a result uses: the one asked for, or else the newest evidence.

    A date after today is refused: no evidence can be dated later, so such a result
    would silently describe an empty window rather than a projection.
    """
    today = today or dt.date.today()
    if as_of is None:
        return evidence_as_of(store, today)
    return not_after_today(as_of, today)


def not_after_today(as_of: dt.date, today: dt.date | None = None) -> dt.date:
    """The date itself, or one line saying why a date after today is refused."""
    today = today or dt.date.today()
    if as_of > today:
        raise ConvergentError(f"as-of date {as_of.isoformat()} is later than today "
                              f"({today.isoformat()}); use a forecast for the future")
    return as_of


def classify(store: Store, as_of: dt.date | None = None, window_days: int | None = None,
             areas: list[str] | None = None, cfg: dict[str, Any] | None = None) -> list[AreaResult]:
    """Classify share areas at one date (the library entry point).

    The default as-of date is the newest evidence, as on the command line.
    """
    clf = Classifier(store, cfg, areas)
    return clf.classify(resolve_as_of(store, as_of), window_days)


__all__ = ["AreaResult", "Classifier", "classify", "degree_of", "l0_note", "level_codes",
           "not_after_today", "resolve_as_of", "stars_for"]
