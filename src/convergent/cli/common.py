"""Options shared by the commands, defined once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from convergent.cli.render import Lang

DbOpt = Annotated[Path | None, typer.Option(
    "--db", help="DuckDB file with persistent evidence (default: in memory).")]
WriteDbOpt = Annotated[Path | None, typer.Option(
    "--db", help="DuckDB file the evidence is written to (created if absent).")]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help="YAML file overriding thresholds in the default config.")]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Classify as of this date (YYYY-MM-DD, YYYY-MM, YYYY-Qn, YYYY).")]
WindowOpt = Annotated[str | None, typer.Option(
    "--window", help="Trailing window, e.g. 12m, 18m, 2y, 180d (default from config).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="Print CSV.")]
LangOpt = Annotated[Lang, typer.Option("--lang", help="Label language.")]
NoCatalogOpt = Annotated[bool, typer.Option(
    "--no-catalog", envvar="CONVERGENT_NO_CATALOG",
    help="Analyse only your own evidence (--db): skip the built-in catalog.")]
BackendOpt = Annotated[str, typer.Option(
    "--backend", envvar="CONVERGENT_BACKEND",
    help="Engine for the analysis: duckdb (embedded) or pyspark (needs convergent\\[spark]).")]
SparkMasterOpt = Annotated[str | None, typer.Option(
    "--spark-master", envvar="SPARK_MASTER",
    help="Spark master URL for --backend pyspark, e.g. local[2] or spark://host:7077.")]
TablesOpt = Annotated[str | None, typer.Option(
    "--tables", "--spark-tables",
    help="Folder of Parquet evidence tables (adoptions/, segments/, entities/, ...) read in "
         "place and added to the --db evidence; with --backend pyspark any URI Spark reads.")]


class _State:
    """Options given before the command (`convergent --no-catalog classify ...`)."""

    builtin: bool = True
    backend: str = "duckdb"
    master: str | None = None
    tables: str | None = None


STATE = _State()


def open_cli_store(db: Path | None) -> Any:
    """The store a command reads: the `--db` file (or memory), with the built-in catalog
    unless `--no-catalog` was given, on `--backend`. Commands that write use
    `convergent.store.writing_store` instead."""
    from convergent.backends import open_analysis_store
    from convergent.errors import ConvergentError

    if db is not None and not db.expanduser().exists():
        raise ConvergentError("no such database file (an ingest or `convergent update` with "
                              "--db creates one)", where=str(db))
    return open_analysis_store(db, builtin=STATE.builtin, backend=STATE.backend,
                               master=STATE.master, tables=STATE.tables)


def writing_only() -> None:
    """Refuse the analysis-only global options in a command that writes the --db file,
    instead of silently ignoring them."""
    from convergent.errors import ConvergentError

    if STATE.tables:
        raise ConvergentError("--tables is read in place by the analysis commands; a "
                              "command that writes --db does not read it")
    if STATE.backend != "duckdb":
        raise ConvergentError("--backend applies to the analysis; commands that write always "
                              "write the DuckDB --db file")


def setup(db: Path | None, config: Path | None, as_of: str | None, window: str | None = None
          ) -> tuple[Any, dict[str, Any], dt.date, int]:
    """Settings, the open store, the as-of date (default: newest evidence) and the window
    length in days; the config is read first so a bad file fails before any work."""
    from convergent.classify import resolve_as_of
    from convergent.config import load_config
    from convergent.dates import months_to_days, parse_date, parse_window
    cfg = load_config(config)
    when = parse_date(as_of) if as_of else None
    length = parse_window(window) if window else months_to_days(cfg["window"]["months"])
    store = open_cli_store(db)
    return store, cfg, resolve_as_of(store, when), length
