"""Convergence drivers (seed §六) as measured indicators, each with its window and source.

Filters and group-bys over entities, adoptions and segments are Ibis expressions; the
fits on the aggregated points are NumPy/SciPy. Definitions and formulas: docs/drivers.md.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from convergent.dates import calendar_years, fractional_year, leading_date
from convergent.schema import UNKNOWN
from convergent.stats import concentration, slope_fit, wilson

if TYPE_CHECKING:
    from ibis.expr.types import Table

    from convergent.store import Store

INSUFFICIENT = "insufficient data"
GROUPS = {
    "technical": "技术收敛",
    "market": "市场收敛",
    "standards": "标准收敛",
    "anti-convergence": "反收敛力量",
}
LOG10_2 = math.log10(2.0)


def doubling_months(slope: float) -> float | None:
    """Doubling time in months of a quantity growing 10**slope times per year."""
    return 12.0 * LOG10_2 / slope if slope > 0 else None


def _counts(counts: list[float], key: str) -> float:
    return float(concentration(counts)[key])


def hhi(counts: list[float]) -> float:
    """HHI (0–10,000) of a count vector."""
    return _counts(counts, "hhi")


def entropy_bits(counts: list[float]) -> float:
    """Shannon entropy in bits of a count vector."""
    return _counts(counts, "entropy_bits")


def _known(col: Any) -> Any:
    return col.notnull() & (col != UNKNOWN) & (col.strip() != "")


def _day(value: Any) -> dt.date:
    import pandas as pd

    return pd.Timestamp(value).date()


class _Ctx:
    """Shared state of one drivers() call: store tables, dates, settings, trend windows."""

    def __init__(self, store: Store, as_of: dt.date, cfg: dict[str, Any], length: int) -> None:
        import ibis
        import pandas as pd

        from convergent.dates import months_to_days

        self.store = store
        self.as_of = as_of
        self.cfg = cfg
        self.d = cfg["drivers"]
        self.length = length
        self.start = as_of - dt.timedelta(days=length)
        self.conf = float(self.d["confidence"])
        self.min_n = int(self.d["min_window_n"])
        self.entities = store.table("entities")
        self.adoptions = store.table("adoptions")
        self.segments = store.table("segments")
        w = cfg["window"]
        steps = int(w["trend_span_months"] // w["trend_step_months"])
        self.trend_ends = [as_of - dt.timedelta(days=months_to_days(k * w["trend_step_months"]))
                           for k in range(steps, -1, -1)]
        frame = pd.DataFrame({
            "wend": pd.to_datetime(self.trend_ends),
            "wstart": pd.to_datetime([e - dt.timedelta(days=length) for e in self.trend_ends]),
        })
        mt = ibis.memtable(frame)
        self.windows = mt.select(wend=mt.wend.cast("date"), wstart=mt.wstart.cast("date"))

    def models(self, start: dt.date | None, end: dt.date) -> Table:
        """Model entities dated in (start, end]."""
        e = self.entities
        cond = (e.kind == "model") & e.date.notnull() & (e.date <= end)
        if start is not None:
            cond &= e.date > start
        return e.filter(cond)

    def per_window(self, t: Table, keys: list[str], **aggs: Any) -> dict[dt.date, Any]:
        """Aggregates of `t` per trend window and `keys` in one query: {window end: frame}."""
        j = t.cross_join(self.windows)
        j = j.filter((j.date > j.wstart) & (j.date <= j.wend))
        df = j.group_by(["wend", *keys]).agg(**{k: f(j) for k, f in aggs.items()}).execute()
        return {_day(end): g for end, g in df.groupby("wend")}

    def source(self, t: Table) -> dict[str, Any]:
        """Origins and number of distinct source ids behind rows of an entities expression."""
        df = t.select("origin", "source_ids").distinct().execute()
        origins = sorted({str(o) for o in df["origin"].dropna()})
        sids = {s for cell in df["source_ids"].dropna() for s in str(cell).split(";") if s}
        return {"origins": origins, "n_sources": len(sids)}


def _row(ident: str, en: str, zh: str, group: str, unit: str, start: dt.date, end: dt.date,
         **kw: Any) -> dict[str, Any]:
    row = {"id": ident, "name_en": en, "name_zh": zh, "group": group,
           "group_zh": GROUPS[group], "value": None, "unit": unit, "interval": None,
           "trend": None, "trend_unit": None, "trend_interval": None,
           "window": {"start": start, "end": end}, "n": 0, "status": "ok",
           "source": {"origins": [], "n_sources": 0}, "note": ""}
    row.update(kw)
    return row


def _growth_rows(ctx: _Ctx, ident: str, en: str, zh: str, column: str, since: dt.date,
                 tier: str | None, group: str, what: str) -> list[dict[str, Any]]:
    """Growth per year and doubling time of a positive entity column (log-linear OLS)."""
    import numpy as np

    e = ctx.entities
    col = e[column]
    cond = col.notnull() & (col > 0) & e.date.notnull() & (e.date >= since) & (e.date <= ctx.as_of)
    if tier is not None:
        cond &= e.tier == tier
    df = e.filter(cond).select("date", column, "origin", "source_ids").execute()
    sids = {s for cell in df["source_ids"].dropna() for s in str(cell).split(";") if s}
    src = {"origins": sorted({str(o) for o in df["origin"].dropna()}), "n_sources": len(sids)}
    n = len(df)
    lo_hi = (since, ctx.as_of)
    growth = _row(f"{ident}_growth", f"{en} growth per year", f"{zh}年增长倍数", group,
                  "x/year", *lo_hi, n=n, source=src)
    doubling = _row(f"{ident}_doubling", f"{en} doubling time", f"{zh}倍增时间", group,
                    "months", *lo_hi, n=n, source=src)
    need = int(ctx.d["min_points"])
    if n < need:
        note = (f"{INSUFFICIENT}: {n} {what} dated {since}..{ctx.as_of} "
                f"(need {need}; ingest Epoch AI data for more)")
        for r in (growth, doubling):
            r.update(status=INSUFFICIENT, note=note)
        return [growth, doubling]
    years = np.array([fractional_year(leading_date(d)) for d in df["date"]])
    fit = slope_fit(years, df[column].to_numpy(dtype=float), ctx.conf, log10_y=True)
    pct = f"{ctx.conf:.0%}"
    growth.update(value=10 ** fit["slope"], interval=[10 ** fit["lo"], 10 ** fit["hi"]],
                  note=f"OLS of log10({column}) on year, {pct} CI; slope "
                       f"{fit['slope']:.3f} ± {fit['se']:.3f} (SE) orders of magnitude/yr")
    d_hi = doubling_months(fit["lo"])
    doubling.update(value=doubling_months(fit["slope"]),
                    interval=None if fit["slope"] <= 0 else
                    [doubling_months(fit["hi"]), d_hi if d_hi is not None else math.inf],
                    note="12·log10(2)/slope; interval from the slope's "
                         f"{pct} CI" + ("" if fit["slope"] > 0 else "; not growing"))
    return [growth, doubling]


def _orgs_per_year(ctx: _Ctx) -> dict[str, Any]:
    """Distinct organisations releasing models per calendar year (every organisation a model
    lists counts), and the trend over the complete years."""
    from convergent.ingest.names import org_names

    years = int(ctx.d["count_years"])
    complete_to = ctx.as_of.year if ctx.as_of == dt.date(ctx.as_of.year, 12, 31) \
        else ctx.as_of.year - 1
    spans = calendar_years(complete_to - years + 1, ctx.as_of)
    first = spans[0][0]
    m = ctx.models(first - dt.timedelta(days=1), ctx.as_of)
    m = m.filter(_known(m.organization))
    df = m.select("date", "organization").execute()
    by_year: dict[int, set[str]] = {y: set() for y in range(first.year, ctx.as_of.year + 1)}
    models: dict[int, int] = dict.fromkeys(by_year, 0)
    for d, org in zip(df["date"], df["organization"], strict=True):
        y = leading_date(d).year
        names = org_names(org)
        if y in by_year and names:
            by_year[y].update(names)
            models[y] += 1
    series = [{"year": y, "start": lo, "end": hi, "orgs": len(by_year[y]), "models": models[y],
               "partial": y > complete_to} for y, (lo, hi) in zip(by_year, spans, strict=True)]
    full = [r for r in series if not r["partial"]]
    last = full[-1] if full else None
    row = _row("orgs_per_year", "Organisations releasing notable models per year",
               "每年发布重要模型的机构数", "market", "organisations", first, ctx.as_of,
               n=last["models"] if last else 0, source=ctx.source(m))
    total = sum(r["models"] for r in full)
    if last is None or total < ctx.min_n:
        row.update(status=INSUFFICIENT,
                   note=f"{INSUFFICIENT}: {total} models with an organisation in complete "
                        f"calendar years {first.year}..{complete_to} (need {ctx.min_n})")
        return row
    fit = slope_fit([float(r["year"]) for r in full], [float(r["orgs"]) for r in full],
                    ctx.conf)
    row.update(value=float(last["orgs"]), value_year=last["year"],
               trend=fit["slope"] if fit else None, trend_unit="organisations/year",
               trend_interval=[fit["lo"], fit["hi"]] if fit else None, series=series,
               note=f"value: calendar year {last['year']}; every organisation a model lists "
                    f"counts once; trend: OLS over the complete years {full[0]['year']}.."
                    f"{last['year']}" + ("; the current year is partial and not fitted"
                                         if series[-1]["partial"] else ""))
    return row


Measure = Callable[[Any], tuple[float | None, int, dict[str, Any]]]


def _finish_snapshot(ctx: _Ctx, row: dict[str, Any], groups: dict[dt.date, Any],
                     measure: Measure, trend_unit: str) -> None:
    """Value and n at as-of, and the per-year trend over the trend windows, from grouped rows."""
    pts = []
    value, n, extra = None, 0, {}
    for end in ctx.trend_ends:
        g = groups.get(end)
        v, k, ex = measure(g) if g is not None and len(g) else (None, 0, {})
        if end == ctx.as_of:
            value, n, extra = v, k, ex
        if v is not None and k >= ctx.min_n:
            pts.append((end, float(v)))
    row["n"] = n
    if value is None or n < ctx.min_n:
        row.update(status=INSUFFICIENT,
                   note=f"{INSUFFICIENT}: n={n} in the window (need {ctx.min_n})")
        return
    row["value"] = value
    row.update(extra)
    fit = slope_fit([fractional_year(p[0]) for p in pts], [p[1] for p in pts], ctx.conf)
    if fit is not None:
        row.update(trend=fit["slope"], trend_unit=trend_unit,
                   trend_interval=[fit["lo"], fit["hi"]])
    row["note"] = (row["note"] + "; " if row["note"] else "") + (
        f"trend: OLS over {len(pts)} windows ending every "
        f"{ctx.cfg['window']['trend_step_months']} months" if fit else
        "trend: fewer than 3 measured windows")


def _counts_measure(key: str, value: Callable[[list[float]], float],
                    extra: Callable[[Any, float], dict[str, Any]]) -> Measure:
    """A measure over one window's (key, n) rows: value(counts) plus extra(frame, total)."""
    def measure(g: Any) -> tuple[float | None, int, dict[str, Any]]:
        g = g.sort_values(["n", key], ascending=[False, True])
        counts = g["n"].astype(float).tolist()
        total = float(sum(counts))
        return value(counts), round(total), extra(g, total)
    return measure


def _shares(g: Any, key: str, total: float) -> dict[str, float]:
    return {str(k): float(v) / total for k, v in zip(g[key], g["n"], strict=True)}


def _frontier_hhi(ctx: _Ctx) -> dict[str, Any]:
    """HHI of frontier-model releases by organisation in the window."""
    m = ctx.models(None, ctx.as_of)
    m = m.filter((m.tier == "frontier") & _known(m.organization))
    groups = ctx.per_window(m, ["organization"], n=lambda j: j.count())
    measure = _counts_measure("organization", hhi, lambda g, total: {
        "effective_n": 10_000 / hhi(g["n"].astype(float).tolist()),
        "organisations": len(g),
        "top": [{"organization": str(o), "share": float(c) / total}
                for o, c in zip(g["organization"][:3], g["n"][:3], strict=True)]})
    row = _row("frontier_hhi", "HHI of frontier releases by organisation",
               "前沿模型发布的机构集中度（HHI）", "market", "HHI (0-10000)", ctx.start,
               ctx.as_of, source=ctx.source(m.filter(m.date > ctx.start)))
    _finish_snapshot(ctx, row, groups, measure, "HHI points/year")
    return row


def _open_share(ctx: _Ctx) -> dict[str, Any]:
    """Share of models released with open weights in the window (Wilson interval)."""
    m = ctx.models(None, ctx.as_of)
    groups = ctx.per_window(m, ["open_weights"], n=lambda j: j.count())

    def measure(g: Any) -> tuple[float | None, int, dict[str, Any]]:
        known = g[g["open_weights"].notna()]
        n = int(known["n"].sum())
        if n == 0:
            return None, 0, {}
        k = int(known.loc[known["open_weights"].astype(bool), "n"].sum())
        return k / n, n, {"interval": list(wilson(k, n, ctx.conf)),
                          "unknown": int(g["n"].sum()) - n}

    row = _row("open_weights_share", "Open-weights share of new models", "开放权重模型占比",
               "standards", "share", ctx.start, ctx.as_of,
               source=ctx.source(m.filter(m.date > ctx.start)),
               note=f"Wilson {ctx.conf:.0%} interval; models with unknown openness excluded")
    _finish_snapshot(ctx, row, groups, measure, "share/year")
    return row


def _hardware_entropy(ctx: _Ctx) -> dict[str, Any]:
    """Entropy (bits) of training-accelerator vendors among adoptions in the window."""
    from convergent.measures import known_units

    units = known_units(ctx.store, ["accelerator_vendor"])
    units = units.filter(units.date <= ctx.as_of)
    groups = ctx.per_window(units, ["option"], n=lambda j: j.w.sum())
    measure = _counts_measure("option", entropy_bits, lambda g, total: {
        "effective_n": 2 ** entropy_bits(g["n"].astype(float).tolist()),
        "shares": _shares(g, "option", total)})
    a = ctx.adoptions
    a = a.filter((a.area_id == "accelerator_vendor") & (a.option != UNKNOWN)
                 & (a.date > ctx.start) & (a.date <= ctx.as_of))
    sids = a.select("origin", "source_id").distinct().execute()
    row = _row("hardware_entropy", "Hardware-vendor entropy", "训练硬件厂商熵",
               "anti-convergence", "bits", ctx.start, ctx.as_of,
               source={"origins": sorted({str(o) for o in sids["origin"].dropna()}),
                       "n_sources": int(sids["source_id"].nunique())},
               note="Shannon entropy of accelerator-vendor shares (an entity on two vendors "
                    "counts half to each); effective vendors = 2^H")
    _finish_snapshot(ctx, row, groups, measure, "bits/year")
    return row


def _domain_entropy(ctx: _Ctx) -> dict[str, Any]:
    """Entropy (bits) of the task domains of models released in the window."""
    seg = ctx.segments
    seg = seg.filter((seg.dimension == "domain") & _known(seg.value))
    m = ctx.models(None, ctx.as_of)
    j = seg.join(m.select("entity_id", "date"), "entity_id")
    groups = ctx.per_window(j, ["value"], n=lambda t: t.entity_id.nunique())
    measure = _counts_measure("value", entropy_bits, lambda g, total: {
        "effective_n": 2 ** entropy_bits(g["n"].astype(float).tolist()),
        "shares": _shares(g, "value", total)})
    row = _row("domain_entropy", "Domain entropy", "任务领域熵", "anti-convergence", "bits",
               ctx.start, ctx.as_of, source=ctx.source(m.filter(m.date > ctx.start)),
               note="Shannon entropy of the domain segment of new models; "
                    "effective domains = 2^H")
    _finish_snapshot(ctx, row, groups, measure, "bits/year")
    return row


def _country_share(ctx: _Ctx) -> dict[str, Any]:
    """Share of new models by country of the developer; value is the leading country's share."""
    m = ctx.models(None, ctx.as_of)
    m = m.filter(_known(m.country))
    groups = ctx.per_window(m, ["country"], n=lambda j: j.count())
    conf = ctx.conf
    measure = _counts_measure("country", lambda c: c[0] / sum(c), lambda g, total: {
        "leader": str(g["country"].iloc[0]), "shares": _shares(g, "country", total),
        "interval": list(wilson(int(g["n"].iloc[0]), int(total), conf))})
    row = _row("country_share", "Share of new models by country (leading country)",
               "各国模型占比（领先国家）", "anti-convergence", "share", ctx.start, ctx.as_of,
               source=ctx.source(m.filter(m.date > ctx.start)),
               note="value: the leading country's share, all shares under 'shares'")
    _finish_snapshot(ctx, row, groups, measure, "share/year")
    if row["status"] == "ok":
        row["note"] = f"leading country {row['leader']}; " + row["note"]
    return row


def drivers(store: Store, as_of: dt.date, cfg: dict[str, Any],
            length: int | None = None) -> list[dict[str, Any]]:
    """Every driver indicator at `as_of`; window indicators use a trailing `length` days."""
    from convergent.dates import months_to_days

    length = length or months_to_days(cfg["window"]["months"])
    ctx = _Ctx(store, as_of, cfg, length)
    d = cfg["drivers"]
    since_c, since_cost = leading_date(d["compute_since"]), leading_date(d["cost_since"])
    rows = [
        *_growth_rows(ctx, "compute_notable", "Training compute (notable models)",
                      "重要模型训练算力", "training_compute_flop", since_c, None, "technical",
                      "models with training compute"),
        *_growth_rows(ctx, "compute_frontier", "Training compute (frontier models)",
                      "前沿模型训练算力", "training_compute_flop", since_c, "frontier",
                      "technical", "frontier models with training compute"),
    ]
    cost = _growth_rows(ctx, "cost", "Training cost", "训练成本", "training_cost_usd",
                        since_cost, None, "market", "models with training cost")
    rows.append(cost[0])
    rows += [_orgs_per_year(ctx), _frontier_hhi(ctx), _open_share(ctx),
             _hardware_entropy(ctx), _domain_entropy(ctx), _country_share(ctx)]
    return rows
