"""Streaming a CSV through pyarrow into DuckDB, every cell as text, with its row number."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convergent.errors import ConvergentError
from convergent.ingest.sniff import (
    CONTROL,
    INVISIBLE,
    MAX_CELL_BYTES,
    locate_csv_problem,
    read_header,
    sniff_text,
    walk_csv,
)

if TYPE_CHECKING:
    import duckdb

STRICT_SCAN_BYTES = 64 * 1024 * 1024


def _checked_header(path: Path, name: str, required: Sequence[str]) -> tuple[list[str], list[int]]:
    """Sniff the encoding, check the header, and walk small files strictly for structure;
    return the header and the row numbers of blank lines."""
    sniff_text(path, name)
    header = read_header(path, name, required)
    blanks: list[int] = []
    if path.stat().st_size <= STRICT_SCAN_BYTES:
        located, blanks = walk_csv(path, name, len(header))
        if located is not None:
            raise located
    return header, blanks


class _Cells:
    """Turns parsed blocks into clean batches: row numbers as a spreadsheet shows them,
    invisible characters removed, a NUL character refused with its row and column."""

    def __init__(self, name: str, header: list[str], blanks: list[int]) -> None:
        self.name, self.header = name, header
        self.blanks = sorted(blanks)
        self.next = 2

    def _rows(self, n: int) -> Any:
        import numpy as np
        import pyarrow as pa

        if not self.blanks or self.blanks[-1] < self.next:
            out = np.arange(self.next, self.next + n, dtype=np.int64)
        else:
            span = np.arange(self.next, self.next + n + len(self.blanks), dtype=np.int64)
            out = span[~np.isin(span, self.blanks)][:n]
        if n:
            self.next = int(out[-1]) + 1
        return pa.array(out, pa.int64())

    def batch(self, batch: Any) -> Any:
        import pyarrow as pa
        import pyarrow.compute as pc

        rows = self._rows(batch.num_rows)
        cols = []
        for h, col in zip(self.header, batch.columns, strict=True):
            if pc.any(pc.match_substring_regex(col, f"[{INVISIBLE}{CONTROL}]")).as_py():
                bad = pc.match_substring_regex(col, f"[{CONTROL}]")
                if pc.any(bad).as_py():
                    at = pc.index(bad, True).as_py()
                    row = rows[at].as_py()
                    raise ConvergentError(
                        f"row {row}, column {h!r}: a NUL character in the cell; "
                        "expected plain text", where=f"{self.name}:{row}:{h}")
                col = pc.replace_substring_regex(col, f"[{INVISIBLE}]", "")
                col = pc.if_else(pc.equal(pc.utf8_trim_whitespace(col), ""), None, col)
            cols.append(col)
        return pa.RecordBatch.from_arrays([*cols, rows], names=[*self.header, "_row"])


def _csv_options(header: list[str]) -> dict[str, Any]:
    """pyarrow CSV options: header skipped, every cell text, empty cells null."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    return {
        "read_options": pcsv.ReadOptions(column_names=header, skip_rows=1,
                                         block_size=8 * MAX_CELL_BYTES),
        "parse_options": pcsv.ParseOptions(newlines_in_values=True),
        "convert_options": pcsv.ConvertOptions(
            column_types={h: pa.string() for h in header}, null_values=[""],
            strings_can_be_null=True, quoted_strings_can_be_null=True)}


def _parse_error(path: Path, name: str, ncols: int, exc: BaseException) -> ConvergentError:
    """The error for a file pyarrow cannot parse: located by row when possible."""
    located = locate_csv_problem(path, name, ncols)
    if located is not None:
        return located
    return ConvergentError(f"cannot parse CSV: {str(exc).splitlines()[0][:200]}", where=name)


def load_csv(con: duckdb.DuckDBPyConnection, path: Path, name: str, table: str,
             required: Sequence[str]) -> list[str]:
    """Read a CSV (all cells as text) and expose it to DuckDB as view `table`.

    Parsing is strict (every row must have the header's number of fields; quoted newlines are
    allowed). Column `_row` is the row number counting the header as row 1.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    header, blanks = _checked_header(path, name, required)
    cells = _Cells(name, header, blanks)
    try:
        tb = pcsv.read_csv(path, **_csv_options(header))
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise _parse_error(path, name, len(header), exc) from None
    if tb.num_rows == 0:
        raise ConvergentError("the file has a header but no data rows; nothing was ingested",
                              where=name)
    batches = [cells.batch(b) for b in tb.to_batches()]
    schema = pa.schema([*tb.schema, pa.field("_row", pa.int64())])
    con.register(table, pa.Table.from_batches(batches, schema))
    big = _oversized(con, table, header)
    if big is not None:
        raise oversized_error(name, *big)
    return header


def oversized_error(name: str, row: int, col: str) -> ConvergentError:
    """The error for a cell above MAX_CELL_BYTES."""
    return ConvergentError(
        f"row {row}, column {col!r}: cell is larger than {MAX_CELL_BYTES // 1024} KiB",
        where=f"{name}:{row}:{col}")


def oversized_sql(header: Sequence[str], alias: str = "") -> str:
    """SQL naming the first column (header order) of a row whose cell is too large, else NULL."""
    arms = " ".join(f"WHEN strlen({alias}{qi(h)}) > {MAX_CELL_BYTES} THEN "
                    "'" + h.replace("'", "''") + "'" for h in header)
    return f"CASE {arms} END"


class CsvStream:
    """A CSV parsed block by block, registered in DuckDB as an Arrow stream with `_row`.

    The stream can be scanned once. A parse error stops it early and is raised by `finish`,
    with the same message `load_csv` gives, so the whole table never sits in memory.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, name: str, table: str,
                 required: Sequence[str]) -> None:
        import pyarrow as pa
        import pyarrow.csv as pcsv

        self.path, self.name, self.table = path, name, table
        self.header, blanks = _checked_header(path, name, required)
        self.cells = _Cells(name, self.header, blanks)
        self.error: BaseException | None = None
        try:
            reader = pcsv.open_csv(path, **_csv_options(self.header))
        except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
            raise _parse_error(path, name, len(self.header), exc) from None
        schema = pa.schema([*reader.schema, pa.field("_row", pa.int64())])
        self.con = con
        con.register(table, pa.RecordBatchReader.from_batches(schema, self._batches(reader)))

    def _batches(self, reader: Any) -> Iterable[Any]:
        import pyarrow as pa

        try:
            for batch in reader:
                yield self.cells.batch(batch)
        except (pa.ArrowInvalid, pa.ArrowException, OSError, ConvergentError) as exc:
            self.error = exc

    def finish(self) -> None:
        """Unregister the stream; raise the parse error that stopped it, if any."""
        self.con.unregister(self.table)
        if isinstance(self.error, ConvergentError):
            raise self.error
        if self.error is not None:
            raise _parse_error(self.path, self.name, len(self.header), self.error)


def qi(col: str) -> str:
    """Quote an identifier for DuckDB SQL."""
    return '"' + col.replace('"', '""') + '"'


def _oversized(con: duckdb.DuckDBPyConnection, table: str,
               header: list[str]) -> tuple[int, str] | None:
    checks = " OR ".join(f"strlen({qi(h)}) > {MAX_CELL_BYTES}" for h in header)
    hit = con.execute(f'SELECT _row, * EXCLUDE (_row) FROM "{table}" WHERE {checks} LIMIT 1'
                      ).fetchone()
    if hit is None:
        return None
    for h, v in zip(header, hit[1:], strict=True):
        if v is not None and len(v.encode("utf-8")) > MAX_CELL_BYTES:
            return int(hit[0]), h
    return int(hit[0]), header[0]
