"""`convergent report`: the Markdown report (zh/en), the HTML dashboard, figures and data."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from convergent.cli.common import AsOfOpt, ConfigOpt, DbOpt, WindowOpt


class ReportLang(StrEnum):
    """Which Markdown reports to write."""

    zh = "zh"
    en = "en"
    both = "both"


def report(
    out: Annotated[Path, typer.Option(
        "--out", help="Folder for the report (replaced atomically).")] = Path("convergent-report"),
    lang: Annotated[ReportLang, typer.Option(
        "--lang", help="zh: report.md in Chinese; en: in English; both: report.md (zh) "
                       "and report.en.md.")] = ReportLang.both,
    as_of: AsOfOpt = None,
    window: WindowOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    no_figures: Annotated[bool, typer.Option(
        "--no-figures", help="Skip the SVG/PNG figures (faster).")] = False,
) -> None:
    """Write the convergence report: report.md, index.html, figures/ and data/.

    Example: convergent report --out convergent-report --lang zh
    """
    import sys

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from convergent.classify import not_after_today
    from convergent.cli.common import open_cli_store
    from convergent.config import load_config
    from convergent.dates import parse_date, parse_window
    from convergent.report.write import TOTAL_STEPS, build_report

    cfg = load_config(config)
    when = not_after_today(parse_date(as_of)) if as_of else None
    length = parse_window(window) if window else None
    langs = ["zh", "en"] if lang == ReportLang.both else [lang.value]
    err = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/"
                  "{task.total}"), TimeElapsedColumn(), console=err, transient=True,
                  disable=not err.is_terminal) as bar:
        task = bar.add_task("loading evidence", total=TOTAL_STEPS + 1)
        store = open_cli_store(db)
        bar.advance(task)

        def step(name: str) -> None:
            bar.update(task, advance=1, description=name)

        folder, data = build_report(store, cfg, out, langs=langs, as_of=when,
                                    window_days=length, figures=not no_figures, progress=step)
    for w in data.warnings:
        err.print(f"warning: {w}", markup=False, highlight=False)
    sys.stdout.write(f"{folder}\n")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("report")(report)
