"""`convergent catalog` commands: validate the evidence catalog and show its coverage."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Validate the evidence catalog and show its coverage.",
                  no_args_is_help=True)


@app.command()
def validate(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Catalog YAML files (default: the built-in catalog).")] = None,
) -> None:
    """Check every catalog file against the schema; list each problem with file and entry."""
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
