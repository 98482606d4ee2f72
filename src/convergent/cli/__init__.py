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
def _options(no_catalog: common.NoCatalogOpt = False, backend: common.BackendOpt = "duckdb",
             spark_master: common.SparkMasterOpt = None,
             tables: common.TablesOpt = None) -> None:
    """Measure, classify and forecast how AI technologies converge; fit scaling laws.

    Example: convergent --no-catalog --tables ./evidence/ classify --db my-evidence.duckdb
    """
    common.STATE.builtin = not no_catalog
    common.STATE.backend = backend.strip().lower()
    common.STATE.master = spark_master
    common.STATE.tables = tables


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
    """Entry point: user errors (bad options included) become one line on stderr, exit 2."""
    from typer.exceptions import Abort, TyperException

    from convergent.errors import ConvergentError

    try:
        code = app(standalone_mode=False)
    except ConvergentError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)
    except TyperException as exc:
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            sys.stdout.write(ctx.get_help() + "\n")
        else:
            sys.stderr.write(f"error: {usage_line(exc)}\n")
        sys.exit(2 if exc.exit_code in (1, 2) else exc.exit_code)
    except Abort:
        sys.stderr.write("error: aborted\n")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def usage_line(exc: Exception) -> str:
    """A command-line error as one line: the command, then what is wrong with which option."""
    fmt = getattr(exc, "format_message", None)
    text = " ".join(str(fmt() if callable(fmt) else exc).split()).replace("Value error, ", "")
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None)
    return f"{path}: {text}" if path else text
