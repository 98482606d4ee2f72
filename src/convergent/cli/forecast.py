"""`convergent forecast`: S-curve crossings, back-tests, level history and the timeline."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import typer

from convergent.cli.common import AsOfOpt, ConfigOpt, CsvOpt, DbOpt, JsonOpt, LangOpt, setup
from convergent.cli.render import Lang, emit

app = typer.Typer(
    help="Share forecasts per area 1 and 2 years ahead, their back-tests, the level history "
         "and the timeline. Without a subcommand: the forecast per area.\n\n"
         "Example: convergent forecast --area attention --json",
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
    if status == "no forecast skill":
        return "无预测技能" if zh else status
    return "无拟合" if zh else "no fit"


def share_text(r: dict[str, Any], h: int) -> str:
    """The target's forecast share `h` years ahead with its interval, or "—"."""
    cell = next((s for s in r["shares"] if s["horizon"] == h), None)
    if cell is None or r["target"] not in cell["shares"]:
        return "—"
    k = r["target"]
    iv = (f" [{cell['low'][k]:.0%}–{cell['high'][k]:.0%}]" if cell["low"] is not None
          else "")
    return f"{cell['shares'][k]:.0%}{iv}"


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
    """Per area: the forecast share vector 1 and 2 years ahead (every option and "other",
    with 90 % intervals) and when the leader (or a challenger taking over) crosses the L3
    and L4 shares; areas where the back-test shows no skill get persistence instead.

    Example: convergent forecast --area attention --as-of 2025-12-31 --json
    """
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
            "target": target if r["target"] else "—",
            "method": r["method"] or "—",
            "trend": None if r["trend_pp"] is None else f"{r['trend_pp']:+.1f}",
            "s1": share_text(r, 1), "s2": share_text(r, 2),
            "c90": crossing_text(r["cross_90"], zh), "c95": crossing_text(r["cross_95"], zh),
            "note": r["no_fit_reason"] or "",
        })
    heads = (["领域", "层", "领先方案", "预测对象", "方法", "趋势 pp/年", "1 年后", "2 年后",
              "≥90%", "≥95%", "说明"]
             if zh else ["area", "layer", "leader", "target", "method", "trend pp/yr",
                         "in 1 yr", "in 2 yr", "≥90% share", "≥95% share", "note"])
    keys = ["area", "layer", "leader", "target", "method", "trend", "s1", "s2", "c90", "c95",
            "note"]
    emit(table, columns=list(zip(keys, heads, strict=True)),
         title=f"{'收敛时间预测' if zh else 'Convergence forecasts'} — "
               f"{'截至' if zh else 'as of'} {when.isoformat()}")


def _flat(r: dict[str, Any]) -> dict[str, Any]:
    """A forecast row with its crossing cells spread into columns (for CSV)."""
    drop = ("cross_90", "cross_95", "adoption", "shares", "components", "skill",
            "default_method")
    out = {k: v for k, v in r.items() if k not in drop}
    for key in ("cross_90", "cross_95"):
        for sub in ("status", "date", "low", "high", "p_cross"):
            out[f"{key}_{sub}"] = r[key][sub]
    for cell in r["shares"]:
        h = cell["horizon"]
        out[f"method_{h}y"] = cell["method"]
        for label, v in cell["shares"].items():
            out[f"share_{h}y_{label}"] = v
            out[f"low_{h}y_{label}"] = None if cell["low"] is None else cell["low"][label]
            out[f"high_{h}y_{label}"] = None if cell["high"] is None else cell["high"][label]
    return out


@app.command("backtest")
def backtest_cmd(
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json: JsonOpt = False,
    csv: CsvOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Rolling-origin back-test of the share-vector forecasts against persistence and a
    linear trend: MAE, skill and 90 % interval coverage, pooled and per area.

    Example: convergent forecast backtest --as-of 2023-12-31 --json
    """
    from convergent.classify import Classifier
    from convergent.forecast.backtest import predictability, report, run

    store, cfg, when, _ = setup(db, config, as_of)
    result = run(store, cfg, Classifier(store, cfg), when)
    rep = report(result)
    rows = result["rows"]
    if json:
        emit([], as_json=True, data={
            **rep, "predictability": {"areas": predictability(rows, "area", cfg=cfg),
                                      "layers": predictability(rows, "layer", cfg=cfg)},
            "rows": rows})
        return
    if csv:
        emit(rep["pooled"], as_csv=True)
        return
    zh = lang == Lang.zh

    def pct(x: float | None, fmt: str) -> str | None:
        return None if x is None else format(x, fmt)

    table = [{**s, "mae": f"{s['mae']:.4f}", "skill": pct(s["skill"], "+.3f"),
              "coverage": pct(s["coverage"], ".0%")} for s in rep["pooled"]]
    heads = (["方法", "提前(年)", "案例", "MAE", "相对持续性技能", "90% 区间覆盖率"] if zh else
             ["method", "horizon (yr)", "cases", "MAE", "skill vs persistence",
              "90% coverage"])
    keys = ["method", "horizon", "cases", "mae", "skill", "coverage"]
    emit(table, columns=list(zip(keys, heads, strict=True)),
         title=f"{'回测' if zh else 'Back-test'} — "
               f"{'截至' if zh else 'as of'} {when.isoformat()}")
    chosen = ", ".join(f"{h} yr: {m}" for h, m in rep["default_method"].items())
    typer.echo(f"{'默认方法' if zh else 'default method'}: {chosen}")
    auto = [s for s in rep["areas"] if s["method"] == "auto"]
    arow = [{"area": s["area"], "horizon": s["horizon"], "cases": s["cases"],
             "mae": f"{s['mae']:.4f}", "skill": pct(s["skill"], "+.2f")} for s in auto]
    emit(arow, columns=[("area", "领域" if zh else "area"),
                        ("horizon", "提前(年)" if zh else "horizon (yr)"),
                        ("cases", "案例" if zh else "cases"), ("mae", "MAE (auto)"),
                        ("skill", "技能" if zh else "skill")],
         title="各领域" if zh else "Per area (auto)")


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
    """The level of every area quarter by quarter, compressed into phases.

    Example: convergent forecast history --from 2023-01-01 --quarterly
    """
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
    """Print the convergence timeline as a Mermaid gantt chart (like the seed's §七).

    Example: convergent forecast timeline --until 2030-12-31 > timeline.mmd
    """
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
