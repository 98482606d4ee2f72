"""`convergent forecast`: S-curve crossings, back-tests, level history and the timeline."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from convergent.cli.common import AsOfOpt, ConfigOpt, CsvOpt, DbOpt, JsonOpt, LangOpt, setup
from convergent.cli.render import Lang, emit

app = typer.Typer(
    help="S-curve forecasts of when areas converge, back-tests, history and the timeline. "
         "Without a subcommand: the forecast per area.",
    invoke_without_command=True,
)

AreaOpt = Annotated[list[str] | None, typer.Option("--area", help="Only these areas (repeatable).")]
FromOpt = Annotated[str | None, typer.Option(
    "--from", help="First quarter of the history (default 2023-01-01, as in the seed).")]
BootOpt = Annotated[int | None, typer.Option(
    "--bootstrap", help="Bootstrap resamples for the intervals (default from config; 0: none).")]
NoSegOpt = Annotated[bool, typer.Option(
    "--no-segments", help="Skip segment tables in the history: much faster, no L0 detection.")]


def _month(d: dt.date | None) -> str:
    return d.strftime("%Y-%m") if d else "…"


def crossing_text(cell: dict[str, Any], zh: bool) -> str:
    """One crossing as short text: date with interval, reached, or not within horizon."""
    status = cell["status"]
    if status == "reached":
        return f"{'已达到' if zh else 'reached'} {_month(cell['date'])}"
    if status == "forecast":
        lo, hi = cell.get("low"), cell.get("high")
        span = f" [{_month(lo)}–{_month(hi)}]" if cell.get("p_cross") is not None else ""
        return f"{_month(cell['date'])}{span}"
    if status.startswith("not within"):
        return status.replace("not within ", "").replace(" years", " 年内不会达到") if zh \
            else status
    return "无拟合" if zh else "no fit"


@app.callback(invoke_without_command=True)
def forecast(
    ctx: typer.Context,
    area: AreaOpt = None,
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    bootstrap: BootOpt = None,
    json: JsonOpt = False,
    csv: CsvOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Per area: the fitted S-curve and when the leader (or a challenger taking over)
    crosses the L3 (0.90) and L4 (0.95) shares, with bootstrap intervals."""
    if ctx.invoked_subcommand is not None:
        return
    from convergent.forecast.crossings import forecast_areas

    store, cfg, when, _ = setup(db, config, as_of)
    rows = forecast_areas(store, when, cfg, areas=area, bootstrap=bootstrap)
    if json or csv:
        if csv:
            rows = [_flat(r) for r in rows]
        emit(rows, as_json=json, as_csv=csv)
        return
    zh = lang == Lang.zh
    table = []
    for r in rows:
        lead = (f"{r['leader']} {r['leader_share']:.0%}" if r["leader_share"] is not None
                else "—")
        target = r["target"] if r["target_role"] != "challenger" else \
            f"{r['target']} ({'接管' if zh else 'takes over'} {_month(r['takeover'])})"
        table.append({
            "area": r["name_zh"] if zh else r["name_en"], "layer": r["layer"], "leader": lead,
            "target": target if r["fit"] == "ok" else "—",
            "method": r["method"] or "—",
            "trend": None if r["trend_pp"] is None else f"{r['trend_pp']:+.1f}",
            "c90": crossing_text(r["cross_90"], zh), "c95": crossing_text(r["cross_95"], zh),
            "note": r["no_fit_reason"] or "",
        })
    heads = (["领域", "层", "领先方案", "预测对象", "方法", "趋势 pp/年", "≥90%", "≥95%", "说明"]
             if zh else ["area", "layer", "leader", "target", "method", "trend pp/yr",
                         "≥90% share", "≥95% share", "note"])
    keys = ["area", "layer", "leader", "target", "method", "trend", "c90", "c95", "note"]
    emit(table, columns=list(zip(keys, heads, strict=True)),
         title=f"{'收敛时间预测' if zh else 'Convergence forecasts'} — "
               f"{'截至' if zh else 'as of'} {when.isoformat()}")


def _flat(r: dict[str, Any]) -> dict[str, Any]:
    """A forecast row with its crossing cells spread into columns (for CSV)."""
    out = {k: v for k, v in r.items() if k not in ("cross_90", "cross_95", "adoption")}
    for key in ("cross_90", "cross_95"):
        for sub in ("status", "date", "low", "high", "p_cross"):
            out[f"{key}_{sub}"] = r[key][sub]
    return out


@app.command("backtest")
def backtest_cmd(
    db: DbOpt = None,
    config: ConfigOpt = None,
    json: JsonOpt = False,
    csv: CsvOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Back-test every method against persistence and a linear trend (MAE, skill)."""
    from convergent.classify import Classifier
    from convergent.forecast.backtest import backtest, predictability, summary

    store, cfg, when, _ = setup(db, config, None)
    rows = backtest(store, cfg, clf=Classifier(store, cfg), data_end=when)
    summ = summary(rows)
    if json:
        emit([], as_json=True, data={
            "data_end": when, "summary": summ,
            "predictability": {"areas": predictability(rows, "area", cfg=cfg),
                               "layers": predictability(rows, "layer", cfg=cfg)},
            "cases": rows})
        return
    if csv:
        emit(summ, as_csv=True)
        return
    zh = lang == Lang.zh
    table = [{**s, "mae": f"{s['mae']:.3f}",
              "skill": None if s["skill"] != s["skill"] else f"{s['skill']:+.2f}"}
             for s in summ]
    heads = (["方法", "提前(年)", "案例", "无拟合", "MAE", "相对持续性技能"] if zh else
             ["method", "horizon (yr)", "cases", "no fit", "MAE", "skill vs persistence"])
    keys = ["method", "horizon", "cases", "no_fit", "mae", "skill"]
    emit(table, columns=list(zip(keys, heads, strict=True)),
         title=f"{'回测' if zh else 'Back-test'} — "
               f"{'数据截至' if zh else 'evidence to'} {when.isoformat()}")
    pred = predictability(rows, "layer", cfg=cfg)
    prow = [{"layer": k, "stars": "★" * v["stars"] + "☆" * (5 - v["stars"]),
             "mae": f"{v['mae']:.3f}", "cases": v["cases"]} for k, v in pred.items()]
    emit(prow, columns=[("layer", "层" if zh else "layer"),
                        ("stars", "可预测性" if zh else "predictability"),
                        ("mae", "MAE (auto, 1 yr)"), ("cases", "案例" if zh else "cases")],
         title="可预测性" if zh else "Predictability by layer")


@app.command("history")
def history_cmd(
    start: FromOpt = None,
    as_of: AsOfOpt = None,
    quarterly: Annotated[bool, typer.Option(
        "--quarterly", help="One row per area and quarter instead of phases.")] = False,
    no_segments: NoSegOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json: JsonOpt = False,
    csv: CsvOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """The level of every area quarter by quarter, compressed into phases."""
    from convergent.dates import parse_date
    from convergent.forecast.history import level_history, phases

    store, cfg, when, _ = setup(db, config, as_of)
    first = parse_date(start) if start else dt.date(2023, 1, 1)
    hist = level_history(store, cfg, first, when, segments=not no_segments)
    rows = hist if quarterly else phases(hist)
    if json or csv:
        emit(rows, as_json=json, as_csv=csv)
        return
    zh = lang == Lang.zh
    name = "name_zh" if zh else "name_en"
    if quarterly:
        cols = [(name, "领域" if zh else "area"), ("date", "季度末" if zh else "quarter end"),
                ("level", "层级" if zh else "level"), ("leader", "领先" if zh else "leader"),
                ("leader_share", "份额" if zh else "share"), ("n", "n")]
    else:
        cols = [(name, "领域" if zh else "area"), ("level", "层级" if zh else "level"),
                ("leader", "领先" if zh else "leader"), ("start", "开始" if zh else "from"),
                ("end", "结束" if zh else "to"), ("quarters", "季度数" if zh else "quarters")]
    emit(rows, columns=cols, title=("收敛层级历史" if zh else "Level history")
         + f" {first.isoformat()} – {when.isoformat()}")


@app.command("timeline")
def timeline_cmd(
    start: FromOpt = None,
    as_of: AsOfOpt = None,
    until: Annotated[str | None, typer.Option(
        "--until", help="Leave out forecast crossings after this date.")] = None,
    no_segments: NoSegOpt = False,
    bootstrap: BootOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json: JsonOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Print the convergence timeline as a Mermaid gantt chart (like the seed's §七)."""
    import sys

    from convergent.dates import parse_date
    from convergent.forecast.timeline import gantt

    store, cfg, when, _ = setup(db, config, as_of)
    text, rows = gantt(store, cfg, when, parse_date(start) if start else None, lang.value,
                       segments=not no_segments, bootstrap=bootstrap,
                       until=parse_date(until) if until else None)
    if json:
        emit([], as_json=True, data={"as_of": when, "mermaid": text, "rows": rows})
        return
    sys.stdout.write(text)
