"""Shared ingest machinery: safe reading, row-located problems, provenance, resolution, writes."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import email.utils
import hashlib
import io
import json
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convergent.errors import ConvergentError
from convergent.registry import norm_key
from convergent.schema import TABLES, UNKNOWN, table_frame

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from convergent.store import Store

URL_TIMEOUT = 20.0
MAX_DOWNLOAD_BYTES = 4 * 1024**3
MAX_CELL_BYTES = 1024 * 1024
STRICT_SCAN_BYTES = 64 * 1024 * 1024
MAX_ERRORS_SHOWN = 20


@dataclass
class IngestReport:
    """What one ingest did: row counts, conflicts with existing evidence, skipped rows."""

    source: str
    path: str
    origin: str
    source_id: str
    snapshot: str | None
    rows_read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    matched: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    skipped_rows: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return dict(self.__dict__)


@dataclass
class Problem:
    """One bad cell: data row (1-based record number, header = row 1), column and message."""

    row: int
    column: str | None
    message: str

    def text(self, name: str) -> str:
        """One line naming file, row and column."""
        col = f", column {self.column!r}" if self.column else ""
        return f"{name}: row {self.row}{col}: {self.message}"


class Problems:
    """Collected bad rows; either raise them all as one error or drop their rows."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[Problem] = []

    def add(self, row: int, column: str | None, message: str) -> None:
        """Record one problem."""
        self.items.append(Problem(row, column, message))

    def bad_rows(self) -> set[int]:
        """Row numbers (header = 1) that have at least one problem."""
        return {p.row for p in self.items}

    def resolve(self, skip_bad_rows: bool, report: IngestReport) -> set[int]:
        """Raise on any problem unless skipping; when skipping, log every skipped row."""
        if not self.items:
            return set()
        items = sorted(self.items, key=lambda p: (p.row, p.column or ""))
        if not skip_bad_rows:
            first = items[0]
            more = len(items) - 1
            tail = f" (and {more} more problem(s); --skip-bad-rows drops bad rows)" if more else ""
            col = f":{first.column}" if first.column else ""
            where = f"row {first.row}" + (f", column {first.column!r}" if first.column else "")
            raise ConvergentError(f"{where}: {first.message}{tail}; nothing was ingested",
                                  where=f"{self.name}:{first.row}{col}")
        report.skipped_rows.extend(p.text(self.name) for p in items)
        rows = self.bad_rows()
        report.skipped = len(rows)
        return rows


# ---------------------------------------------------------------- locating the input


@dataclass
class Input:
    """A local file to read, with the URL or path it came from and its snapshot date."""

    path: Path
    url: str
    name: str
    snapshot: dt.date
    tmpdir: Path | None = None

    def cleanup(self) -> None:
        """Remove a downloaded copy."""
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)


def is_url(text: str) -> bool:
    """True for http(s) URLs: the only inputs that use the network."""
    return text.lower().startswith(("http://", "https://"))


def fetch(url: str, timeout: float = URL_TIMEOUT) -> tuple[bytes, dt.date]:
    """Download `url` (bounded time and size); return the bytes and the snapshot date."""
    req = urllib.request.Request(url, headers={"User-Agent": "convergent-ingest"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            data = resp.read(MAX_DOWNLOAD_BYTES + 1)
            modified = resp.headers.get("Last-Modified")
    except urllib.error.HTTPError as exc:
        raise ConvergentError(f"cannot fetch: HTTP {exc.code} {exc.reason}", where=url) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConvergentError(
            f"cannot fetch ({reason}); check the address or that you are online, "
            "or download the file and pass its path", where=url) from None
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise ConvergentError("download larger than 4 GiB", where=url)
    snap = dt.datetime.now(dt.UTC).date()
    if modified:
        with contextlib.suppress(TypeError, ValueError):
            snap = email.utils.parsedate_to_datetime(modified).date()
    return data, snap


def open_input(path_or_url: str | Path, snapshot: dt.date | None = None) -> Input:
    """Resolve a path or URL to a local file; URLs are downloaded into a temporary folder."""
    text = str(path_or_url)
    if is_url(text):
        data, snap = fetch(text)
        tmp = Path(tempfile.mkdtemp(prefix="convergent-ingest-"))
        name = Path(text.split("?")[0].rstrip("/")).name or "download"
        local = tmp / name
        local.write_bytes(data)
        return Input(local, text, name, snapshot or snap, tmp)
    path = Path(text).expanduser()
    if not path.exists():
        raise ConvergentError("no such file or folder", where=text)
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date()
    return Input(path, path.resolve().as_uri(), path.name, snapshot or mtime)


def source_row(inp: Input, kind: str, origin: str) -> dict[str, Any]:
    """The `sources` row describing one ingested file."""
    from convergent.catalog.load import source_id

    return {"source_id": source_id(inp.url), "url": inp.url, "title": inp.name, "kind": kind,
            "origin": origin, "snapshot": inp.snapshot}


# ---------------------------------------------------------------- reading text files safely


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


def _duck_struct(cols: dict[str, str]) -> str:
    inner = ", ".join("'" + k.replace("'", "''") + "': '" + v + "'" for k, v in cols.items())
    return "{" + inner + "}"


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


# ---------------------------------------------------------------- values


def parse_number(text: str | None) -> float | None:
    """A finite float, None for empty; raise ValueError for text or non-finite values."""
    if text is None or not str(text).strip():
        return None
    value = float(str(text).strip().replace("_", ""))
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not finite")
    return value


def row_hash(values: Iterable[Any]) -> str:
    """Stable hash of one input row's values."""
    payload = json.dumps([None if v is None else str(v) for v in values], ensure_ascii=False)
    return hashlib.md5(payload.encode("utf-8")).hexdigest()


_ORG_SYNONYMS = {
    "googledeepmind": "google", "deepmind": "google", "googlebrain": "google",
    "googleresearch": "google", "google": "google", "alphabet": "google",
    "facebook": "meta", "facebookai": "meta", "facebookairesearch": "meta", "fair": "meta",
    "metaai": "meta", "meta": "meta", "metallama": "meta", "metaplatforms": "meta",
    "microsoftresearch": "microsoft", "microsoft": "microsoft",
    "mistral": "mistral", "mistralai": "mistral", "zhipuai": "zhipu", "zai": "zhipu",
    "zhipu": "zhipu", "thudm": "zhipu", "alibaba": "alibaba", "qwen": "alibaba",
    "alibabacloud": "alibaba", "alibabagroup": "alibaba", "deepseek": "deepseek",
    "deepseekai": "deepseek", "tiiuae": "tii", "tii": "tii",
    "technologyinnovationinstitute": "tii", "eleutherai": "eleutherai", "bigscience": "bigscience",
    "huggingface": "huggingface", "xai": "xai", "openai": "openai", "anthropic": "anthropic",
    "beijingacademyofartificialintelligence": "baai", "baai": "baai",
    "shanghaiailab": "shanghaiai", "shanghaiailaboratory": "shanghaiai",
    "shanghaiartificialintelligencelaboratory": "shanghaiai",
    "allenai": "ai2", "alleninstituteforai": "ai2", "ai2": "ai2",
    "alleninstituteforartificialintelligence": "ai2",
    "ai21": "ai21", "ai21labs": "ai21", "baichuan": "baichuan", "baichuanintelligence": "baichuan",
    "baichuaninc": "baichuan", "nvidia": "nvidia", "moonshot": "moonshot", "moonshotai": "moonshot",
    "minimax": "minimax", "minimaxai": "minimax", "01ai": "01ai", "yi": "01ai",
}
_ORG_NOISE = re.compile(r"\b(inc|ltd|llc|corp|corporation|co|company|labs?|research|ai|the)\b")


def org_keys(text: str | None) -> set[str]:
    """Normalised keys of an organisation cell listing one or more organisations (separated by
    commas as in Epoch's data, or semicolons as in the catalog), synonyms merged."""
    if not text:
        return set()
    keys = set()
    for part in re.split(r"[,;]", str(text)):
        part = re.sub(r"\([^)]*\)", " ", part.lower()).strip()
        if not part:
            continue
        full = norm_key(part)
        keys.add(_ORG_SYNONYMS.get(full, full))
        short = norm_key(_ORG_NOISE.sub(" ", part))
        if short:
            keys.add(_ORG_SYNONYMS.get(short, short))
    keys.discard("")
    return keys


def org_names(text: str | None) -> list[str]:
    """One canonical key per organisation listed in a cell (commas or semicolons), synonyms
    merged: what counting distinct organisations needs (org_keys also adds short forms)."""
    out: list[str] = []
    for part in re.split(r"[,;]", str(text or "")):
        part = re.sub(r"\([^)]*\)", " ", part.lower()).strip()
        full = norm_key(part)
        if not full or full == UNKNOWN:
            continue
        short = norm_key(_ORG_NOISE.sub(" ", part))
        key = _ORG_SYNONYMS.get(full) or _ORG_SYNONYMS.get(short) or full
        if key not in out:
            out.append(key)
    return out


def org_overlap(a: str | None, b: str | None) -> float:
    """How far two organisation cells name the same labs: Jaccard similarity of their keys
    (0 when either is empty or they share none)."""
    ka, kb = org_keys(a), org_keys(b)
    if not ka or not kb:
        return 0.0
    return len(ka & kb) / len(ka | kb)


def model_key(name: str) -> str:
    """Like `norm_key`, but a dot between digits stays ('opt-1.3b' is not 'opt-13b')."""
    text = re.sub(r"(?<=\d)\.(?=\d)", "\x01", name.strip().lower())
    return re.sub(r"[\s_\-./]+", "", text).replace("\x01", ".")


def sql_model_key(expr: str) -> str:
    """DuckDB SQL computing `model_key` of a text expression."""
    marked = f"regexp_replace(lower(trim({expr})), '(\\d)\\.(\\d)', '\\1' || chr(1) || '\\2', 'g')"
    return f"replace(regexp_replace({marked}, '[\\s_\\-./]+', '', 'g'), chr(1), '.')"


def name_keys(name: str) -> list[str]:
    """Normalised lookup keys of a model name: as given, without (…) and without an org/ prefix."""
    out = [model_key(name)]
    bare = re.sub(r"\s*\([^)]*\)", "", name).strip()
    if bare and model_key(bare) not in out:
        out.append(model_key(bare))
    if "/" in name:
        tail = name.rsplit("/", 1)[1]
        for k in (model_key(tail), model_key(re.sub(r"[-_](hf|base)$", "", tail, flags=re.I))):
            if k and k not in out:
                out.append(k)
    return [k for k in out if k]


# ---------------------------------------------------------------- resolution and writing


@dataclass
class Existing:
    """Entities of other origins already in the store, indexed for resolution."""

    by_key: dict[str, list[str]]
    info: dict[str, dict[str, Any]]
    known: dict[tuple[str, str], set[str]]


def existing_entities(store: Store, exclude_origin: str) -> Existing:
    """Entities, aliases and known adoptions not written by `exclude_origin`."""
    raw = store.con.con
    ents = raw.execute(
        "SELECT entity_id, name, organization, date, params_total, params_active, "
        "training_compute_flop, open_weights, tier, origin FROM entities WHERE origin IS NULL "
        "OR origin <> ?", [exclude_origin]).fetchall()
    cols = ["entity_id", "name", "organization", "date", "params_total", "params_active",
            "training_compute_flop", "open_weights", "tier", "origin"]
    info = {r[0]: dict(zip(cols, r, strict=True)) for r in ents}
    by_key: dict[str, list[str]] = {}

    def put(label: str, eid: str) -> None:
        for k in name_keys(label):
            lst = by_key.setdefault(k, [])
            if eid not in lst:
                lst.append(eid)

    for eid, d in info.items():
        put(d["name"], eid)
    for alias, eid in raw.execute("SELECT alias, entity_id FROM aliases").fetchall():
        if eid in info and alias:
            put(alias, eid)
    known: dict[tuple[str, str], set[str]] = {}
    for eid, area, opt in raw.execute(
        "SELECT entity_id, area_id, option FROM adoptions WHERE option <> ? AND "
        "(origin IS NULL OR origin <> ?)", [UNKNOWN, exclude_origin]).fetchall():
        known.setdefault((eid, area), set()).add(opt)
    return Existing(by_key, info, known)


def resolve(ex: Existing, name: str, org: str | None, date: dt.date | None,
            days: int = 60) -> str | None:
    """The existing entity this row describes: same normalised name, organisation and date."""
    cands: dict[str, int] = {}
    for i, k in enumerate(name_keys(name)):
        for eid in ex.by_key.get(k, []):
            cands.setdefault(eid, i)
    exact = model_key(name)
    best: tuple[int, int, int, str] | None = None
    okeys = org_keys(org)
    for eid, key_rank in cands.items():
        d = ex.info[eid]
        theirs = org_keys(d["organization"])
        if okeys and theirs and not (okeys & theirs):
            continue
        gap = 0
        if date is not None and d["date"] is not None:
            gap = abs((d["date"] - date).days)
            if gap > days:
                continue
        rank = (gap, 0 if model_key(str(d["name"])) == exact else 1, key_rank, eid)
        if best is None or rank < best:
            best = rank
    return best[3] if best else None


def frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A DataFrame with exactly the schema's columns and types for `table`."""
    return table_frame(table, rows)


def upsert_source(store: Store, src: dict[str, Any]) -> None:
    """Insert or refresh the `sources` row of one ingested file (inside a transaction)."""
    raw = store.con.con
    raw.execute("DELETE FROM sources WHERE source_id = ?", [src["source_id"]])
    store.append("sources", frame("sources", [src]))


def replace_entities(store: Store, origin: str, own_ids: list[str], foreign_ids: list[str],
                     frames: dict[str, pd.DataFrame]) -> None:
    """Replace the rows of `origin` for the given entities, then append `frames`.

    `own_ids` are entities this origin created (their entity, alias and segment rows go too);
    `foreign_ids` are entities of other origins that this origin added facts to.
    """
    import pandas as pd

    raw = store.con.con
    ids = pd.DataFrame({"entity_id": list(own_ids) + list(foreign_ids)}, dtype="object")
    own = pd.DataFrame({"entity_id": list(own_ids)}, dtype="object")
    raw.register("_ids", ids)
    raw.register("_own", own)
    try:
        raw.execute("DELETE FROM entities WHERE origin = ? AND entity_id IN "
                    "(SELECT entity_id FROM _own)", [origin])
        for t in ("aliases", "segments"):
            raw.execute(f"DELETE FROM {t} WHERE entity_id IN (SELECT entity_id FROM _own)")
        for t in ("adoptions", "scores", "entity_facts"):
            raw.execute(f"DELETE FROM {t} WHERE origin = ? AND entity_id IN "
                        "(SELECT entity_id FROM _ids)", [origin])
    finally:
        raw.unregister("_ids")
        raw.unregister("_own")
    for name, df in frames.items():
        store.append(name, df)


def stored_rows(store: Store, table: str, origin: str, eid: str) -> set[tuple[Any, ...]]:
    """The rows of `table` from `origin` for one entity, as a comparable set."""
    cols = [c for c in TABLES[table] if c != "origin"]
    sel = ", ".join(qi(c) for c in cols)
    rows = store.con.con.execute(
        f"SELECT {sel} FROM {table} WHERE origin = ? AND entity_id = ?", [origin, eid]).fetchall()
    return {tuple(r) for r in rows}


def plain_row(table: str, row: dict[str, Any]) -> tuple[Any, ...]:
    """A row as the tuple DuckDB returns for it (origin left out): comparable with stored rows."""
    out = []
    for col, typ in TABLES[table].items():
        if col == "origin":
            continue
        v = row.get(col)
        if v is None or (isinstance(v, float) and v != v):
            out.append(None)
        elif typ == "float64":
            out.append(float(v))
        elif typ == "boolean":
            out.append(bool(v))
        elif typ == "date":
            out.append(v.date() if isinstance(v, dt.datetime) else v)
        else:
            out.append(str(v))
    return tuple(out)


def as_row_set(df: pd.DataFrame, table: str) -> set[tuple[Any, ...]]:
    """Rows of a frame as a set comparable with `stored_rows`."""
    import pandas as pd

    cols = [c for c in TABLES[table] if c != "origin"]
    out = set()
    for rec in df[cols].itertuples(index=False, name=None):
        out.add(tuple(None if v is None or (not isinstance(v, str) and pd.isna(v)) else
                      (bool(v) if TABLES[table][c] == "boolean" else v)
                      for c, v in zip(cols, rec, strict=True)))
    return out


@dataclass
class Record:
    """One input row about one model, in store terms, before resolution."""

    row: int
    name: str
    organization: str | None = None
    date: dt.date | None = None
    entity: dict[str, Any] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)
    scores: list[tuple[str, float]] = field(default_factory=list)
    segments: dict[str, str] = field(default_factory=dict)
    raw_hash: str = ""


def write_records(store: Store, origin: str, src: dict[str, Any], records: list[Record],
                  report: IngestReport, score_date: dt.date | None = None) -> None:
    """Resolve records against existing entities, then write what changed in one transaction.

    A record that matches an existing entity of another origin adds only the choices that
    entity leaves unknown (a differing known choice is reported as a conflict and kept);
    scores are always added. Other records become entities of `origin`.
    """
    from convergent.catalog.load import entity_id
    from convergent.registry import registry

    ex = existing_entities(store, origin)
    stored = _stored_by_entity(store, origin)
    sid = src["source_id"]
    reg = registry()
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in
                                            ("entities", "aliases", "segments", "adoptions",
                                             "scores")}
    own_changed: list[str] = []
    foreign_changed: list[str] = []
    resolved = []
    for rec in records:
        match = resolve(ex, rec.name, rec.organization, rec.date)
        if match is not None:
            eid = match
        else:
            eid = entity_id(rec.name)
            if eid in ex.info:
                eid = f"{eid}-{norm_key(origin)}"
        resolved.append((rec, match, eid))
    keep = _one_record_per_entity(resolved, ex, report)
    for rec, match, eid in resolved:
        if keep[eid] is not rec:
            continue
        if match is not None:
            report.matched += 1
            date = ex.info[eid]["date"] or rec.date
        else:
            date = rec.date
        rows: dict[str, list[dict[str, Any]]] = {t: [] for t in out}
        modality = rec.entity.get("modality", "language")
        for area_id, options in rec.choices.items():
            if match is not None:
                theirs = ex.known.get((eid, area_id))
                if theirs and set(theirs) != set(options):
                    report.conflicts.append({"entity_id": eid, "row": rec.row, "field": area_id,
                                             "existing": sorted(theirs), "ingested": options,
                                             "kept": sorted(theirs)})
                if theirs:
                    continue
            rows["adoptions"].extend(
                {"entity_id": eid, "area_id": area_id, "option": o, "weight": 1.0 / len(options),
                 "date": date, "source_id": sid, "origin": origin} for o in options)
        if match is None:
            for area in reg.areas.values():
                if (area.kind == "share" and area.derived_from != "organization"
                        and area.area_id not in rec.choices and modality in area.applies_to):
                    rows["adoptions"].append({
                        "entity_id": eid, "area_id": area.area_id, "option": UNKNOWN,
                        "weight": 1.0, "date": date, "source_id": sid, "origin": origin})
            ent = {c: None for c in TABLES["entities"]}
            ent.update({"kind": "model", "tier": "notable", "modality": modality,
                        "organization": rec.organization or UNKNOWN, "country": UNKNOWN})
            ent.update(rec.entity)
            ent.update({"entity_id": eid, "name": rec.name, "date": rec.date, "origin": origin,
                        "source_ids": sid, "row_hash": rec.raw_hash})
            rows["entities"].append(ent)
            rows["aliases"].append({"alias": rec.name, "entity_id": eid})
            rows["segments"].extend({"entity_id": eid, "dimension": k, "value": v}
                                    for k, v in rec.segments.items())
        rows["scores"].extend(
            {"entity_id": eid, "benchmark": b, "score": s, "date": rec.date or score_date or date,
             "source_id": sid, "origin": origin} for b, s in rec.scores)
        if _same(stored, eid, rows, own=match is None):
            report.unchanged += 1
            continue
        existed = any(eid in stored[t] for t in stored)
        report.updated += int(existed)
        report.added += int(not existed)
        (own_changed if match is None else foreign_changed).append(eid)
        for t, lst in rows.items():
            out[t].extend(lst)
    with store.transaction():
        upsert_source(store, src)
        replace_entities(store, origin, own_changed, foreign_changed,
                         {t: frame(t, lst) for t, lst in out.items()})
        store.apply_facts()


def _one_record_per_entity(resolved: list[tuple[Record, str | None, str]], ex: Existing,
                           report: IngestReport) -> dict[str, Record]:
    """The record kept for each entity when several rows resolve to one (versions of a model
    the catalog aliases together): the row named exactly like the entity, else the first.
    Every other row is reported as a conflict, never a refused file."""
    groups: dict[str, list[Record]] = {}
    for rec, _, eid in resolved:
        groups.setdefault(eid, []).append(rec)
    keep: dict[str, Record] = {}
    for eid, recs in groups.items():
        name = ex.info.get(eid, {}).get("name")
        exact = [r for r in recs if name is not None and model_key(r.name) == model_key(name)]
        kept = (exact or recs)[0]
        keep[eid] = kept
        for r in recs:
            if r is kept:
                continue
            report.conflicts.append({
                "entity_id": eid, "row": r.row, "field": "entity",
                "existing": f"row {kept.row} ({kept.name})", "ingested": r.name,
                "kept": f"row {kept.row} ({kept.name})"})
            report.notes.append(f"row {r.row}: {r.name!r} resolves to the same entity as row "
                                f"{kept.row} ({kept.name!r}), which was kept")
    return keep


def _stored_by_entity(store: Store, origin: str) -> dict[str, dict[str, set[tuple[Any, ...]]]]:
    """Every row of `origin` in entities, adoptions and scores, grouped by entity."""
    out: dict[str, dict[str, set[tuple[Any, ...]]]] = {}
    for t in ("entities", "adoptions", "scores"):
        cols = [c for c in TABLES[t] if c != "origin"]
        sel = ", ".join(qi(c) for c in cols)
        by: dict[str, set[tuple[Any, ...]]] = {}
        k = cols.index("entity_id")
        for r in store.con.con.execute(f"SELECT {sel} FROM {t} WHERE origin = ?",
                                       [origin]).fetchall():
            by.setdefault(r[k], set()).add(tuple(r))
        out[t] = by
    return out


def _same(stored: dict[str, dict[str, set[tuple[Any, ...]]]], eid: str,
          rows: dict[str, list[dict[str, Any]]], own: bool) -> bool:
    """True when the store already holds exactly these rows of the origin for the entity."""
    for t in ("entities", "adoptions", "scores") if own else ("adoptions", "scores"):
        if {plain_row(t, r) for r in rows[t]} != stored[t].get(eid, set()):
            return False
    return True
