"""Sniffing a text file before parsing: encoding, binary data, delimiter, header, structure."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from convergent.errors import ConvergentError

MAX_CELL_BYTES = 1024 * 1024
RESERVED = ("_row",)
# Invisible characters removed from cells: zero-width marks and joiners, bidi controls, BOM,
# soft hyphen, and stray C0 controls (tab and newlines stay).
INVISIBLE = ("\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u061c\u00ad"
             "\x01-\x08\x0b\x0c\x0e-\x1f\x7f")
INVISIBLE_RE = re.compile(f"[{INVISIBLE}]")
# NUL never belongs in text: a cell holding one is refused.
CONTROL = "\x00"
CONTROL_RE = re.compile(f"[{CONTROL}]")
# Cyrillic and Greek letters that look like Latin ones, with the Latin letter they imitate.
CONFUSABLE = dict(zip(
    "аеорсухіјѕԁԛԝһӏАВЕКМНОРСТХІЈЅοανρτικΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdqwhlABEKMHOPCTXIJSoavptikABEZHIKMNOPTYX", strict=True))


def _scan_binary(path: Path, name: str) -> None:
    """Refuse a NUL byte anywhere in the file, naming its line (fast: C-level search)."""
    line = 1
    with path.open("rb") as fh:
        while True:
            block = fh.read(8 * 1024 * 1024)
            if not block:
                return
            nul = block.find(b"\x00")
            if nul >= 0:
                line += block.count(b"\n", 0, nul)
                raise ConvergentError(
                    f"line {line}: binary data (a NUL byte); expected UTF-8 text",
                    where=f"{name}:{line}")
            line += block.count(b"\n")


def sniff_text(path: Path, name: str) -> None:
    """Reject empty, UTF-16, binary and non-UTF-8 files with a clear message."""
    from convergent.userfiles import check_path

    if path.is_dir():
        raise ConvergentError("is a folder; expected a CSV file", where=name)
    check_path(path, "CSV file")
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
    _scan_binary(path, name)
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
    header = [unicodedata.normalize("NFKC", INVISIBLE_RE.sub("", h)).strip() for h in header]
    if len(header) == 1 and len(required) > 1:
        for delim, label in (("\t", "tab"), (";", "';'"), ("|", "'|'")):
            if delim in first:
                raise ConvergentError(
                    f"the delimiter looks like {label}; expected a comma-separated file",
                    where=f"{name}:1")
    seen: set[str] = set()
    for i, col in enumerate(header, start=1):
        if not col:
            tail = " (a trailing comma?)" if i == len(header) else ""
            raise ConvergentError(f"column {i} has no name{tail}; every column needs a header",
                                  where=f"{name}:1")
        if col in RESERVED:
            raise ConvergentError(f"column name {col!r} is reserved; rename that column",
                                  where=f"{name}:1:{col}")
        _check_confusable(col, name)
        if col in seen:
            raise ConvergentError(f"column {col!r} appears twice in the header", where=f"{name}:1")
        seen.add(col)
    missing = [c for c in required if c not in seen]
    if missing:
        raise ConvergentError(
            f"missing column(s) {', '.join(repr(c) for c in missing)}; found "
            f"{len(header)} column(s) starting {', '.join(header[:4])}", where=f"{name}:1")
    return header


def _check_confusable(col: str, name: str) -> None:
    """Refuse a column name that mixes Latin letters with look-alike Cyrillic or Greek ones."""
    fakes = [(i, ch) for i, ch in enumerate(col) if ch in CONFUSABLE]
    if not fakes or not re.search("[A-Za-z]", col):
        return
    i, ch = fakes[0]
    meant = "".join(CONFUSABLE.get(c, c) for c in col)
    raise ConvergentError(
        f"column {col!r} has a {unicodedata.name(ch, 'non-Latin').title()} (U+{ord(ch):04X}) "
        f"at position {i + 1} that looks like Latin {CONFUSABLE[ch]!r}; did you mean "
        f"{meant!r}? Retype the header", where=f"{name}:1:{meant}")


def walk_csv(path: Path, name: str, ncols: int) -> tuple[ConvergentError | None, list[int]]:
    """The first structural problem (or None) and the spreadsheet row numbers of blank lines.

    Python's csv module walks the whole file; row numbers count the header as row 1 and every
    blank line as a row, as a spreadsheet shows them.
    """
    blanks: list[int] = []
    problem = _walk(path, name, ncols, blanks)
    return problem, blanks


def locate_csv_problem(path: Path, name: str, ncols: int) -> ConvergentError | None:
    """Walk the file with Python's csv module to name the first structural problem."""
    return _walk(path, name, ncols, [])


def _walk(path: Path, name: str, ncols: int, blanks: list[int]) -> ConvergentError | None:
    csv.field_size_limit(MAX_CELL_BYTES)
    record = 0
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            for record, fields in enumerate(reader, start=1):
                if record == 1:
                    continue
                if not fields:
                    blanks.append(record)
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
