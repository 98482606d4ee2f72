"""How close the best models are on each benchmark, as of any date, with its certainty.

For one benchmark and one as-of date D the contenders are the models released by D that have a
score published by D, each counted once at its best score by D (optionally only each
organisation's best model, or only models released within a trailing window). Over them:

- spread: max - min of the k best (which is the top score minus the k-th), in points and in
  percent of the top score;
- gap: the top score minus the `gap_rank`-th (top vs 10th is what the AI Index reports);
- open/closed gap: best closed-weights score minus best open-weights score (positive: closed
  leads); models whose openness is unknown take no part;
- US/China gap: best United States score minus best China score (positive: US leads);
- saturation: the top score within `saturation_distance_pct` percent of the benchmark's ceiling.

Level: a spread below `spread_pct.L4` percent of the top is L4, below L3 is L3, below L2 is L2,
otherwise L1; fewer than k contenders is 'insufficient'. A saturated benchmark is flagged and its
level capped at `saturated_max_level` (L2 by default): models bunched under a ceiling say nothing
about convergence, so it is never called converged.

Elo benchmarks (Arena Elo) have neither a ceiling nor a meaningful zero, so a spread in percent of
the top Elo depends on an arbitrary offset. Their level instead uses the top model's expected win
rate against the k-th, p = 1 / (1 + 10^(-spread/400)), as an edge p - 0.5 in percentage points,
against the `elo_edge_pp` thresholds; their spread_pct is None and they are never saturated.

Degree (0-100) rises as the spread falls, piecewise linear inside each level's band of
`degree.bands`, so a lower level never outranks a higher one. Certainty: the models are
resampled with replacement (a model drawn at least once is in, the rest are out) and every score
is perturbed by its sampling error (binomial for a benchmark whose number of questions is known,
`elo_se` for Elo); certainty is the share of resamples that give the same level.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zlib
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from convergent.dates import period_ends
from convergent.errors import ConvergentError
from convergent.levels import stars_for
from convergent.registry import norm_key, registry

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from convergent.store import Store

LEVEL_CODES = {"insufficient": 0, "L1": 1, "L2": 2, "L3": 3, "L4": 4}
_CODE_LEVEL = {v: k for k, v in LEVEL_CODES.items()}
_US = {"unitedstates", "us", "usa", "unitedstatesofamerica"}
_CN = {"china", "cn", "prc", "peoplesrepublicofchina"}


@dataclass(frozen=True)
class Settings:
    """The `capability:` section of the config, checked, plus the certainty settings."""

    k: int
    spread_pct: dict[str, float]
    elo_edge_pp: dict[str, float]
    elo_benchmarks: frozenset[str]
    saturation_distance_pct: float
    saturated_max_level: str
    ceilings: dict[str, float]
    gap_rank: int
    distinct_organizations: bool
    window_days: int
    items: dict[str, int]
    elo_se: float
    history_step_months: int
    claim_benchmark: str
    claim_spread_pct: float
    resamples: int
    seed: int
    stars: tuple[float, ...]
    bands: dict[str, tuple[float, float]]


def settings(cfg: dict[str, Any] | None = None, k: int | None = None,
             window_days: int | None = None) -> Settings:
    """The capability settings, checked by the config models; `k` overrides the top-k.

    The contenders are the models released in the trailing window before each as-of date:
    `window_days` when given (the classification's --window), else
    `capability.window_months`, else the classification window `window.months`.
    """
    from convergent.config import validate
    from convergent.dates import months_to_days

    if cfg is None:
        from convergent.capability import default_config

        cfg = default_config()
    cfg = validate(cfg, "config")            # the one validation (settings built in code too)
    c = cfg["capability"]
    kk = int(c["k"] if k is None else k)
    if kk < 2:
        raise ConvergentError(f"k = {kk} must be at least 2 (a spread needs two models)")
    if window_days is None:
        window_days = months_to_days(c["window_months"] or cfg["window"]["months"])
    if int(window_days) < 1:
        raise ConvergentError("the capability window must be at least one day")

    def pairs(key: str) -> dict[str, float]:
        return {norm_key(str(name)): float(value) for name, value in c[key]}

    cert = cfg["certainty"]
    bands = {lv: (float(v[0]), float(v[1])) for lv, v in cfg["degree"]["bands"].items()}
    return Settings(
        k=kk, spread_pct=dict(c["spread_pct"]), elo_edge_pp=dict(c["elo_edge_pp"]),
        elo_benchmarks=frozenset(norm_key(str(b)) for b in c["elo_benchmarks"] or []),
        saturation_distance_pct=float(c["saturation_distance_pct"]),
        saturated_max_level=c["saturated_max_level"],
        ceilings=pairs("ceilings"), gap_rank=int(c["gap_rank"]),
        distinct_organizations=bool(c["distinct_organizations"]),
        window_days=int(window_days),
        items={b: int(v) for b, v in pairs("items").items()}, elo_se=float(c["elo_se"]),
        history_step_months=c["history_step_months"], claim_benchmark=str(c["claim_benchmark"]),
        claim_spread_pct=float(c["claim_spread_pct"]), resamples=int(cert["resamples"]),
        seed=int(cert["seed"]), stars=tuple(float(s) for s in cert["stars"]), bands=bands,
    )


@dataclass(frozen=True)
class Benchmark:
    """What is known about one benchmark: display name, registry area, scale and ceiling."""

    key: str
    name: str
    area: str | None
    scale: str  # 'percent' | 'elo' | 'score'
    ceiling: float | None


@dataclass
class BenchmarkPoint:
    """Every capability measure of one benchmark at one as-of date."""

    benchmark: str
    area: str | None
    as_of: dt.date
    scale: str
    k: int
    n: int
    leader: str | None = None
    leader_org: str | None = None
    top: float | None = None
    kth_model: str | None = None
    kth: float | None = None
    spread_pts: float | None = None
    spread_pct: float | None = None
    edge_pp: float | None = None
    spread_lo: float | None = None
    spread_hi: float | None = None
    gap_rank: int = 10
    gap_pts: float | None = None
    gap_pct: float | None = None
    best_open: str | None = None
    best_open_score: float | None = None
    best_closed: str | None = None
    best_closed_score: float | None = None
    open_closed_gap_pts: float | None = None
    best_us: str | None = None
    best_us_score: float | None = None
    best_cn: str | None = None
    best_cn_score: float | None = None
    us_china_gap_pts: float | None = None
    ceiling: float | None = None
    saturated: bool = False
    spread_level: str = "insufficient"
    level: str = "insufficient"
    degree: float | None = None
    certainty: float | None = None
    stars: int | None = None
    models: list[dict[str, Any]] = field(default_factory=list)

    def row(self, flat: bool = True) -> dict[str, Any]:
        """A plain row; when flat, the top-k models become one 'name (score); ...' text."""
        out = asdict(self)
        if flat:
            out["models"] = "; ".join(f"{m['name']} ({m['score']:g})" for m in self.models)
        return out


def _country_codes(country: object) -> set[str]:
    if not isinstance(country, str):
        return set()
    codes = set()
    for part in re.split(r"[,;/]", country):
        key = norm_key(part)
        if key in _US:
            codes.add("US")
        elif key in _CN:
            codes.add("CN")
    return codes


def benchmarks_known(store: Store, st: Settings) -> dict[str, Benchmark]:
    """Every benchmark in the registry or in the store's scores, by normalised key."""
    out: dict[str, Benchmark] = {}
    for area in registry().areas.values():
        if area.kind != "capability" or not area.benchmark:
            continue
        key = norm_key(area.benchmark)
        out[key] = _describe(key, area.benchmark, area.area_id, area.ceiling, st, None)
    s = store.table("scores")
    names = (s.filter(s.benchmark.notnull())
             .group_by(s.benchmark).aggregate(top=s.score.max()).execute())
    for name, top in zip(names["benchmark"], names["top"], strict=True):
        key = norm_key(str(name))
        if key and key not in out:
            out[key] = _describe(key, str(name), None, None, st, top)
    return out


def _describe(key: str, name: str, area: str | None, ceiling: float | None, st: Settings,
              top: float | None) -> Benchmark:
    if key in st.elo_benchmarks or "elo" in key:
        return Benchmark(key, name, area, "elo", None)
    if key in st.ceilings:
        ceiling = st.ceilings[key]
    elif area is None:
        ceiling = 100.0 if top is not None and not math.isnan(top) and top <= 100 else None
    return Benchmark(key, name, area, "percent" if ceiling == 100.0 else "score", ceiling)


def resolve_benchmark(store: Store, name: str, st: Settings) -> Benchmark:
    """The benchmark a user means by an area id ('mmlu_pro') or a name ('MMLU-Pro')."""
    known = benchmarks_known(store, st)
    areas = registry().areas
    if name in areas and areas[name].kind == "capability" and areas[name].benchmark:
        return known[norm_key(areas[name].benchmark)]
    key = norm_key(name)
    if key in known:
        return known[key]
    raise ConvergentError(f"unknown benchmark {name!r}; known: "
                          f"{', '.join(sorted(b.name for b in known.values()))}")


def contenders(store: Store, dates: list[dt.date], keys: list[str] | None = None,
               window_days: int | None = None) -> pd.DataFrame:
    """Best score per (as-of date, benchmark, model) among models released and scored by then
    (and, with `window_days`, released in that many days before the date)."""
    import ibis

    s = store.table("scores")
    e = store.table("entities")
    bkey = s.benchmark.strip().lower().re_replace(r"[\s_\-./]+", "")
    sc = s.filter(s.score.notnull() & ~s.score.isnan() & s.benchmark.notnull()).select(
        entity_id=s.entity_id, bkey=bkey, score=s.score, score_date=s.date)
    if keys is not None:
        sc = sc.filter(sc.bkey.isin(keys))
    ent = e.select(entity_id=e.entity_id, name=e.name, organization=e.organization,
                   country=e.country, open_weights=e.open_weights, released=e.date)
    joined = sc.join(ent, "entity_id")
    d = ibis.memtable({"as_of": list(dates)}, schema={"as_of": "date"})
    x = joined.cross_join(d)
    released = ibis.coalesce(x.released, x.score_date)
    cond = (x.score_date <= x.as_of) & (released <= x.as_of)
    if window_days is not None:
        cond &= released > x.as_of - ibis.interval(days=window_days)
    x = x.filter(cond)
    best = x.group_by(["as_of", "bkey", "entity_id", "name", "organization", "country",
                       "open_weights"]).aggregate(best=x.score.max())
    df = best.order_by(["as_of", "bkey", ibis.desc("best"), "name"]).execute()
    df["as_of"] = [v if isinstance(v, dt.date) and not isinstance(v, dt.datetime)
                   else v.date() for v in df["as_of"]]
    return df


def _levels(metric: np.ndarray, thr: dict[str, float]) -> np.ndarray:
    import numpy as np

    return np.select([metric < thr["L4"], metric < thr["L3"], metric < thr["L2"]], [4, 3, 2], 1)


def degree_of(metric: float, level: str, thr: dict[str, float],
              bands: dict[str, tuple[float, float]]) -> float:
    """Degree 0-100 inside the level's band: higher for a smaller spread, continuous at edges."""
    lo, hi = bands[level]
    if level == "L4":
        frac = 1.0 - metric / thr["L4"]
    elif level == "L3":
        frac = (thr["L3"] - metric) / (thr["L3"] - thr["L4"])
    elif level == "L2":
        frac = (thr["L2"] - metric) / (thr["L2"] - thr["L3"])
    else:
        frac = thr["L2"] / metric if metric > 0 else 1.0
    return lo + (hi - lo) * min(1.0, max(0.0, frac))


def _metric(spread: np.ndarray, top: np.ndarray, scale: str) -> np.ndarray:
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if scale == "elo":
            return 100.0 * (1.0 / (1.0 + np.power(10.0, -spread / 400.0)) - 0.5)
        return np.where(top > 0, 100.0 * spread / top, np.nan)


def _noise_sd(scores: np.ndarray, bench: Benchmark, st: Settings) -> np.ndarray:
    import numpy as np

    if bench.scale == "elo":
        return np.full_like(scores, st.elo_se)
    items = st.items.get(bench.key)
    if not items or bench.ceiling is None:
        return np.zeros_like(scores)
    p = np.clip(scores / bench.ceiling, 0.0, 1.0)
    return bench.ceiling * np.sqrt(p * (1 - p) / items)


def _evaluate(pool: pd.DataFrame, bench: Benchmark, as_of: dt.date,
              st: Settings) -> tuple[BenchmarkPoint, np.ndarray]:
    """All measures of one benchmark at one date, and the resampled level metric."""
    import numpy as np

    if st.distinct_organizations and len(pool):
        org = pool["organization"].where(pool["organization"].notna(), pool["entity_id"])
        pool = pool.assign(_org=org.map(norm_key)).drop_duplicates("_org", keep="first")
    pool = pool.sort_values(["best", "name"], ascending=[False, True], kind="stable")
    k, n = st.k, len(pool)
    pt = BenchmarkPoint(benchmark=bench.name, area=bench.area, as_of=as_of, scale=bench.scale,
                        k=k, n=n, gap_rank=st.gap_rank, ceiling=bench.ceiling)
    empty = np.array([])
    if n == 0:
        return pt, empty
    scores = pool["best"].to_numpy(dtype=float)
    names = pool["name"].astype(object).tolist()
    orgs = pool["organization"].astype(object).tolist()
    pt.leader, pt.leader_org, pt.top = names[0], orgs[0], float(scores[0])
    thr = st.elo_edge_pp if bench.scale == "elo" else st.spread_pct
    sat_at = (None if bench.ceiling is None
              else bench.ceiling * (1 - st.saturation_distance_pct / 100.0))
    pt.saturated = bool(sat_at is not None and scores[0] >= sat_at)
    if n >= st.gap_rank:
        pt.gap_pts = float(scores[0] - scores[st.gap_rank - 1])
        pt.gap_pct = (100.0 * pt.gap_pts / scores[0]
                      if bench.scale != "elo" and scores[0] > 0 else None)
    _split_gaps(pt, pool)
    pt.models = [
        {"name": names[i], "organization": orgs[i], "country": pool["country"].iloc[i],
         "open_weights": (None if _isna(pool["open_weights"].iloc[i])
                          else bool(pool["open_weights"].iloc[i])),
         "score": float(scores[i])}
        for i in range(min(k, n))
    ]
    if n < k:
        return pt, empty
    pt.kth_model, pt.kth = names[k - 1], float(scores[k - 1])
    pt.spread_pts = float(scores[0] - scores[k - 1])
    metric = float(_metric(np.array([pt.spread_pts]), np.array([scores[0]]), bench.scale)[0])
    if bench.scale == "elo":
        pt.edge_pp = metric
    elif not math.isnan(metric):
        pt.spread_pct = metric
    if math.isnan(metric):
        return pt, empty
    code = int(_levels(np.array([metric]), thr)[0])
    pt.spread_level = _CODE_LEVEL[code]
    cap = LEVEL_CODES[st.saturated_max_level]
    level_code = min(code, cap) if pt.saturated else code
    pt.level = _CODE_LEVEL[level_code]
    pt.degree = degree_of(metric, pt.level, thr, st.bands)

    rng = np.random.default_rng([st.seed, zlib.crc32(bench.key.encode()), as_of.toordinal()])
    r = st.resamples
    idx = rng.integers(0, n, size=(r, n))
    present = np.zeros((r, n), dtype=bool)
    present[np.arange(r)[:, None], idx] = True
    noisy = scores[None, :] + rng.standard_normal((r, n)) * _noise_sd(scores, bench, st)[None, :]
    if bench.ceiling is not None:
        noisy = np.clip(noisy, 0.0, bench.ceiling)
    ranked = -np.sort(-np.where(present, noisy, -np.inf), axis=1)
    ok = present.sum(axis=1) >= k
    top_r = ranked[:, 0]
    with np.errstate(invalid="ignore"):
        metric_r = _metric(top_r - ranked[:, k - 1], top_r, bench.scale)
    metric_r = np.where(ok, metric_r, np.nan)
    codes = np.where(np.isnan(metric_r), 0, _levels(np.nan_to_num(metric_r), thr))
    if sat_at is not None:
        codes = np.where((top_r >= sat_at) & (codes > cap), cap, codes)
    pt.certainty = float(np.mean(codes == level_code))
    pt.stars = stars_for(pt.certainty, st.stars)
    valid = metric_r[~np.isnan(metric_r)]
    if valid.size:
        pt.spread_lo, pt.spread_hi = (float(v) for v in np.quantile(valid, [0.05, 0.95]))
    return pt, metric_r


def _isna(value: object) -> bool:
    """True for None, NaN and pandas' missing markers."""
    import pandas as pd

    return bool(pd.isna(value))


def _split_gaps(pt: BenchmarkPoint, pool: pd.DataFrame) -> None:
    """Best open vs best closed, and best US vs best Chinese model (pool sorted best first)."""
    for _, m in pool.iterrows():
        ow = m["open_weights"]
        if not _isna(ow):
            if bool(ow) and pt.best_open is None:
                pt.best_open, pt.best_open_score = m["name"], float(m["best"])
            if not bool(ow) and pt.best_closed is None:
                pt.best_closed, pt.best_closed_score = m["name"], float(m["best"])
        codes = _country_codes(m["country"])
        if "US" in codes and pt.best_us is None:
            pt.best_us, pt.best_us_score = m["name"], float(m["best"])
        if "CN" in codes and pt.best_cn is None:
            pt.best_cn, pt.best_cn_score = m["name"], float(m["best"])
    if pt.best_open_score is not None and pt.best_closed_score is not None:
        pt.open_closed_gap_pts = pt.best_closed_score - pt.best_open_score
    if pt.best_us_score is not None and pt.best_cn_score is not None:
        pt.us_china_gap_pts = pt.best_us_score - pt.best_cn_score


def newest_score_date(store: Store, today: dt.date | None = None) -> dt.date:
    """The default as-of date: the newest score date, never later than today."""
    import pandas as pd

    today = today or dt.date.today()
    s = store.table("scores")
    newest = s.filter(s.date <= today).date.max().execute()
    return today if newest is None or pd.isna(newest) else pd.Timestamp(newest).date()


def _as_date(value: dt.date | str | None, store: Store | None = None) -> dt.date:
    """The as-of date: the one given (never after today), else the newest score date."""
    from convergent.classify import not_after_today
    from convergent.dates import parse_date

    if value is None:
        return dt.date.today() if store is None else newest_score_date(store)
    if isinstance(value, dt.datetime):
        value = value.date()
    return not_after_today(parse_date(value))


def _evaluate_many(store: Store, dates: list[dt.date], benches: list[Benchmark],
                   st: Settings) -> list[tuple[BenchmarkPoint, np.ndarray]]:
    import pandas as pd

    df = contenders(store, dates, [b.key for b in benches], st.window_days)
    groups = {key: g for key, g in df.groupby(["as_of", "bkey"], sort=False)}
    empty = pd.DataFrame(columns=df.columns)
    return [_evaluate(groups.get((d, b.key), empty), b, d, st) for b in benches for d in dates]


def _selected(store: Store, benchmark: str | None, st: Settings) -> list[Benchmark]:
    if benchmark is not None:
        return [resolve_benchmark(store, benchmark, st)]
    return list(benchmarks_known(store, st).values())


def measure(store: Store, as_of: dt.date | str | None = None, cfg: dict[str, Any] | None = None,
            *, k: int | None = None, benchmark: str | None = None) -> list[BenchmarkPoint]:
    """Every benchmark's measures at one as-of date (default: the newest score)."""
    st = settings(cfg, k)
    dates = [_as_date(as_of, store)]
    return [p for p, _ in _evaluate_many(store, dates, _selected(store, benchmark, st), st)]


def history(store: Store, benchmark: str | None = None, *, k: int | None = None,
            as_of: dt.date | str | None = None,
            cfg: dict[str, Any] | None = None) -> list[BenchmarkPoint]:
    """Measures per benchmark at every period end from its first score up to `as_of`."""
    st = settings(cfg, k)
    end = _as_date(as_of, store)
    benches = _selected(store, benchmark, st)
    s = store.table("scores")
    bkey = s.benchmark.strip().lower().re_replace(r"[\s_\-./]+", "")
    firsts = (s.filter(s.score.notnull() & (s.date <= end))
              .mutate(bkey=bkey).group_by("bkey").aggregate(first=s.date.min()).execute())
    first = {r.bkey: r.first for r in firsts.itertuples()}
    out: list[BenchmarkPoint] = []
    for b in benches:
        if b.key not in first:
            continue
        start = first[b.key]
        start = start.date() if isinstance(start, dt.datetime) else start
        dates = period_ends(start.replace(day=1), end, st.history_step_months,
                            include_last=True)
        out.extend(p for p, _ in _evaluate_many(store, dates, [b], st))
    return out


def capability_levels(store: Store, as_of: dt.date | str | None,
                      cfg: dict[str, Any] | None = None,
                      window_days: int | None = None) -> list[dict[str, Any]]:
    """One row per registry capability area for the classification matrix and the pyramid,
    over the same trailing window as the share areas."""
    st = settings(cfg, window_days=window_days)
    benches = [b for b in benchmarks_known(store, st).values() if b.area is not None]
    rows = []
    for p, _ in _evaluate_many(store, [_as_date(as_of, store)], benches, st):
        row = p.row(flat=False)
        row["leader_share"] = None
        row["layer"] = "capability"
        rows.append(row)
    return rows


def claim_mmlu(store: Store, as_of: dt.date | str | None = None,
               cfg: dict[str, Any] | None = None, *, k: int | None = None) -> dict[str, Any]:
    """Test the seed's claim 'top models differ by < 5 % on MMLU' against the data."""
    import numpy as np

    st = settings(cfg, k)
    date = _as_date(as_of, store)
    bench = resolve_benchmark(store, st.claim_benchmark, st)
    (pt, metric_r), = _evaluate_many(store, [date], [bench], st)
    thr = st.claim_spread_pct
    claim = f"top models differ by < {thr:g} % on {bench.name}"
    out: dict[str, Any] = {
        "claim": claim, "benchmark": bench.name, "as_of": date, "k": st.k, "n": pt.n,
        "threshold_pct": thr, "spread_pts": pt.spread_pts, "spread_pct": pt.spread_pct,
        "holds": None, "probability": None, "saturated": pt.saturated, "models": pt.models,
    }
    if pt.spread_pct is None:
        out["verdict"] = (f"Cannot tell: only {pt.n} model(s) with a {bench.name} score by "
                          f"{date}, fewer than k = {st.k}.")
        out["verdict_zh"] = (f"无法判断：截至 {date} 仅有 {pt.n} 个模型有 {bench.name} 分数，"
                             f"少于 k = {st.k}。")
        return out
    valid = metric_r[~np.isnan(metric_r)]
    prob = float(np.mean(valid < thr)) if valid.size else None
    holds = pt.spread_pct < thr
    out.update(holds=holds, probability=prob)
    names = ", ".join(m["name"] for m in pt.models)
    sat = (f"; note: {bench.name} is saturated (top {pt.top:g} within "
           f"{st.saturation_distance_pct:g} % of the ceiling), so a small spread is not "
           "convergence") if pt.saturated else ""
    prob_txt = f", holds in {prob:.0%} of resamples" if prob is not None else ""
    out["verdict"] = (
        f"{'Holds' if holds else 'Does not hold'}: as of {date} the top {st.k} models on "
        f"{bench.name} differ by {pt.spread_pts:.1f} points = {pt.spread_pct:.1f} % of the top "
        f"({pt.top:g} to {pt.kth:g}; {names}){prob_txt}{sat}.")
    sat_zh = f"；注意：{bench.name} 已饱和，分差小不代表收敛" if pt.saturated else ""
    prob_zh = f"，重抽样中 {prob:.0%} 成立" if prob is not None else ""
    out["verdict_zh"] = (
        f"{'成立' if holds else '不成立'}：截至 {date}，{bench.name} 前 {st.k} 名模型相差 "
        f"{pt.spread_pts:.1f} 分，即最高分的 {pt.spread_pct:.1f} %（{pt.top:g} 至 {pt.kth:g}；"
        f"{names}）{prob_zh}{sat_zh}。")
    return out
