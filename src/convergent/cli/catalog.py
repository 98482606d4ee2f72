"""`convergent catalog` commands: validate the evidence catalog and show its coverage."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from convergent.cli.common import CsvOpt, DbOpt, JsonOpt
from convergent.cli.render import emit

app = typer.Typer(help="Validate the evidence catalog and show its coverage.",
                  no_args_is_help=True)


@app.command()
def validate(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Catalog YAML files (default: the built-in catalog).")] = None,
) -> None:
    """Check every catalog file against the schema; list each problem with file and entry.

    Example: convergent catalog validate
    """
    from convergent.catalog.load import build_evidence, builtin_files
    from convergent.errors import ConvergentError

    files = list(paths) if paths else builtin_files()
    ev, problems = build_evidence(files)
    for p in problems:
        sys.stderr.write(f"{p}\n")
    if problems:
        raise ConvergentError(f"{len(problems)} problem(s) in {len(files)} file(s)")
    n = {k: len(v) for k, v in ev.rows.items()}
    sys.stdout.write(
        f"ok: {len(files)} file(s), {n['entities']} entities, {n['adoptions']} adoptions, "
        f"{n['scores']} scores, {n['sources']} sources\n")


@app.command()
def coverage(
    area: Annotated[list[str] | None, typer.Option(
        "--area", help="Only these areas (repeatable).")] = None,
    since: Annotated[int | None, typer.Option(
        "--since", help="First year shown (default: the oldest evidence).")] = None,
    until: Annotated[int | None, typer.Option(
        "--until", help="Last year shown (default: the newest evidence).")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    markdown: Annotated[bool, typer.Option(
        "--markdown", help="Print the table as Markdown (for docs/catalog.md).")] = False,
) -> None:
    """Per area and year, how many entities state a known option, so thin evidence shows.

    Example: convergent catalog coverage --since 2022 --markdown
    """
    from convergent.catalog.coverage import coverage as compute
    from convergent.catalog.coverage import coverage_matrix
    from convergent.cli.common import open_cli_store
    from convergent.registry import get_area

    areas = [get_area(a).area_id for a in area] if area else None
    rows = compute(open_cli_store(db), areas=areas, since=since, until=until)
    if as_json or as_csv:
        emit(rows, as_json=as_json, as_csv=as_csv)
        return
    years, matrix = coverage_matrix(rows)
    cols = [("area", "area"), *((str(y), str(y)) for y in years),
            ("coverage", "all years")]
    if markdown:
        lines = ["| " + " | ".join(h for _, h in cols) + " |",
                 "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(str(r.get(k) or "—") for k, _ in cols) + " |"
                  for r in matrix]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    emit(matrix, columns=cols, title="Known / all entities per area and year")


@app.command()
def crosscheck(
    epoch_csv: Annotated[Path, typer.Argument(
        help="Epoch AI Notable Models CSV.", exists=True, dir_okay=False)],
    show_all: Annotated[bool, typer.Option(
        "--all", help="List every match, not only the mismatches.")] = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Match catalog entities to Epoch rows; report date and parameter agreement.

    Example: convergent catalog crosscheck epoch-notable-ai-models.csv
    """
    from convergent.catalog.crosscheck import crosscheck as run

    report = run(epoch_csv)
    s = report.summary()
    listed = report.matches if show_all else report.mismatches
    rows = [{
        "file": m.file, "name": m.name, "epoch_model": m.epoch_model.strip(),
        "date": m.date, "epoch_date": m.epoch_date, "date_diff_days": m.date_diff_days,
        "params_total": m.params_total, "epoch_params": m.epoch_params,
        "params_rel_diff": m.params_rel_diff,
    } for m in listed]
    if as_json:
        emit(rows, as_json=True, data=report.to_dict())
        return
    if as_csv:
        emit(rows, as_csv=True)
        return

    def pct(x: float | None) -> str:
        return "—" if x is None else f"{x:.1f}%"

    sys.stdout.write(
        f"{s['matches']} catalog entities matched to Epoch rows "
        f"({s['catalog_entities']} entities, {s['epoch_rows']} Epoch rows)\n"
        f"date within {s['date_tolerance_days']} days: {s['date_within']}/{s['date_compared']}"
        f" = {pct(s['date_within_pct'])}\n"
        f"total parameters within {s['params_tolerance_pct']:.0f}%: "
        f"{s['params_within']}/{s['params_compared']} = {pct(s['params_within_pct'])}\n")
    cols = [("file", "file"), ("name", "entry"), ("epoch_model", "Epoch model"),
            ("date", "date"), ("epoch_date", "Epoch date"), ("date_diff_days", "Δ days"),
            ("params_total", "params"), ("epoch_params", "Epoch params"),
            ("params_rel_diff", "Δ params")]
    if rows:
        emit(rows, columns=cols, title="Matches" if show_all else "Mismatches")
