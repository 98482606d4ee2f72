"""Import users' evidence (Epoch AI, Hugging Face configs, benchmark tables, training runs)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from convergent.dates import check_plausible
from convergent.errors import ConvergentError
from convergent.ingest.fetch import open_input, source_row
from convergent.ingest.problems import IngestReport

if TYPE_CHECKING:
    from convergent.store import Store

SOURCES = {
    "epoch": "Epoch AI model database CSV (Notable, Large-scale or All models)",
    "hf-config": "Hugging Face config.json files (a file, a folder, or a base URL with --model)",
    "benchmarks": "benchmark table: model, family, size, tokens, FLOPs, one column per benchmark",
    "runs": "training runs for scaling laws: N, D and/or C, loss, optional group columns",
}

__all__ = ["SOURCES", "IngestReport", "ingest"]


def ingest(
    store: Store,
    source: str,
    path_or_url: str | Path,
    skip_bad_rows: bool = False,
    *,
    snapshot: dt.date | None = None,
    models: list[str] | None = None,
    allow_any_date: bool = False,
) -> IngestReport:
    """Load one file, folder or URL of `source` into the store atomically and idempotently.

    Dates before 1950 or more than a year ahead are refused unless `allow_any_date`.
    """
    key = source.strip().lower().replace("_", "-")
    if key not in SOURCES:
        raise ConvergentError(f"unknown source {source!r}; sources: {', '.join(SOURCES)}")
    if snapshot is not None:
        check_plausible(snapshot, "--snapshot", allow_any=allow_any_date)
    try:
        return _ingest(store, key, path_or_url, skip_bad_rows, snapshot, models or [],
                       allow_any_date)
    except PermissionError as exc:
        raise ConvergentError("permission denied", where=exc.filename or str(path_or_url)
                              ) from None
    except IsADirectoryError as exc:
        raise ConvergentError("is a folder, expected a file",
                              where=exc.filename or str(path_or_url)) from None
    except RecursionError:
        raise ConvergentError("input nested too deeply", where=str(path_or_url)) from None


def _ingest(store: Store, key: str, path_or_url: str | Path, skip_bad_rows: bool,
            snapshot: dt.date | None, models: list[str], allow_any_date: bool) -> IngestReport:
    if key == "hf-config":
        from convergent.ingest.hf_config import ingest_hf_config

        return ingest_hf_config(store, str(path_or_url), skip_bad_rows, snapshot=snapshot,
                                models=models)
    inp = open_input(path_or_url, snapshot)
    try:
        if key == "epoch":
            from convergent.ingest.epoch import ORIGIN, ingest_epoch

            src = source_row(inp, "epoch-csv", ORIGIN)
            report = IngestReport(key, inp.url, ORIGIN, src["source_id"],
                                  inp.snapshot.isoformat())
            ingest_epoch(store, inp, src, skip_bad_rows, report, allow_any_date)
        elif key == "benchmarks":
            from convergent.ingest.benchmarks import ingest_benchmarks

            report = ingest_benchmarks(store, inp, skip_bad_rows, allow_any_date)
        else:
            from convergent.ingest.runs import ingest_runs

            report = ingest_runs(store, inp, skip_bad_rows)
    finally:
        inp.cleanup()
    return report
