"""Build the whole report into a folder atomically: all of it appears, or nothing changes.

Everything is written into a fresh temporary folder next to `--out`; only when every
file is complete is the previous report moved aside and the new one renamed into place
(two renames on one file system). A failure removes the temporary folder and leaves any
previous report untouched. A folder that is not a previous report is never replaced.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from convergent.errors import ConvergentError
from convergent.report.assemble import STEPS, ReportData, assemble, plain

MARKER = ".convergent-report"
TABLES = ("matrix", "capability", "history", "layers", "five_layer", "drivers", "forecasts",
          "level_history", "gantt_rows", "backtest", "predictability", "predictions",
          "scaling", "scaling_points", "sources")
LATE_STEPS = ("markdown", "charts", "html", "figures", "data", "swap")
TOTAL_STEPS = len(STEPS) + len(LATE_STEPS)


def _check_writable(out: Path) -> None:
    """Fail before any work when the report's folder cannot be created where asked."""
    bad = next((q for q in out.parents if q.exists() and not q.is_dir()), None)
    if bad is not None:
        raise ConvergentError(f"cannot write the report here: {bad} is not a folder",
                              where=str(out))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe = Path(tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=out.parent))
        probe.rmdir()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConvergentError(f"cannot write the report here: {reason.lower()}",
                              where=str(out)) from None


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ConvergentError("output path exists and is not a folder", where=str(out))
    if out.is_dir() and not (out / MARKER).exists() and any(out.iterdir()):
        raise ConvergentError(
            "refusing to replace a folder that is not a convergent report "
            "(choose another --out or empty it)", where=str(out))


def _cell(v: Any) -> Any:
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    return "" if v is None else v


def write_table(rows: list[dict[str, Any]], folder: Path, name: str) -> list[str]:
    """`name.json` (nested as is) and `name.csv` (nested cells as JSON text)."""
    rows = plain(rows)
    (folder / f"{name}.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1),
                                         encoding="utf-8")
    cols: list[str] = []
    for r in rows:
        cols.extend(k for k in r if k not in cols)
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in cols])
    return [f"{folder.name}/{name}.json", f"{folder.name}/{name}.csv"]


def write_data(data: ReportData, folder: Path) -> list[str]:
    """Every table of the report as CSV and JSON, plus the whole `report.json`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in TABLES:
        written += write_table(list(getattr(data, name)), folder, name)
    (folder / "examples.json").write_text(
        json.dumps(data.examples, ensure_ascii=False, indent=1), encoding="utf-8")
    (folder / "report.json").write_text(
        json.dumps(data.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    return [*written, f"{folder.name}/examples.json", f"{folder.name}/report.json"]


def render_into(folder: Path, data: ReportData, cfg: dict[str, Any], langs: list[str],
                step: Callable[[str], None], figures: bool = True) -> None:
    """Write report.md / report.en.md, index.html, figures/ and data/ into `folder`."""
    from convergent.report.html import charts, render_html
    from convergent.report.markdown import render_markdown

    main = langs[0]
    specs = charts(data, cfg, "en" if "en" in langs else main)
    figs: list[str] = []
    step("charts")
    if figures:
        from convergent.report.figures import write_figures

        figs = write_figures(specs, folder / "figures")
    step("figures")
    for lang in langs:
        name = "report.md" if lang == main else f"report.{lang}.md"
        text = render_markdown(data, cfg, lang, figures=[f for f in figs if f.endswith(".svg")])
        (folder / name).write_text(text, encoding="utf-8")
    step("markdown")
    html_lang = "zh" if langs == ["zh"] else "en"
    html_specs = specs if html_lang == ("en" if "en" in langs else main) else charts(
        data, cfg, html_lang)
    (folder / "index.html").write_text(render_html(data, cfg, html_lang, html_specs),
                                       encoding="utf-8")
    step("html")
    write_data(data, folder / "data")
    step("data")


def build_report(
    store: Any,
    cfg: dict[str, Any],
    out: str | Path,
    *,
    langs: list[str] | None = None,
    as_of: dt.date | None = None,
    window_days: int | None = None,
    figures: bool = True,
    progress: Callable[[str], None] | None = None,
) -> tuple[Path, ReportData]:
    """Assemble and write the report into `out` atomically; return the folder and the data.

    `langs` lists the Markdown languages; the first is `report.md`, others `report.<lang>.md`.
    """
    langs = langs or ["zh", "en"]
    out = Path(out).expanduser().resolve()
    _check_target(out)
    _check_writable(out)

    def step(name: str) -> None:
        if progress:
            progress(name)

    data = assemble(store, cfg, as_of, window_days, progress=step)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    old: Path | None = None
    try:
        render_into(tmp, data, cfg, langs, step, figures=figures)
        (tmp / MARKER).write_text(f"as_of {data.as_of.isoformat()}\n", encoding="utf-8")
        _check_target(out)
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            os.rename(out, old)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and old.exists() and not out.exists():
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    step("swap")
    return out, data
