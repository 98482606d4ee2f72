"""Shared output for every command: a Rich table, JSON or CSV of plain rows."""

from __future__ import annotations

import csv
import enum
import io
import json
import sys
from collections.abc import Sequence
from typing import Any

from convergent.plain import plain
from convergent.sanitize import clean_text, csv_cell


class Lang(enum.StrEnum):
    """Output language of labels."""

    zh = "zh"
    en = "en"


def to_json(data: Any) -> str:
    """JSON text of plain data (dates as ISO strings, NaN as null)."""
    return clean_text(json.dumps(plain(data), ensure_ascii=False, indent=2))


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """CSV text of rows; nested values are JSON-encoded."""
    buf = io.StringIO()
    if not rows:
        return ""
    cols = list(dict.fromkeys(k for r in rows for k in r))
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: csv_cell(json.dumps(plain(v), ensure_ascii=False)
                                if isinstance(v, dict | list) else plain(v))
                    for k, v in r.items()})
    return buf.getvalue()


def fmt_cell(value: Any) -> str:
    """Short human text of one value."""
    value = plain(value)
    if value is None:
        return "—"
    if isinstance(value, float):
        if abs(value) >= 1e6 or (value and abs(value) < 1e-3):
            return f"{value:.3g}"
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    if isinstance(value, list):
        return ", ".join(fmt_cell(v) for v in value)
    return clean_text(str(value))


def emit(
    rows: Sequence[dict[str, Any]],
    *,
    as_json: bool = False,
    as_csv: bool = False,
    columns: Sequence[tuple[str, str]] | None = None,
    title: str | None = None,
    data: Any = None,
) -> None:
    """Print rows as JSON (`data` if given, else rows), CSV, or a table of `columns`."""
    if as_json:
        sys.stdout.write(to_json(rows if data is None else data) + "\n")
        return
    if as_csv:
        sys.stdout.write(to_csv(rows))
        return
    from rich.console import Console
    from rich.table import Table

    cols = columns or [(k, k) for k in (rows[0] if rows else {})]
    table = Table(title=title, show_lines=False)
    for _, header in cols:
        table.add_column(header)
    for r in rows:
        table.add_row(*(fmt_cell(r.get(k)) for k, _ in cols))
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    console.print(table)
