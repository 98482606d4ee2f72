"""`convergent predictions`: the prediction registry, its status and Brier scores."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from convergent.cli.common import AsOfOpt, ConfigOpt, CsvOpt, DbOpt, JsonOpt, LangOpt, setup
from convergent.cli.render import Lang, emit


def predictions(
    registry_file: Annotated[Path | None, typer.Option(
        "--registry", help="YAML file with your own predictions (added to the packaged ones).")
    ] = None,
    only_file: Annotated[bool, typer.Option(
        "--only-file", help="Show only the predictions of --registry, not the packaged ones.")
    ] = False,
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    json: JsonOpt = False,
    csv: CsvOpt = False,
    lang: LangOpt = Lang.en,
) -> None:
    """Each prediction's status, the current value of its metric, and Brier scores (only
    for stated probabilities). Without --as-of the registry is read as of today.

    Example: convergent predictions --registry mine.yaml --as-of 2026-06-30
    """
    from convergent.errors import ConvergentError
    from convergent.forecast.predictions import brier_summary, evaluate_predictions, load_registry

    if only_file and registry_file is None:
        raise ConvergentError("--only-file needs --registry FILE")
    load_registry(registry_file, include_packaged=not only_file)
    store, cfg, when, _ = setup(db, config, as_of)
    clock = when if as_of else dt.date.today()
    rows = evaluate_predictions(store, cfg, registry_file, clock,
                                include_packaged=not only_file)
    summ = brier_summary(rows)
    if json:
        emit(rows, as_json=True, data={"as_of": clock, "predictions": rows, "summary": summ})
        return
    if csv:
        emit(rows, as_csv=True)
        return
    zh = lang == Lang.zh
    table = []
    for r in rows:
        value = r["value"]
        if isinstance(value, float):
            value = f"{value:.3g}"
        outcome = None if r["outcome"] is None else ("✓" if r["outcome"] else "✗")
        table.append({
            "id": r["id"], "statement": r["statement_zh"] if zh else r["statement_en"],
            "due": r["due"],
            "p": "—" if r["probability"] is None else f"{r['probability']:.2f}",
            "resolver": r["condition"] or ("人工" if zh else "manual"),
            "value": value, "status": r["status"] + (f" {outcome}" if outcome else ""),
            "brier": None if r["brier"] is None else f"{r['brier']:.3f}",
        })
    heads = (["编号", "预测", "到期", "概率", "判定", "当前值", "状态", "Brier"] if zh else
             ["id", "statement", "due", "p", "resolver", "current value", "status", "Brier"])
    keys = ["id", "statement", "due", "p", "resolver", "value", "status", "brier"]
    emit(table, columns=list(zip(keys, heads, strict=True)),
         title=f"{'预测登记' if zh else 'Prediction registry'} — "
               f"{'截至' if zh else 'as of'} {clock.isoformat()}")
    mean = summ["mean_brier"]
    typer.echo(f"{'已判定' if zh else 'resolved'} {summ['resolved']} "
               f"({'有概率' if zh else 'with a probability'} {summ['scored']}), "
               f"{'无法判定' if zh else 'undetermined'} {summ['undetermined']}, "
               f"{'未到期' if zh else 'open'} {summ['open']}; "
               f"{'平均 Brier' if zh else 'mean Brier'} "
               f"{'—' if mean is None else f'{mean:.3f}'}")


def register(app: typer.Typer) -> None:
    """Add the `predictions` command to the main app."""
    app.command("predictions")(predictions)
