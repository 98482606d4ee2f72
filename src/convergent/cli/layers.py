"""`convergent layers`, `convergent drivers` and `convergent advice`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from convergent.cli.common import (
    AsOfOpt,
    ConfigOpt,
    CsvOpt,
    DbOpt,
    JsonOpt,
    LangOpt,
    WindowOpt,
    setup,
)
from convergent.cli.render import Lang, emit

if TYPE_CHECKING:
    import datetime as dt

    from convergent.classify import Classifier
    from convergent.store import Store


def _results(store: Store, cfg: dict[str, Any], when: dt.date, length: int,
             clf: Classifier | None = None) -> list[dict[str, Any]]:
    """Share-area classifications plus the capability (benchmark) rows."""
    from convergent.analysis import capability_rows
    from convergent.classify import Classifier

    clf = clf or Classifier(store, cfg)
    return ([r.to_dict() for r in clf.classify(when, length)]
            + capability_rows(store, when, cfg, window_days=length))


def layers(
    as_of: AsOfOpt = None,
    window: WindowOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json: JsonOpt = False,
    csv: CsvOpt = False,
    lang: LangOpt = Lang.en,
    mermaid: Annotated[bool, typer.Option(
        "--mermaid", help="Print the pyramid as a Mermaid graph only.")] = False,
    five_layer: Annotated[bool, typer.Option(
        "--five-layer", help="With --csv: print the five-layer table instead of the layers.")
    ] = False,
) -> None:
    """Print the convergence pyramid (each layer's score and level) and the five-layer table.

    Example: convergent layers --lang zh
    """
    from convergent.analysis import layer_predictability
    from convergent.classify import Classifier
    from convergent.layers import five_layer_table, layer_scores, pyramid_mermaid
    from convergent.report.markdown import fmt_predictability

    store, cfg, when, length = setup(db, config, as_of, window)
    clf = Classifier(store, cfg)
    results = _results(store, cfg, when, length, clf)
    rows = layer_scores(results, cfg)
    _, pred = layer_predictability(store, cfg, clf, when)
    table = five_layer_table(store, results, when, cfg, predictability=pred, length=length)
    graph = pyramid_mermaid(rows, lang.value)
    if mermaid:
        typer.echo(graph, nl=False)
        return
    if json:
        emit([], as_json=True, data={"as_of": when, "window_days": length, "layers": rows,
                                     "five_layer_table": table, "mermaid": graph})
        return
    if csv:
        emit(table if five_layer else [{k: v for k, v in r.items() if k != "areas"}
                                       for r in rows], as_csv=True)
        return
    zh = lang == Lang.zh
    pyramid = [{
        "layer": r["name_zh"] if zh else r["name_en"],
        "level": (r["level"] if r["score"] is None else
                  f"{r['level']} {r['level_zh'] if zh else r['level_en']}")
        if r["score"] is not None else ("无证据" if zh else r["level"]),
        "score": None if r["score"] is None else f"{r['score']:.0f}%",
        "areas": f"{r['n_classified']}/{r['n_areas']}",
        "unconverged": ", ".join(f"{a['name_zh'] if zh else a['name_en']} {a['level']}"
                                 for a in r["unconverged"]),
    } for r in reversed(rows)]
    heads = (["层", "收敛层级", "收敛度", "已分类领域", "未收敛领域"] if zh else
             ["layer", "level", "score", "classified areas", "unconverged areas"])
    keys = ["layer", "level", "score", "areas", "unconverged"]
    emit(pyramid, columns=list(zip(keys, heads, strict=True)),
         title=(f"收敛金字塔 — 截至 {when}" if zh else f"Convergence pyramid — as of {when}"))
    five = []
    for r in table:
        pred = fmt_predictability(r["predictability"], lang.value)
        level = r["level"] if r["score"] is not None else ("无证据" if zh else r["level"])
        five.append({
            "layer": f"{r['name_zh'] if zh else r['name_en']} ({level})",
            "technical": r["technical_zh"] if zh else r["technical_en"],
            "market": r["market_zh"] if zh else r["market_en"],
            "predictability": pred,
            "room": r["room_zh"] if zh else r["room_en"],
        })
    heads = (["收敛层次", "技术表现", "市场格局", "可预测性", "改进空间"] if zh else
             ["layer", "technical picture", "market structure", "predictability",
              "room for improvement"])
    keys = ["layer", "technical", "market", "predictability", "room"]
    emit(five, columns=list(zip(keys, heads, strict=True)),
         title="收敛层次分析（信通院框架）" if zh else "Five-layer analysis (CAICT framework)")


def _fmt(x: Any, unit: str) -> str:
    if x is None:
        return "—"
    if x == float("inf"):
        return "∞"
    if unit == "share":
        return f"{x:.0%}"
    if unit == "x/year":
        return f"{x:.2f}×/yr"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


_UNIT_ZH = {"organisations": "家机构", "bits": "比特", "months": "个月",
            "organisations/year": "家/年", "bits/year": "比特/年", "share/year": "占比/年",
            "HHI points/year": "HHI/年"}


def drivers(
    as_of: AsOfOpt = None,
    window: WindowOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json: JsonOpt = False,
    csv: CsvOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Print the measured convergence drivers: value, interval or trend, window and source.

    Example: convergent drivers --window 24m --json
    """
    from convergent.drivers import GROUPS, INSUFFICIENT
    from convergent.drivers import drivers as measure

    store, cfg, when, length = setup(db, config, as_of, window)
    rows = measure(store, when, cfg, length)
    if json:
        emit(rows, as_json=True, data=rows)
        return
    if csv:
        flat = []
        for r in rows:
            f = {k: v for k, v in r.items() if k not in ("interval", "trend_interval",
                                                          "window", "source")}
            f["name"] = r["name_zh"] if lang == Lang.zh else r["name_en"]
            f["interval_lo"], f["interval_hi"] = (r["interval"] or [None, None])
            f["trend_lo"], f["trend_hi"] = (r["trend_interval"] or [None, None])
            f["window_start"], f["window_end"] = r["window"]["start"], r["window"]["end"]
            f["origins"] = ";".join(r["source"]["origins"])
            f["n_sources"] = r["source"]["n_sources"]
            flat.append(f)
        emit(flat, as_csv=True)
        return
    zh = lang == Lang.zh
    table = []
    for r in rows:
        unit = r["unit"]
        if r["status"] == INSUFFICIENT:
            value = "数据不足" if zh else INSUFFICIENT
        else:
            shown = _UNIT_ZH.get(unit, unit) if zh else unit
            value = _fmt(r["value"], unit) + ("" if unit in ("share", "x/year") else f" {shown}")
        iv = r["interval"]
        tr = r["trend"]
        tunit = _UNIT_ZH.get(r["trend_unit"], r["trend_unit"]) if zh else r["trend_unit"]
        table.append({
            "group": GROUPS[r["group"]] if zh else r["group"],
            "name": r["name_zh"] if zh else r["name_en"],
            "value": value,
            "interval": f"[{_fmt(iv[0], unit)}, {_fmt(iv[1], unit)}]" if iv else None,
            "trend": None if tr is None else f"{'+' if tr >= 0 else ''}{_fmt(tr, '')} {tunit}",
            "window": f"{r['window']['start']}..{r['window']['end']}",
            "n": r["n"],
            "source": ", ".join(r["source"]["origins"]),
        })
    heads = (["驱动力", "指标", "数值", "区间", "趋势", "窗口", "n", "来源"] if zh else
             ["group", "indicator", "value", "interval", "trend", "window", "n", "source"])
    keys = ["group", "name", "value", "interval", "trend", "window", "n", "source"]
    emit(table, columns=list(zip(keys, heads, strict=True)),
         title=f"收敛驱动力 — 截至 {when}" if zh else f"Convergence drivers — as of {when}")


def advice(
    area: Annotated[list[str] | None, typer.Option(
        "--area", help="Only these areas (repeatable).")] = None,
    as_of: AsOfOpt = None,
    window: WindowOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json: JsonOpt = False,
    csv: CsvOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Print advice per area: adopt, participate and hedge, or explore; cites level, certainty.

    Example: convergent advice --area ffn --lang en
    """
    from convergent.advice import advise
    from convergent.levels import stars_text as stars
    from convergent.registry import get_area

    store, cfg, when, length = setup(db, config, as_of, window)
    wanted = {get_area(a).area_id for a in area} if area else None
    results = [r for r in _results(store, cfg, when, length)
               if wanted is None or r.get("area") in wanted]
    rows = advise(results, cfg, lang.value)
    if json or csv:
        emit(rows, as_json=json, as_csv=csv)
        return
    zh = lang == Lang.zh
    table = [{
        "area": r["name_zh"] if zh else r["name_en"], "level": r["level"],
        "stars": stars(r["stars"]) if r["action"] != "none" else None,
        "action": r["action_label"], "text": r["text"],
    } for r in rows]
    heads = ["领域", "收敛层级", "确定性", "建议", "说明"] if zh else \
        ["area", "level", "certainty", "action", "advice"]
    emit(table, columns=list(zip(["area", "level", "stars", "action", "text"], heads,
                                 strict=True)),
         title=f"实用建议 — 截至 {when}" if zh else f"Advice — as of {when}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("layers")(layers)
    app.command("drivers")(drivers)
    app.command("advice")(advice)
