"""The interactive dashboard: every section of the Markdown report in one offline HTML page.

One page per language (`index.html` in the report's main language, `index.<lang>.html`
for the other), linked to each other. Vega, Vega-Lite and vega-embed are inlined from
vl-convert's bundle, so the page works offline under a strict Content-Security-Policy.
Chart data travels inside JSON specs that Vega renders as text (never as HTML), in
`<script type="application/json">` blocks written by Jinja's `tojson` (which escapes `<`,
`>`, `&` and quotes); everything else goes through Jinja's autoescape. Every chart has a
legend; charts take the width of their column (`usermeta.fit`), tables become stacked
cards on narrow screens, so the page fits a 400 px phone and prints cleanly.
"""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Any

from convergent.plain import plain
from convergent.report.assemble import ReportData
from convergent.report.i18n import labels, level_label

LEVEL_COLORS = {"L4": "#1a9850", "L3": "#91cf60", "L2": "#fee08b", "L1": "#fc8d59",
                "L0": "#d73027", "insufficient": "#bbbbbb"}
LEVEL_RING = {"L4": 0, "L3": 1, "L2": 2, "L1": 3, "L0": 4}
LEGEND = {"orient": "bottom", "direction": "horizontal", "columns": 3, "labelLimit": 120,
          "symbolLimit": 40}


def _level_scale() -> Any:
    import altair as alt

    levels = list(LEVEL_COLORS)
    return alt.Scale(domain=levels, range=[LEVEL_COLORS[k] for k in levels])


def _level_legend(title: str, lang: str) -> Any:
    """The level colour legend, with 'insufficient' in the page's language."""
    import altair as alt

    word = level_label("insufficient", lang).replace("'", "")
    return alt.Legend(title=title, labelExpr=f"datum.label == 'insufficient' ? '{word}' : "
                      "datum.label", **LEGEND)


def _name(row: dict[str, Any], lang: str) -> str:
    return str(row.get(f"name_{lang}") or row.get("name_en") or row.get("area") or "")


def _spec(chart: Any, fit: str = "width") -> dict[str, Any]:
    """The chart's Vega-Lite spec; `fit` tells the page how to size it (width or square)."""
    spec = json.loads(chart.to_json(validate=False))
    spec["usermeta"] = {"fit": fit}
    return spec


def _share_layers(df: Any, cfg: dict[str, Any], lang: str) -> tuple[Any, Any]:
    """The level bands (L2 / L3 / L4 leader shares) and the option lines (on `df`, or on
    the enclosing facet's data when `df` is None)."""
    import altair as alt
    import pandas as pd

    lab = labels(lang)
    c = cfg["classify"]
    bands = pd.DataFrame([
        {"level": "L2", "lo": c["l2_share"], "hi": c["l3_share"]},
        {"level": "L3", "lo": c["l3_share"], "hi": c["l4_share"]},
        {"level": "L4", "lo": c["l4_share"], "hi": 1.0},
    ])
    band = alt.Chart(bands).mark_rect(opacity=0.18).encode(
        y="lo:Q", y2="hi:Q", fill=alt.Fill("level:N", scale=_level_scale(), legend=None))
    base = alt.Chart() if df is None else alt.Chart(df)
    lines = base.mark_line(point=alt.OverlayMarkDef(size=14)).encode(
        x=alt.X("date:T", title=None, axis=alt.Axis(format="%Y", tickCount=5)),
        y=alt.Y("share:Q", title=lab["share"], scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%")),
        color=alt.Color("option:N", title=lab["option"], legend=alt.Legend(**LEGEND)),
        tooltip=[alt.Tooltip("area_name:N", title=lab["area"]),
                 alt.Tooltip("option:N", title=lab["option"]),
                 alt.Tooltip("date:T", title=lab["date"]),
                 alt.Tooltip("share:Q", title=lab["share"], format=".1%"),
                 alt.Tooltip("n:Q", title="n", format=".0f")])
    return band, lines


def _history_frame(data: ReportData, lang: str) -> Any:
    import pandas as pd

    df = pd.DataFrame(plain(data.history))
    df["area_name"] = [r.get(f"name_{lang}") or r.get("name_en") for r in data.history]
    return df


def share_charts(data: ReportData, cfg: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """One small chart per area: every option's share over time, with its own legend.

    The spec is built once with Altair; each area's chart swaps in its own rows.
    """
    import altair as alt

    if not data.history:
        return []
    df = _history_frame(data, lang)
    areas = list(dict.fromkeys(df["area"]))
    first = df[df["area"] == areas[0]]
    band, lines = _share_layers(first, cfg, lang)
    template = _spec(alt.layer(band, lines, data=first).properties(width=320, height=130))
    key = template["data"]["name"]
    cols = ["area", "area_name", "date", "option", "share", "n"]
    out = []
    for area in areas:
        part = df[df["area"] == area]
        spec = {**template, "datasets": {**template["datasets"],
                                         key: plain(part[cols].to_dict("records"))}}
        out.append({"id": f"shares-{area}", "title": str(part["area_name"].iloc[0]),
                    "spec": spec})
    return out


def chart_shares(data: ReportData, cfg: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """The static figure of all areas: small multiples, each panel with its own legend."""
    import altair as alt

    if not data.history:
        return None
    df = _history_frame(data, lang)
    band, lines = _share_layers(None, cfg, lang)
    chart = alt.layer(band, lines).properties(width=240, height=120).facet(
        facet=alt.Facet("area_name:N", title=None), columns=3, data=df
    ).resolve_scale(color="independent").resolve_legend(color="independent")
    return _spec(chart, fit="none")


def _all_rows(data: ReportData) -> list[dict[str, Any]]:
    return [*data.matrix, *data.capability]


def radar_points(data: ReportData, lang: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Blip positions: one sector per layer, L4 at the centre ring out to L0 at the edge.

    Inside its ring an area sits nearer the centre the higher its degree within its
    level's band; areas without a level are left out (listed in the caption instead).
    """
    from convergent.registry import registry

    reg = registry()
    layers = sorted(reg.layers, key=lambda k: reg.layers[k].order)
    span = 2 * math.pi / len(layers)
    by_layer: dict[str, list[dict[str, Any]]] = {k: [] for k in layers}
    left_out = []
    for r in _all_rows(data):
        if r.get("level") in LEVEL_RING and r.get("layer") in by_layer:
            by_layer[str(r["layer"])].append(r)
        else:
            left_out.append(_name(r, lang))
    points = []
    for i, layer in enumerate(layers):
        rows = sorted(by_layer[layer], key=lambda r: str(r.get("area")))
        for j, r in enumerate(rows):
            ring = LEVEL_RING[str(r["level"])]
            deg = r.get("degree")
            within = 0.5
            if isinstance(deg, int | float) and math.isfinite(deg):
                lo, hi = _band(str(r["level"]))
                within = 1 - min(max((deg - lo) / max(hi - lo, 1e-9), 0.0), 1.0)
            radius = ring + 0.3 + 0.55 * within
            angle = i * span + span * (j + 1) / (len(rows) + 1)
            share = r.get("leader_share")
            points.append({
                "x": radius * math.sin(angle), "y": radius * math.cos(angle),
                "area": _name(r, lang), "layer": _layer_name(layer, lang),
                "level": r["level"], "degree": _fmt_degree(deg),
                "leader": str(r.get("leader") or ""),
                "leader_share": (_fmt_pct(share) if share is not None
                                 else _fmt_num(r.get("top"))),
                "stars": _stars(r.get("stars")), "n": _fmt_num(r.get("n")),
            })
    return points, left_out


def _fmt_degree(x: Any) -> str:
    from convergent.report.markdown import fmt_degree

    return fmt_degree(x)


def _fmt_pct(x: Any) -> str:
    from convergent.report.markdown import fmt_pct

    return fmt_pct(x)


def _fmt_num(x: Any) -> str:
    from convergent.report.markdown import fmt_num

    return fmt_num(x)


def _stars(x: Any) -> str:
    from convergent.levels import stars_text

    return stars_text(x)


_BANDS = {"L0": (0, 20), "L1": (20, 45), "L2": (45, 75), "L3": (75, 90), "L4": (90, 100)}


def _band(level: str) -> tuple[float, float]:
    return _BANDS.get(level, (0, 100))


def _layer_name(layer: str, lang: str) -> str:
    from convergent.registry import registry

    lay = registry().layers.get(layer)
    return (lay.zh if lang == "zh" else lay.en) if lay else layer


def chart_radar(data: ReportData, lang: str) -> dict[str, Any] | None:
    """The convergence radar: rings L4 (centre) … L0 (edge), sectors = layers, blips = areas."""
    import altair as alt
    import pandas as pd

    from convergent.registry import registry

    points, _ = radar_points(data, lang)
    if not points:
        return None
    reg = registry()
    layers = sorted(reg.layers, key=lambda k: reg.layers[k].order)
    span = 2 * math.pi / len(layers)
    rings = []
    for ring in range(1, 6):
        for k in range(73):
            a = 2 * math.pi * k / 72
            rings.append({"ring": ring, "k": k, "x": ring * math.sin(a), "y": ring * math.cos(a)})
    spokes = [{"s": i, "x": 0.0, "y": 0.0, "x2": 5 * math.sin(i * span),
               "y2": 5 * math.cos(i * span)} for i in range(len(layers))]
    sector_labels = [{"x": 5.6 * math.sin((i + 0.5) * span), "y": 5.6 * math.cos((i + 0.5) * span),
                      "text": _layer_name(lay, lang)} for i, lay in enumerate(layers)]
    ring_labels = [{"x": 0.0, "y": ring + 0.5, "text": lvl}
                   for lvl, ring in LEVEL_RING.items()]
    scale = alt.Scale(domain=[-6.6, 6.6], nice=False)
    x = alt.X("x:Q", scale=scale, axis=None)
    y = alt.Y("y:Q", scale=scale, axis=None)
    ring_layer = alt.Chart(pd.DataFrame(rings)).mark_line(color="#999", strokeWidth=0.7).encode(
        x=x, y=y, detail="ring:N", order="k:Q")
    spoke_layer = alt.Chart(pd.DataFrame(spokes)).mark_rule(color="#bbb").encode(
        x=x, y=y, x2="x2:Q", y2="y2:Q")
    sector_layer = alt.Chart(pd.DataFrame(sector_labels)).mark_text(
        fontSize=10, fontWeight="bold", limit=90).encode(x=x, y=y, text="text:N")
    ring_text = alt.Chart(pd.DataFrame(ring_labels)).mark_text(
        fontSize=9, color="#666").encode(x=x, y=y, text="text:N")
    lab = labels(lang)
    blips = alt.Chart(pd.DataFrame(points)).mark_point(
        filled=True, size=110, stroke="#333", strokeWidth=0.6, opacity=0.95).encode(
        x=x, y=y,
        color=alt.Color("level:N", scale=_level_scale(), legend=_level_legend(lab["level"], lang)),
        tooltip=[alt.Tooltip("area:N", title=lab["area"]),
                 alt.Tooltip("layer:N", title=lab["layer"]),
                 alt.Tooltip("level:N", title=lab["level"]),
                 alt.Tooltip("degree:N", title=lab["degree"]),
                 alt.Tooltip("leader:N", title=lab["leader"]),
                 alt.Tooltip("leader_share:N", title=lab["share"]),
                 alt.Tooltip("stars:N", title=lab["certainty"]),
                 alt.Tooltip("n:N", title="n")])
    chart = alt.layer(ring_layer, spoke_layer, sector_layer, ring_text, blips).properties(
        width=520, height=520)
    return _spec(chart, fit="square")


def chart_pyramid(data: ReportData, lang: str) -> dict[str, Any] | None:
    """The pyramid as centred bars: one per layer, width = layer score, colour = level."""
    import altair as alt
    import pandas as pd

    rows = [r for r in data.layers if isinstance(r.get("score"), int | float)]
    if not rows:
        return None
    df = pd.DataFrame([{
        "layer": r.get(f"name_{lang}") or r.get("name_en"), "order": r.get("order", 0),
        "score": float(r["score"]), "lo": -float(r["score"]) / 2, "hi": float(r["score"]) / 2,
        "level": r.get("level"), "degree": _fmt_degree(r["score"]),
        "unconverged": ", ".join(_name(a, lang) for a in r.get("unconverged", [])),
    } for r in rows])
    lab = labels(lang)
    order = list(df.sort_values("order", ascending=False)["layer"])
    y = alt.Y("layer:N", sort=order, title=None, axis=alt.Axis(labelLimit=110))
    bars = alt.Chart(df).mark_bar(height=22).encode(
        x=alt.X("lo:Q", scale=alt.Scale(domain=[-50, 50]), axis=None), x2="hi:Q", y=y,
        color=alt.Color("level:N", scale=_level_scale(), legend=_level_legend(lab["level"], lang)),
        tooltip=[alt.Tooltip("layer:N", title=lab["layer"]),
                 alt.Tooltip("level:N", title=lab["level"]),
                 alt.Tooltip("degree:N", title=lab["degree"]),
                 alt.Tooltip("unconverged:N", title=lab["unconverged"])])
    text = alt.Chart(df).mark_text(fontSize=11, dy=0).encode(
        x=alt.X("hi:Q", scale=alt.Scale(domain=[-50, 50]), axis=None), y=y,
        text=alt.Text("degree:N"))
    return _spec(alt.layer(bars, text).properties(width=520, height=30 * len(df)))


def _level_runs(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Contiguous periods of one level per area, from quarterly level-history rows."""
    import datetime as dt

    from convergent.dates import leading_date

    by: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("area") and r.get("date") and r.get("level"):
            by.setdefault(str(r["area"]), []).append(r)
    out = []
    for area, items in by.items():
        items.sort(key=lambda r: str(r["date"]))
        start = prev = items[0]
        for r in [*items[1:], None]:
            if r is None or r["level"] != start["level"]:
                end = r["date"] if r is not None else prev["date"]
                if str(end) == str(start["date"]):
                    end = leading_date(end) + dt.timedelta(days=1)
                out.append({"area": _name(start, lang) or area, "level": start["level"],
                            "start": str(start["date"])[:10], "end": str(end)[:10]})
                start = r
            prev = r or prev
    return out


def chart_timeline(data: ReportData, lang: str) -> dict[str, Any] | None:
    """Each area's level over time as a Gantt of contiguous periods."""
    import altair as alt
    import pandas as pd

    runs = _level_runs(plain(data.level_history), lang)
    if not runs:
        return None
    lab = labels(lang)
    n_areas = len({r["area"] for r in runs})
    chart = alt.Chart(pd.DataFrame(runs)).mark_bar().encode(
        x=alt.X("start:T", title=None, axis=alt.Axis(format="%Y", tickCount=4)), x2="end:T",
        y=alt.Y("area:N", title=None, axis=alt.Axis(labelLimit=110)),
        color=alt.Color("level:N", scale=_level_scale(), legend=_level_legend(lab["level"], lang)),
        tooltip=[alt.Tooltip("area:N", title=lab["area"]),
                 alt.Tooltip("level:N", title=lab["level"]),
                 alt.Tooltip("start:T", title=lab["start"]),
                 alt.Tooltip("end:T", title=lab["end"])])
    return _spec(chart.properties(width=560, height=16 * n_areas))


def chart_scaling(data: ReportData, lang: str) -> dict[str, Any] | None:
    """Loss against compute for the runs, coloured by kind (observed or fitted)."""
    import altair as alt
    import pandas as pd

    pts = [p for p in plain(data.scaling_points) if p.get("compute") and p.get("loss")]
    if not pts:
        return None
    df = pd.DataFrame(pts)
    if "kind" not in df:
        df["kind"] = "run"
    lab = labels(lang)
    chart = alt.Chart(df).mark_point().encode(
        x=alt.X("compute:Q", scale=alt.Scale(type="log"), title="C (FLOP)"),
        y=alt.Y("loss:Q", scale=alt.Scale(type="log", zero=False), title=lab["loss"]),
        color=alt.Color("kind:N", title=lab["kind"], legend=alt.Legend(**LEGEND)),
        tooltip=list(df.columns[:8]))
    return _spec(chart.properties(width=520, height=300))


CHART_ORDER = ("radar", "pyramid", "shares", "timeline", "scaling")
# the report sections each figure shows: it can be drawn once they are assembled
CHART_NEEDS = {"radar": ("matrix", "capability"), "pyramid": ("layers",),
               "shares": ("history",), "timeline": ("timeline",), "scaling": ("scaling",)}
_TITLES = {"radar": "radar", "pyramid": "pyramid", "shares": "shares_over_time",
           "timeline": "timeline", "scaling": "scaling"}


def chart_title(cid: str, lang: str) -> str:
    """A figure's title in `lang`."""
    return labels(lang)[_TITLES[cid]]


def chart(cid: str, data: ReportData, cfg: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """The Vega-Lite spec of figure `cid`, or None when it has no data."""
    if cid == "radar":
        return chart_radar(data, lang)
    if cid == "pyramid":
        return chart_pyramid(data, lang)
    if cid == "shares":
        return chart_shares(data, cfg, lang)
    if cid == "timeline":
        return chart_timeline(data, lang)
    return chart_scaling(data, lang)


def charts(data: ReportData, cfg: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The figures: id, title and Vega-Lite spec of every chart that has data."""
    made = [(cid, chart(cid, data, cfg, lang)) for cid in CHART_ORDER]
    return [{"id": cid, "title": chart_title(cid, lang), "spec": spec}
            for cid, spec in made if spec]


@cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script, from vl-convert (no network).

    Bundling takes seconds, so the result is kept in the user's cache folder, keyed by
    the vl-convert version; a missing or unwritable cache only costs the time.
    """
    import vl_convert as vlc

    from convergent.cache import cached_bytes

    js = cached_bytes(f"vega-bundle-{vlc.__version__}.js",
                      lambda: vlc.javascript_bundle().encode("utf-8")).decode("utf-8")
    return js.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def page_name(lang: str, langs: list[str]) -> str:
    """`index.html` for the report's main language, `index.<lang>.html` for the others."""
    return "index.html" if lang == langs[0] else f"index.{lang}.html"


def render_html(data: ReportData, cfg: dict[str, Any], lang: str,
                chart_specs: list[dict[str, Any]] | None = None,
                langs: list[str] | None = None,
                small: list[dict[str, Any]] | None = None) -> str:
    """The dashboard page in `lang`: every section of the report, fully self-contained."""
    from jinja2 import Environment, PackageLoader, select_autoescape
    from markupsafe import Markup

    from convergent.report import markdown as md

    langs = langs or [lang]
    env = Environment(loader=PackageLoader("convergent.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default=True))
    by_id = {c["id"]: c for c in (chart_specs if chart_specs is not None
                                  else charts(data, cfg, lang))}
    page_charts = {k: by_id[k] for k in ("radar", "pyramid", "timeline", "scaling")
                   if k in by_id}
    _, left_out = radar_points(data, lang)
    lab = labels(lang)
    notes = [{"name": lab.get(k, k), "status": v.status, "note": v.note}
             for k, v in data.sections.items() if v.status != "ok"]
    pred_heads, pred_cells = md.prediction_table(data, lang)
    scale_heads, scale_cells = md.generic_rows(
        data.scaling, lang, ["group", "form", "params", "loss", "n", "objective"])
    others = [{"lang": x, "href": page_name(x, langs), "label": "中文" if x == "zh" else "English"}
              for x in langs if x != lang]
    cells = {
        "level_cells": [[r["level_label"], r["criterion"], r["areas"], r["degree"] or "—",
                         r["stars"] or "—", r["controversy"], r["n"]]
                        for r in md.level_rows(data, cfg, lang)],
        "five_cells": [[r["name"], r["technical"], r["market"], r["predictability"], r["room"]]
                       for r in md.five_layer_rows(data, lang)],
        "driver_cells": [[d["group"], d["name"], d["value"] or "—", d["trend"] or "—",
                          d["window"], d["n"], d["status"]] for d in md.driver_rows(data, lang)],
        "forecast_cells": [[f["name"], f["target"], f["method"], f["share"], f["trend"], f["l3"],
                            f["l4"]] for f in md.forecast_rows(data, lang)],
    }
    return env.get_template("index.html.j2").render(**cells,
        L=lab, lang=lang, as_of=data.as_of.isoformat(), window=data.window_days,
        others=others, banner=md.staleness(data, lang), evidence_age=md.evidence_age(data, lang),
        overview=md.overview(data, lang), charts=page_charts,
        share_charts=small if small is not None else share_charts(data, cfg, lang),
        state=_state(data, lang),
        layer_lines=md.conclusions(data, lang), matrix=md.matrix_rows(data, lang),
        layer_names=md.layer_names(lang), drivers=md.driver_rows(data, lang),
        pred_heads=pred_heads, pred_cells=pred_cells,
        computed=md.conclusion_lines(data, lang), advice=md.advice_groups(data, lang),
        scale_heads=scale_heads, scale_cells=scale_cells, claims=md.claim_rows(data, lang),
        claim_tally=md.claim_tally(data, lang), sources=md.sources_by_area(data, lang),
        level_name=lambda lv: level_label(lv, lang), level_colors=LEVEL_COLORS,
        left_out=left_out, notes=notes, bundle=Markup(vega_bundle()))


def _state(data: ReportData, lang: str) -> Any:
    """The Markdown report's section state (empty when the section has data)."""
    from convergent.report.markdown import section_state

    return lambda name: section_state(data, name, lang)
