"""The `convergent` command: a thin Typer app; each command group lives in its own module."""

from __future__ import annotations

import sys

import typer

from convergent.cli import (
    capability,
    catalog,
    common,
    core,
    forecast,
    ingest,
    layers,
    predictions,
    report,
    scaling,
    update,
)

app = typer.Typer(
    help="Measure, classify and forecast how AI technologies converge; fit scaling laws.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(no_catalog: common.NoCatalogOpt = False) -> None:
    """Measure, classify and forecast how AI technologies converge; fit scaling laws.

    Example: convergent --no-catalog --db my-evidence.duckdb classify
    """
    common.STATE.builtin = not no_catalog


core.register(app)
layers.register(app)
report.register(app)
predictions.register(app)
update.register(app)
app.add_typer(catalog.app, name="catalog")
app.add_typer(ingest.app, name="ingest")
app.add_typer(forecast.app, name="forecast")
app.add_typer(scaling.app, name="scaling")
app.add_typer(capability.app, name="capability")


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2."""
    from convergent.errors import ConvergentError

    try:
        app()
    except ConvergentError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)
