"""Collect every number the report shows into one plain `ReportData`, one function per section.

Each `section_*` function fills its part of the data and marks the section's status:
`ok`, `no_data` (the analysis ran but the evidence is too thin), `not_built` (what it
needs could not be built, e.g. the pyramid without layer scores) or `failed` (it raised;
the message is kept).
A section that is not `ok` shows no numbers: nothing is invented to fill a gap.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from convergent.plain import plain

if TYPE_CHECKING:
    from convergent.classify import Classifier
    from convergent.store import Store

OK, NO_DATA, NOT_BUILT, FAILED = "ok", "no_data", "not_built", "failed"
SECTIONS = ("matrix", "capability", "history", "layers", "pyramid", "five_layer", "drivers",
            "forecasts", "timeline", "predictions", "advice", "seed", "conclusions", "scaling",
            "sources")
HISTORY_START = dt.date(2018, 1, 1)
TIMELINE_START = dt.date(2023, 1, 1)
EXAMPLES = 3


@dataclass
class Section:
    """Whether a section could be built, and why not."""

    status: str = NOT_BUILT
    note: str = ""


@dataclass
class ReportData:
    """Everything the report renders: plain lists and dicts, no computation left."""

    as_of: dt.date
    window_days: int
    generated: str
    newest_evidence: dt.date | None = None
    evidence_age_days: int | None = None
    stale_after_days: int | None = None
    stale: bool = False
    sections: dict[str, Section] = field(default_factory=dict)
    matrix: list[dict[str, Any]] = field(default_factory=list)
    capability: list[dict[str, Any]] = field(default_factory=list)
    examples: dict[str, list[str]] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    layers: list[dict[str, Any]] = field(default_factory=list)
    pyramid: dict[str, str] = field(default_factory=dict)
    five_layer: list[dict[str, Any]] = field(default_factory=list)
    drivers: list[dict[str, Any]] = field(default_factory=list)
    forecasts: list[dict[str, Any]] = field(default_factory=list)
    level_history: list[dict[str, Any]] = field(default_factory=list)
    gantt: dict[str, str] = field(default_factory=dict)
    gantt_rows: list[dict[str, Any]] = field(default_factory=list)
    backtest: list[dict[str, Any]] = field(default_factory=list)
    predictability: list[dict[str, Any]] = field(default_factory=list)
    predictions: list[dict[str, Any]] = field(default_factory=list)
    advice: dict[str, Any] = field(default_factory=dict)
    claims: list[dict[str, Any]] = field(default_factory=list)
    conclusions: list[dict[str, Any]] = field(default_factory=list)
    scaling: list[dict[str, Any]] = field(default_factory=list)
    scaling_points: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def ok(self, name: str) -> bool:
        """True when section `name` was built and has data."""
        sec = self.sections.get(name)
        return sec is not None and sec.status == OK

    def mark(self, name: str, status: str, note: str = "") -> None:
        """Record a section's status (and warn when it failed)."""
        self.sections[name] = Section(status, note)
        if status == FAILED:
            self.warnings.append(f"{name}: {note}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO text, NaN as null)."""
        return plain(asdict(self))


def _guard(data: ReportData, name: str, strict: bool, work: Callable[[], str | None]) -> None:
    """Run one section; its return value is a status (default ok when it returns None)."""
    try:
        status = work() or OK
        data.mark(name, status, data.sections.get(name, Section()).note
                  if status != OK else "")
    except Exception as exc:
        if strict:
            raise
        msg = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        data.mark(name, FAILED, msg)


@dataclass
class Context:
    """What every section needs: the store, the config, the date and window, the classifier."""

    store: Store
    cfg: dict[str, Any]
    as_of: dt.date
    window_days: int
    classifier: Classifier | None = None
    results: list[Any] = field(default_factory=list)
    progress: Callable[[str], None] | None = None


def section_matrix(ctx: Context, data: ReportData) -> str | None:
    """The classification matrix of the share areas (the classifier, with certainty)."""
    from convergent.classify import Classifier

    ctx.classifier = Classifier(ctx.store, ctx.cfg)
    ctx.results = ctx.classifier.classify(ctx.as_of, ctx.window_days)
    data.matrix = [r.to_dict() for r in ctx.results]
    return OK if data.matrix else NO_DATA


def section_capability(ctx: Context, data: ReportData) -> str | None:
    """Capability areas: the spread of the top-k models on each benchmark."""
    from convergent.analysis import capability_rows

    data.capability = capability_rows(ctx.store, ctx.as_of, ctx.cfg, window_days=ctx.window_days)
    return (OK if any(r.get("level") not in (None, "insufficient") for r in data.capability)
            else NO_DATA)


def section_examples(ctx: Context, data: ReportData) -> None:
    """A few entities choosing the leader in each share area's window, newest first."""
    leaders = {r["area"]: r["leader"] for r in data.matrix if r.get("leader")}
    if not leaders:
        return
    start = ctx.as_of - dt.timedelta(days=ctx.window_days)
    a = ctx.store.table("adoptions")
    e = ctx.store.table("entities")
    w = a.filter((a.date > start) & (a.date <= ctx.as_of) & a.area_id.isin(list(leaders)))
    j = w.join(e, w.entity_id == e.entity_id).select(
        area=w.area_id, option=w.option, name=e.name, date=w.date)
    df = j.distinct().order_by([j.area, j.date.desc(), j.name]).execute()
    for area, leader in leaders.items():
        names = df[(df["area"] == area) & (df["option"] == leader)]["name"]
        data.examples[area] = list(dict.fromkeys(names.astype(str)))[:EXAMPLES]
    for r in data.capability:
        data.examples[str(r.get("area"))] = [
            str(m.get("name")) for m in (r.get("models") or [])][:EXAMPLES]


def history_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    """Quarter ends from `start` up to `end`, and `end` itself."""
    out = []
    y, q = start.year, (start.month - 1) // 3 + 1
    while True:
        m = q * 3
        d = dt.date(y + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)
        if d >= end:
            break
        if d >= start:
            out.append(d)
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    out.append(end)
    return out


def section_history(ctx: Context, data: ReportData) -> str | None:
    """Every option's share in the trailing window at each quarter end (exact, from cubes)."""
    import numpy as np

    from convergent.measures import day_number

    clf = ctx.classifier
    if clf is None:
        return NOT_BUILT
    ends = history_ends(HISTORY_START, ctx.as_of)
    days = np.array([day_number(d) for d in ends])
    min_n = ctx.cfg["classify"]["min_n"]
    names = {r["area"]: (r["name_en"], r["name_zh"], r["layer"]) for r in data.matrix}
    rows = []
    for area, cube in clf.cubes.items():
        if not cube.options:
            continue
        counts = cube.counts(days, ctx.window_days)
        n = counts.sum(axis=1)
        for i, d in enumerate(ends):
            if n[i] < min_n:
                continue
            for j, opt in enumerate(cube.options):
                if counts[i, j] <= 0:
                    continue
                en, zh, layer = names.get(area, (area, area, ""))
                rows.append({"area": area, "name_en": en, "name_zh": zh, "layer": layer,
                             "date": d, "option": opt, "share": float(counts[i, j] / n[i]),
                             "n": float(n[i])})
    data.history = rows
    return OK if rows else NO_DATA


def _all_rows(data: ReportData) -> list[dict[str, Any]]:
    return [*data.matrix, *data.capability]


def section_layers(ctx: Context, data: ReportData) -> str | None:
    """Layer scores: the weighted mean degree of each layer's areas."""
    from convergent.layers import layer_scores

    data.layers = list(layer_scores(_all_rows(data), ctx.cfg))
    return OK if data.layers else NO_DATA


def section_pyramid(ctx: Context, data: ReportData) -> str | None:
    """The pyramid as Mermaid, in both languages, from the layer scores."""
    if not data.ok("layers"):
        return NOT_BUILT
    from convergent.layers import pyramid_mermaid

    data.pyramid = {lang: str(pyramid_mermaid(data.layers, lang)) for lang in ("zh", "en")}
    return OK


def section_five_layer(ctx: Context, data: ReportData) -> str | None:
    """The five-layer table (technical picture, market, predictability, room to improve)."""
    from convergent.analysis import layer_predictability
    from convergent.layers import five_layer_table

    predictability = None
    try:
        data.backtest, predictability = layer_predictability(
            ctx.store, ctx.cfg, ctx.classifier, ctx.as_of)
        data.predictability = [{"layer": k, **v} for k, v in predictability.items()]
    except Exception as exc:
        data.warnings.append(f"predictability: {type(exc).__name__}: {exc}".splitlines()[0])
    data.five_layer = five_layer_table(ctx.store, _all_rows(data), ctx.as_of, ctx.cfg,
                                       predictability=predictability, length=ctx.window_days)
    return OK if data.five_layer else NO_DATA


def section_drivers(ctx: Context, data: ReportData) -> str | None:
    """Measured driver indicators (compute growth, developers, open weights, diversity …)."""
    from convergent.drivers import drivers

    data.drivers = drivers(ctx.store, ctx.as_of, ctx.cfg, length=ctx.window_days)
    return OK if data.drivers else NO_DATA


def section_forecasts(ctx: Context, data: ReportData) -> str | None:
    """S-curve forecasts: when each area's leader reaches 0.90 / 0.95, with intervals."""
    from convergent.forecast.crossings import forecast_areas

    data.forecasts = forecast_areas(ctx.store, ctx.as_of, ctx.cfg, clf=ctx.classifier)
    return OK if data.forecasts else NO_DATA


def section_timeline(ctx: Context, data: ReportData) -> str | None:
    """Quarterly level history since the seed's 2023 start, and the Gantt chart from it."""
    from convergent.forecast.history import level_history, phases
    from convergent.forecast.timeline import gantt_rows, mermaid

    data.level_history = level_history(ctx.store, ctx.cfg, TIMELINE_START, ctx.as_of,
                                       clf=ctx.classifier)
    if not data.level_history:
        return NO_DATA
    ph = phases(data.level_history)
    for lang in ("zh", "en"):
        grows = gantt_rows(ph, data.forecasts, ctx.as_of, lang)
        data.gantt[lang] = str(mermaid(grows, lang))
        if lang == "en":
            data.gantt_rows = list(grows)
    return OK


def section_predictions(ctx: Context, data: ReportData) -> str | None:
    """The prediction registry resolved against the data, with Brier scores."""
    from convergent.forecast.predictions import evaluate_predictions

    data.predictions = evaluate_predictions(ctx.store, ctx.cfg, as_of=ctx.as_of,
                                            clf=ctx.classifier)
    return OK if data.predictions else NO_DATA


def section_advice(ctx: Context, data: ReportData) -> str | None:
    """Per-area advice from level and certainty, in both languages."""
    from convergent.advice import advise

    for lang in ("zh", "en"):
        data.advice[lang] = plain(advise(_all_rows(data), ctx.cfg, lang))
    return OK if any(data.advice.values()) else NO_DATA


def section_seed(ctx: Context, data: ReportData) -> str | None:
    """The seed document's claims, each with its verdict against these results."""
    from convergent.capability.spreads import claim_mmlu
    from convergent.seedcheck import Inputs, check_seed, organisations_per_year

    try:
        mmlu = claim_mmlu(ctx.store, ctx.as_of, ctx.cfg)
    except Exception as exc:
        data.warnings.append(f"seed: MMLU claim: {type(exc).__name__}: {exc}".splitlines()[0])
        mmlu = None
    inp = Inputs(as_of=ctx.as_of, rows=_all_rows(data), layers=data.layers,
                 level_history=data.level_history, forecasts=data.forecasts,
                 predictions=data.predictions, predictability=data.predictability,
                 mmlu=plain(mmlu) if mmlu else None,
                 organisations=organisations_per_year(ctx.store, (2023, 2025)))
    data.claims = check_seed(inp, ctx.cfg)
    return OK


def section_conclusions(ctx: Context, data: ReportData) -> str | None:
    """Conclusions computed from the results: layers, movers, thin evidence, the seed."""
    from convergent.conclusions import conclusions

    data.conclusions = conclusions(_all_rows(data), data.layers, data.history,
                                   data.level_history, data.claims, ctx.as_of)
    return OK if data.conclusions else NO_DATA


def section_scaling(ctx: Context, data: ReportData) -> str | None:
    """Scaling-law fits of the runs in the store, one per run group."""
    from convergent.scaling import fit_store_runs

    if ctx.store.count("runs") == 0:
        return NO_DATA
    out = fit_store_runs(ctx.store, ctx.cfg)
    data.scaling = list(out.get("fits", []))
    data.scaling_points = list(out.get("points", []))
    return OK if data.scaling else NO_DATA


def _norm_bench(col: Any) -> Any:
    return col.strip().lower().re_replace(r"[\s_\-./]+", "")


def section_sources(ctx: Context, data: ReportData) -> str | None:
    """The sources behind each area's window: share adoptions and the top-k scores."""
    from convergent.schema import UNKNOWN

    start = ctx.as_of - dt.timedelta(days=ctx.window_days)
    a = ctx.store.table("adoptions")
    s = ctx.store.table("sources")
    w = a.filter((a.date > start) & (a.date <= ctx.as_of) & (a.option != UNKNOWN))
    g = w.group_by([w.area_id, w.source_id]).aggregate(n=w.entity_id.nunique())
    j = g.left_join(s, g.source_id == s.source_id).select(
        area=g.area_id, source_id=g.source_id, url=s.url, title=s.title, n=g.n)
    df = j.execute()
    rows = [{"area": r.area, "source_id": r.source_id, "url": r.url, "title": r.title,
             "n": int(r.n)} for r in df.itertuples()]
    rows.extend(_capability_sources(ctx, data))
    names = {r["area"]: (r.get("name_en"), r.get("name_zh")) for r in _all_rows(data)}
    for r in rows:
        r["name_en"], r["name_zh"] = names.get(r["area"], (r["area"], r["area"]))
        r["url"] = None if _isna(r["url"]) else str(r["url"])
        r["title"] = None if _isna(r["title"]) else str(r["title"])
    rows.sort(key=lambda r: (str(r["area"]), -r["n"], str(r["url"])))
    data.sources = rows
    return OK if rows else NO_DATA


def _isna(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _capability_sources(ctx: Context, data: ReportData) -> list[dict[str, Any]]:
    """Sources of the scores of each capability area's top-k models."""
    wanted = [(str(r["area"]), str(r.get("benchmark")), str(m.get("name")))
              for r in data.capability for m in (r.get("models") or [])]
    if not wanted:
        return []
    sc = ctx.store.table("scores")
    e = ctx.store.table("entities")
    s = ctx.store.table("sources")
    j = sc.filter(sc.date <= ctx.as_of).join(e, sc.entity_id == e.entity_id)
    j = j.select(bkey=_norm_bench(sc.benchmark), name=e.name, source_id=sc.source_id)
    j = j.left_join(s, j.source_id == s.source_id).select(
        j.bkey, j.name, j.source_id, url=s.url, title=s.title)
    df = j.execute()
    by: dict[tuple[str, str], list[tuple[str, Any, Any]]] = {}
    for r in df.itertuples():
        by.setdefault((r.bkey, r.name), []).append((r.source_id, r.url, r.title))
    counts: dict[tuple[str, str], dict[str, Any]] = {}
    for area, bench, name in wanted:
        key = re.sub(r"[\s_\-./]+", "", bench.strip().lower())
        for sid, url, title in by.get((key, name), []):
            row = counts.setdefault((area, sid), {"area": area, "source_id": sid, "url": url,
                                                  "title": title, "n": 0})
            row["n"] += 1
    return list(counts.values())


STEPS: list[tuple[str, Callable[[Context, ReportData], str | None]]] = [
    ("matrix", section_matrix),
    ("capability", section_capability),
    ("history", section_history),
    ("layers", section_layers),
    ("pyramid", section_pyramid),
    ("five_layer", section_five_layer),
    ("drivers", section_drivers),
    ("forecasts", section_forecasts),
    ("timeline", section_timeline),
    ("predictions", section_predictions),
    ("advice", section_advice),
    ("seed", section_seed),
    ("conclusions", section_conclusions),
    ("scaling", section_scaling),
    ("sources", section_sources),
]


def assemble(
    store: Store,
    cfg: dict[str, Any],
    as_of: dt.date | None = None,
    window_days: int | None = None,
    *,
    strict: bool = False,
    progress: Callable[[str], None] | None = None,
    today: dt.date | None = None,
) -> ReportData:
    """Build every section of the report; `progress(name)` is called after each one.

    With `strict`, an exception in a section propagates instead of marking it failed.
    `today` (default: the system date) decides how old the newest evidence is.
    """
    from convergent.analysis import evidence_as_of
    from convergent.dates import months_to_days

    today = today or dt.date.today()
    newest = evidence_as_of(store, today)
    as_of = as_of or newest
    window_days = window_days or months_to_days(cfg["window"]["months"])
    ctx = Context(store, cfg, as_of, window_days, progress=progress)
    limit = int(cfg["report"]["stale_after_days"])
    age = (today - newest).days
    data = ReportData(as_of=as_of, window_days=window_days, generated=today.isoformat(),
                      newest_evidence=newest, evidence_age_days=age, stale_after_days=limit,
                      stale=age > limit)
    for name, step in STEPS:
        _guard(data, name, strict, lambda step=step: step(ctx, data))
        if name == "capability" and (data.matrix or data.capability):
            _guard(data, "examples", strict, lambda: section_examples(ctx, data))
            data.sections.pop("examples", None)
        if progress:
            progress(name)
    return data
