"""Options shared by the commands, defined once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from convergent.cli.render import Lang

DbOpt = Annotated[Path | None, typer.Option(
    "--db", help="DuckDB file with persistent evidence (default: in memory).")]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help="YAML file overriding thresholds in the default config.")]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Classify as of this date (YYYY-MM-DD, YYYY-MM, YYYY-Qn, YYYY).")]
WindowOpt = Annotated[str | None, typer.Option(
    "--window", help="Trailing window, e.g. 12m, 18m, 2y, 180d (default from config).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV.")]
LangOpt = Annotated[Lang, typer.Option("--lang", help="Label language.")]
