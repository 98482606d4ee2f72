"""Sniffing a text file before parsing: encoding, binary data, delimiter, header, structure."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from convergent.errors import ConvergentError

MAX_CELL_BYTES = 1024 * 1024


def sniff_text(path: Path, name: str) -> None:
    """Reject empty, UTF-16, binary and non-UTF-8 files with a clear message."""
    if path.is_dir():
        raise ConvergentError("is a folder; expected a CSV file", where=name)
    with path.open("rb") as fh:
        head = fh.read(65536)
    if not head.strip():
        raise ConvergentError("file is empty", where=name)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(head) > 3 and head[1:2] == b"\x00" and head[3:4] == b"\x00") or (
        len(head) > 3 and head[0:1] == b"\x00" and head[2:3] == b"\x00"):
        raise ConvergentError("file is UTF-16 encoded; save it as UTF-8", where=name)
    nul = head.find(b"\x00")
    if nul >= 0:
        raise ConvergentError(f"binary data (NUL byte at offset {nul}); expected UTF-8 text",
                              where=name)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            line = head[: exc.start].count(b"\n") + 1
            raise ConvergentError(
                f"not UTF-8 text (invalid byte at line {line}); save it as UTF-8",
                where=name) from None


def read_header(path: Path, name: str, required: Sequence[str]) -> list[str]:
    """Read and check the header row: delimiter, duplicates and required columns."""
    with path.open("r", encoding="utf-8-sig", newline="", errors="replace") as fh:
        first = fh.readline(MAX_CELL_BYTES)
    try:
        header = next(csv.reader(io.StringIO(first)))
    except (csv.Error, StopIteration):
        raise ConvergentError("cannot read the header row", where=f"{name}:1") from None
    header = [h.strip() for h in header]
    if len(header) == 1 and len(required) > 1:
        for delim, label in (("\t", "tab"), (";", "';'"), ("|", "'|'")):
            if delim in first:
                raise ConvergentError(
                    f"the delimiter looks like {label}; expected a comma-separated file",
                    where=f"{name}:1")
    seen: set[str] = set()
    for col in header:
        if col in seen:
            raise ConvergentError(f"column {col!r} appears twice in the header", where=f"{name}:1")
        seen.add(col)
    missing = [c for c in required if c not in seen]
    if missing:
        raise ConvergentError(
            f"missing column(s) {', '.join(repr(c) for c in missing)}; found "
            f"{len(header)} column(s) starting {', '.join(header[:4])}", where=f"{name}:1")
    return header


def locate_csv_problem(path: Path, name: str, ncols: int) -> ConvergentError | None:
    """Walk the file with Python's csv module to name the first structural problem."""
    csv.field_size_limit(MAX_CELL_BYTES)
    record = 0
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            for record, fields in enumerate(reader, start=1):
                if record == 1:
                    continue
                if not fields:
                    continue
                if len(fields) != ncols:
                    return ConvergentError(
                        f"row {record} has {len(fields)} field(s), expected {ncols} "
                        f"(line {reader.line_num}; truncated file or wrong delimiter?)",
                        where=f"{name}:{record}")
    except UnicodeDecodeError as exc:
        return ConvergentError(
            f"not UTF-8 text (invalid byte at offset {exc.start} after row {record})",
            where=f"{name}:{record + 1}")
    except csv.Error as exc:
        msg = str(exc)
        if "field larger" in msg:
            msg = f"a cell is larger than {MAX_CELL_BYTES // 1024} KiB"
        elif "EOF" in msg or "end of data" in msg or "unexpected end" in msg:
            msg = "the file ends inside a quoted cell (truncated file?)"
        return ConvergentError(f"row {record + 1}: {msg}", where=f"{name}:{record + 1}")
    return None
