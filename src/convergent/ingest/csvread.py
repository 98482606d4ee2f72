"""Streaming a CSV through pyarrow into DuckDB, every cell as text, with its row number."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convergent.errors import ConvergentError
from convergent.ingest.sniff import MAX_CELL_BYTES, locate_csv_problem, read_header, sniff_text

if TYPE_CHECKING:
    import duckdb

STRICT_SCAN_BYTES = 64 * 1024 * 1024


def _checked_header(path: Path, name: str, required: Sequence[str]) -> list[str]:
    """Sniff the encoding, check the header, and walk small files strictly for structure."""
    sniff_text(path, name)
    header = read_header(path, name, required)
    if path.stat().st_size <= STRICT_SCAN_BYTES:
        located = locate_csv_problem(path, name, len(header))
        if located is not None:
            raise located
    return header


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

    header = _checked_header(path, name, required)
    try:
        tb = pcsv.read_csv(path, **_csv_options(header))
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
        raise _parse_error(path, name, len(header), exc) from None
    tb = tb.append_column("_row", pa.array(range(2, tb.num_rows + 2), pa.int64()))
    con.register(table, tb)
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
        self.header = _checked_header(path, name, required)
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

        first = 2
        try:
            for batch in reader:
                rows = pa.array(range(first, first + batch.num_rows), pa.int64())
                first += batch.num_rows
                yield pa.RecordBatch.from_arrays([*batch.columns, rows],
                                                 names=[*self.header, "_row"])
        except (pa.ArrowInvalid, pa.ArrowException, OSError) as exc:
            self.error = exc

    def finish(self) -> None:
        """Unregister the stream; raise the parse error that stopped it, if any."""
        self.con.unregister(self.table)
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
