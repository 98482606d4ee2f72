"""Build the whole report into a folder atomically: all of it appears, or nothing changes.

Everything is written into a fresh temporary folder next to `--out`; only when every
file is complete is it swapped with the previous report in one atomic exchange (Linux
`renameat2`), so `--out` is never missing. Where the exchange is not available the old report
is moved aside first, and a run killed between the two renames is repaired by the next run.
Folders left by killed runs are removed. A failure removes the temporary folder and leaves any
previous report untouched. A folder that is not a previous report is never replaced.
"""

from __future__ import annotations

import csv
import datetime as dt
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from convergent.errors import ConvergentError
from convergent.report.assemble import STEPS, ReportData, assemble, plain
from convergent.sanitize import clean_text, csv_cell

MARKER = ".convergent-report"
TABLES = ("matrix", "capability", "history", "layers", "five_layer", "drivers", "forecasts",
          "level_history", "gantt_rows", "backtest", "predictability", "predictions",
          "scaling", "scaling_points", "sources")
LATE_STEPS = ("markdown", "charts", "html", "figures", "data", "swap")
TOTAL_STEPS = len(STEPS) + len(LATE_STEPS)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False when unsupported."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(out: Path) -> None:
    """Put back a report a killed run had moved aside, and remove folders killed runs left."""
    for leftover in sorted(out.parent.glob(f".{glob.escape(out.name)}.*-*")):
        kind, _, rest = leftover.name[len(out.name) + 2:].partition("-")
        pid = rest.split("-", 1)[0]
        if kind not in ("tmp", "old") or not pid.isdigit() or _pid_alive(int(pid)):
            continue
        if kind == "old" and not out.exists() and (leftover / MARKER).exists():
            os.rename(leftover, out)
        else:
            shutil.rmtree(leftover, ignore_errors=True)


def _swap_in(tmp: Path, out: Path) -> None:
    """Make `tmp` the report at `out`; the previous report, if any, ends up removed."""
    if out.exists() and _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)
        return
    old: Path | None = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        if old.exists():
            shutil.rmtree(old)
        os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        if old is not None and not out.exists():
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
        return csv_cell(json.dumps(v, ensure_ascii=False))
    return "" if v is None else csv_cell(v)


def _write(path: Path, text: str) -> None:
    """Write one report file, its text cleaned of bidi controls."""
    path.write_text(clean_text(text), encoding="utf-8")


def write_table(rows: list[dict[str, Any]], folder: Path, name: str) -> list[str]:
    """`name.json` (nested as is) and `name.csv` (nested cells as JSON text)."""
    rows = plain(rows)
    _write(folder / f"{name}.json", json.dumps(rows, ensure_ascii=False, indent=1))
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
    _write(folder / "examples.json", json.dumps(data.examples, ensure_ascii=False, indent=1))
    _write(folder / "report.json", json.dumps(data.to_dict(), ensure_ascii=False, indent=1))
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
        _write(folder / name, text)
    step("markdown")
    html_lang = "zh" if langs == ["zh"] else "en"
    html_specs = specs if html_lang == ("en" if "en" in langs else main) else charts(
        data, cfg, html_lang)
    _write(folder / "index.html", render_html(data, cfg, html_lang, html_specs))
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
    if out.parent.is_dir():
        recover(out)
    _check_target(out)
    _check_writable(out)

    def step(name: str) -> None:
        if progress:
            progress(name)

    data = assemble(store, cfg, as_of, window_days, progress=step)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    try:
        render_into(tmp, data, cfg, langs, step, figures=figures)
        (tmp / MARKER).write_text(f"as_of {data.as_of.isoformat()}\n", encoding="utf-8")
        _check_target(out)
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    step("swap")
    return out, data
