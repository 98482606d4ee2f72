"""`convergent ingest SOURCE PATH|URL`: import users' evidence into the store."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from convergent.cli.common import JsonOpt, WriteDbOpt

app = typer.Typer(help="Import evidence (epoch, hf-config, benchmarks, runs) into the store.",
                  no_args_is_help=True)

PathArg = Annotated[str, typer.Argument(
    help="File or folder, or an http(s) URL (the only case that uses the network).",
    metavar="PATH|URL")]
SkipOpt = Annotated[bool, typer.Option(
    "--skip-bad-rows", help="Drop invalid rows (each one is reported) instead of failing.")]
SnapOpt = Annotated[str | None, typer.Option(
    "--snapshot", help="Snapshot date YYYY-MM-DD (default: file date, or Last-Modified).")]
AnyDateOpt = Annotated[bool, typer.Option(
    "--allow-any-date", help="Keep dates before 1950 or more than a year ahead (refused "
    "by default as typos).")]


def _run(source: str, path: str, db: Path | None, skip_bad_rows: bool, snapshot: str | None,
         as_json: bool, models: list[str] | None = None, allow_any_date: bool = False) -> None:
    """Open the store, ingest, and print the report; conflicts and skips go to stderr."""
    from convergent.cli.common import STATE, writing_only
    from convergent.cli.render import emit
    from convergent.dates import check_plausible, parse_iso
    from convergent.errors import ConvergentError
    from convergent.ingest import ingest
    from convergent.store import writing_store

    writing_only()
    snap = None
    if snapshot is not None:
        snap = parse_iso(snapshot)
        if snap is None:
            raise ConvergentError(f"--snapshot {snapshot!r} is not a date YYYY-MM-DD")
        check_plausible(snap, "--snapshot", allow_any=allow_any_date)
    with writing_store(db, builtin=STATE.builtin) as store:
        report = ingest(store, source, path, skip_bad_rows, snapshot=snap, models=models or [],
                        allow_any_date=allow_any_date)
    data = report.as_dict()
    if as_json:
        emit([], as_json=True, data=data)
        return
    rows = [{"measure": k, "value": data[k]} for k in
            ("rows_read", "added", "updated", "unchanged", "skipped", "matched")]
    rows.append({"measure": "conflicts", "value": len(report.conflicts)})
    emit(rows, columns=[("measure", "measure"), ("value", "value")],
         title=f"ingest {report.source}: {report.path} (snapshot {report.snapshot})")
    for c in report.conflicts:
        sys.stderr.write(f"conflict: {c['entity_id']} {c['field']}: kept {c['kept']}, "
                         f"ingested {c['ingested']} (row {c['row']})\n")
    for msg in report.skipped_rows:
        sys.stderr.write(f"skipped: {msg}\n")


@app.command("epoch")
def epoch_cmd(path: PathArg, db: WriteDbOpt = None, skip_bad_rows: SkipOpt = False,
              snapshot: SnapOpt = None, as_json: JsonOpt = False,
              allow_any_date: AnyDateOpt = False) -> None:
    """Epoch AI model database CSV (Notable, Large-scale or All models).

    Example: convergent ingest epoch notable_ai_models.csv --db evidence.duckdb
    """
    _run("epoch", path, db, skip_bad_rows, snapshot, as_json, allow_any_date=allow_any_date)


@app.command("hf-config")
def hf_config_cmd(
    path: PathArg, db: WriteDbOpt = None, skip_bad_rows: SkipOpt = False,
    snapshot: SnapOpt = None, as_json: JsonOpt = False,
    model: Annotated[list[str] | None, typer.Option(
        "--model", help="Model id ORG/NAME to fetch from a base URL (repeatable).")] = None,
) -> None:
    """Hugging Face config.json files: a file, a folder, or a base URL with --model ids.

    Example: convergent ingest hf-config configs/ --db evidence.duckdb
    """
    _run("hf-config", path, db, skip_bad_rows, snapshot, as_json, model)


@app.command("benchmarks")
def benchmarks_cmd(path: PathArg, db: WriteDbOpt = None, skip_bad_rows: SkipOpt = False,
                   snapshot: SnapOpt = None, as_json: JsonOpt = False,
                   allow_any_date: AnyDateOpt = False) -> None:
    """Benchmark table: model, family, size, tokens, FLOPs, one column per benchmark.

    Example: convergent ingest benchmarks scores.csv --db evidence.duckdb
    """
    _run("benchmarks", path, db, skip_bad_rows, snapshot, as_json,
         allow_any_date=allow_any_date)


@app.command("runs")
def runs_cmd(path: PathArg, db: WriteDbOpt = None, skip_bad_rows: SkipOpt = False,
             snapshot: SnapOpt = None, as_json: JsonOpt = False) -> None:
    """Training runs for scaling laws: N, D and/or C, loss, optional group columns.

    Example: convergent ingest runs chinchilla-runs.csv --db evidence.duckdb
    """
    _run("runs", path, db, skip_bad_rows, snapshot, as_json)
