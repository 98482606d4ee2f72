"""`convergent areas` and `convergent classify`: the registry and the L0–L4 matrix."""

from __future__ import annotations

from typing import Annotated

import typer

from convergent.cli.common import AsOfOpt, ConfigOpt, CsvOpt, DbOpt, JsonOpt, LangOpt, WindowOpt
from convergent.cli.render import Lang, emit, fmt_cell


def areas(json: JsonOpt = False, csv: CsvOpt = False, lang: LangOpt = Lang.en) -> None:
    """List the decision areas with their layer and options.

    Example: convergent areas --lang zh
    """
    from convergent.registry import registry

    reg = registry()
    rows = [{
        "area": a.area_id, "layer": a.layer,
        "name": a.zh if lang == Lang.zh else a.en, "kind": a.kind,
        "options": list(a.options) if a.options else
        (["(any organisation)"] if a.open_options else [f"benchmark {a.benchmark}"]),
    } for a in sorted(reg.areas.values(), key=lambda a: (reg.layers[a.layer].order, a.area_id))]
    emit(rows, as_json=json, as_csv=csv, title="Decision areas",
         columns=[("area", "area"), ("layer", "layer"), ("name", "name"), ("options", "options")])


def classify(
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
    """Print the classification matrix: level, criterion, leader, degree, certainty ★, n.

    Example: convergent classify --as-of 2025-12-31 --area optimizer --area ffn
    """
    from convergent.analysis import classification_matrix
    from convergent.cli.common import open_cli_store
    from convergent.config import load_config
    from convergent.dates import parse_date, parse_window
    from convergent.levels import LEVEL_NAMES, stars_text
    from convergent.registry import registry

    cfg = load_config(config)
    when = parse_date(as_of) if as_of else None
    length = parse_window(window) if window else None
    rows = classification_matrix(db, when, length, area, cfg, store=open_cli_store(db))
    when = rows[0]["as_of"] if rows else when
    if json or csv:
        emit(rows, as_json=json, as_csv=csv)
        return
    zh = lang == Lang.zh
    reg = registry()
    pp = "个百分点/年" if zh else "pp/yr"
    table = []
    for r in rows:
        name = LEVEL_NAMES[r["level"]][0 if zh else 1]
        chal = r.get("challenger")
        trend = r.get("challenger_trend_pp")
        if r.get("kind") == "capability" and r.get("open_closed_gap_pts") is not None:
            chal, trend = open_closed_text(float(r["open_closed_gap_pts"]), zh), None
        layer = reg.layers.get(r["layer"])
        leader = r.get("leader")
        if r.get("leader_share") is not None:
            leader = f"{leader} {r['leader_share']:.0%}"
        elif leader and r.get("top") is not None:
            leader = f"{leader} {fmt_cell(float(r['top']))}"
        table.append({
            "area": r["name_zh"] if zh else r["name_en"],
            "layer": (layer.zh if zh else layer.en) if layer else r["layer"],
            "level": f"{r['level']} {name}" if r["level"] != "insufficient" else name,
            "criterion": r["criterion_zh"] if zh else r["criterion"],
            "leader": leader,
            "degree": None if r["degree"] is None else f"{r['degree']:.0f}%",
            "stars": stars_text(None if r["level"] == "insufficient" else r.get("stars")),
            "controversy": (f"{chal} ({trend:+.1f} {pp})" if chal and trend is not None
                            else chal),
            "n": r["n"],
        })
    heads_zh = ["领域", "层", "收敛层级", "判据", "领先方案", "收敛度", "确定性", "争议焦点", "n"]
    heads_en = ["area", "layer", "level", "criterion", "leader", "degree", "certainty",
                "controversy", "n"]
    heads = heads_zh if zh else heads_en
    keys = ["area", "layer", "level", "criterion", "leader", "degree", "stars", "controversy", "n"]
    emit(table, columns=list(zip(keys, heads, strict=True)),
         title=f"{'收敛模型分类矩阵' if zh else 'Classification matrix'} — "
               f"{'截至' if zh else 'as of'} {when.isoformat()}")


def open_closed_text(gap: float, zh: bool) -> str:
    """The best closed model's lead over the best open one, said the right way round."""
    if abs(gap) < 0.05:
        return "开源与闭源持平" if zh else "open and closed level"
    if gap > 0:
        return f"闭源领先开源 {gap:.1f} 分" if zh else f"closed leads open by {gap:.1f} pts"
    return f"开源领先闭源 {-gap:.1f} 分" if zh else f"open leads closed by {-gap:.1f} pts"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("areas")(areas)
    app.command("classify")(classify)
