"""Evidence tables read in place from a folder of Parquet files (`--tables DIR`).

Evidence that is already big (millions of adoptions mined from repositories, say) is not
copied into the store: DuckDB reads it where it lies, through one view per table that adds
it to the store's own rows. Before any view is made, every row is checked against the same
rules an import applies (required columns, types, plausible dates and magnitudes,
registered areas and canonical options, no adoption recorded twice): one aggregate pass
per table, and one distinct count for the adoptions. The first bad row is
named by file, row (counting from 1) and column, and nothing is read from a folder that
fails.

Layout: `DIR/adoptions/*.parquet` (any depth), `DIR/adoptions.parquet` (one file, or the
folder of part files Spark writes under that name), likewise for the other tables of
`convergent.schema.TABLES` except the registry's `areas` and `options`.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convergent.dates import EARLIEST, latest_plausible
from convergent.errors import ConvergentError
from convergent.ingest.values import PLAUSIBLE
from convergent.schema import TABLES, UNKNOWN
from convergent.scoreunits import ELO_RANGE

#: Tables that may be read in place (the registry's own tables may not).
IN_PLACE = tuple(t for t in TABLES if t not in ("areas", "options"))

#: Columns a file may leave out, and the value they then take.
DEFAULTS: dict[str, dict[str, Any]] = {
    "entities": {**{c: None for c in TABLES["entities"] if c != "entity_id"},
                 "origin": "parquet"},
    "sources": {"url": None, "title": None, "kind": None, "origin": "parquet",
                "snapshot": None},
    "adoptions": {"weight": 1.0, "source_id": None, "origin": "parquet"},
    "scores": {"source_id": None, "origin": "parquet"},
    "entity_facts": {"source_id": None, "origin": "parquet"},
    "runs": {"source_id": None, "group_name": None, "params": None, "tokens": None,
             "compute": None},
}

#: Columns that must hold a non-empty value in every row.
KEYS: dict[str, tuple[str, ...]] = {
    "sources": ("source_id",), "entities": ("entity_id",), "aliases": ("alias", "entity_id"),
    "segments": ("entity_id", "dimension", "value"),
    "adoptions": ("entity_id", "area_id", "option"),
    "scores": ("entity_id", "benchmark", "score"), "entity_facts": ("entity_id", "field"),
    "runs": ("run_id", "loss"),
}

#: Numeric columns and the PLAUSIBLE quantity they are checked against.
MAGNITUDES: dict[str, dict[str, str]] = {
    "entities": {"params_total": "params", "params_active": "params",
                 "training_compute_flop": "compute", "training_cost_usd": "cost",
                 "dataset_tokens": "tokens", "context_length": "context"},
    "runs": {"params": "params", "tokens": "tokens", "compute": "compute"},
}
_SQL_TYPES = {"string": "VARCHAR", "date": "DATE", "float64": "DOUBLE", "boolean": "BOOLEAN"}


@dataclass(frozen=True)
class ParquetTable:
    """One evidence table found under the folder: its files and the columns they hold."""

    name: str
    files: list[str]
    types: dict[str, set[str]]      # each column some file holds -> its types in the files

    @property
    def columns(self) -> set[str]:
        """The store columns some file of the table holds."""
        return set(self.types)


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _file_list(files: list[str]) -> str:
    return "[" + ", ".join(_q(f) for f in files) + "]"


def find_tables(root: str) -> dict[str, list[str]]:
    """Parquet files per table name under `root`; a one-line error for an unusable folder."""
    if "://" in root and not root.startswith("file://"):
        raise ConvergentError("DuckDB reads --tables from a local folder; a remote URI needs "
                              "--backend pyspark", where=root)
    base = Path(root.removeprefix("file://")).expanduser()
    if not base.is_dir():
        raise ConvergentError("no such folder of Parquet tables", where=root)
    found: dict[str, list[str]] = {}
    for name in IN_PLACE:
        files = []
        # a folder of part files, named as the table or as Spark names its output
        # (`adoptions.parquet/part-0000.snappy.parquet`), or one file
        for folder in (base / name, base / f"{name}.parquet"):
            if folder.is_dir():
                files += sorted(glob.glob(os.path.join(glob.escape(str(folder)), "**",
                                                       "*.parquet"), recursive=True))
        if (base / f"{name}.parquet").is_file():
            files.append(str(base / f"{name}.parquet"))
        if files:
            found[name] = files
    stray = sorted(p.name for p in base.iterdir()
                   if p.name.removesuffix(".parquet") in ("areas", "options"))
    if stray:
        raise ConvergentError(f"{stray[0]}: areas and options come from the registry "
                              "(catalog/areas.yaml), not from Parquet", where=root)
    if not found:
        raise ConvergentError("no Parquet evidence tables here (expected adoptions/, "
                              "segments/, entities/, ... holding *.parquet files)", where=root)
    return found


def _schema(con: Any, name: str, files: list[str]) -> dict[str, set[str]]:
    """The columns some file of the table holds, with their types; a file lacking a
    required column, a column of a type that cannot hold its values, or an unreadable file
    is refused."""
    want = TABLES[name]
    optional = set(DEFAULTS.get(name, {}))
    present: dict[str, set[str]] = {}
    for f in files:
        try:
            described = con.execute(
                f"DESCRIBE SELECT * FROM read_parquet({_q(f)})").fetchall()
        except Exception as exc:  # duckdb raises several types for a corrupt file
            raise ConvergentError(f"cannot read Parquet file: {str(exc).splitlines()[0][:200]}",
                                  where=f) from None
        types = {row[0]: row[1] for row in described}
        missing = [c for c in want if c not in types and c not in optional]
        if missing:
            raise ConvergentError(f"Parquet table {name} lacks columns {missing}", where=f)
        for col, kind in want.items():
            got = types.get(col)
            if got is None:
                continue
            if not _fits(kind, got):
                raise ConvergentError(f"column {col} has type {got}; expected "
                                      f"{_SQL_TYPES[kind]}", where=f"{f}: column {col}")
        for c in want:
            if c in types:
                present.setdefault(c, set()).add(types[c])
    return present


_NUMERIC = ("DOUBLE", "FLOAT", "REAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT",
            "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "VARCHAR")


def _fits(kind: str, sql_type: str) -> bool:
    """Whether a Parquet column of `sql_type` can hold values of store type `kind` (text
    columns can; each of their values is then checked)."""
    if kind == "float64":
        return sql_type in _NUMERIC or sql_type.startswith("DECIMAL")
    if kind == "boolean":
        return sql_type in ("BOOLEAN", "VARCHAR")
    if kind == "date":
        return sql_type in ("DATE", "VARCHAR") or sql_type.startswith("TIMESTAMP")
    # text: any single value that reads as text, not a list, struct, map or union of them
    return not (sql_type.endswith("]") or sql_type.startswith(("STRUCT", "MAP", "UNION")))


def _try(name: str, col: str) -> str:
    return f'TRY_CAST("{col}" AS {_SQL_TYPES[TABLES[name][col]]})'


def _cast(name: str, col: str, columns: set[str]) -> str:
    """SQL for column `col` of the table in its store type; an optional column takes its
    default where a file leaves it out (or holds NULL)."""
    kind = _SQL_TYPES[TABLES[name][col]]
    default = DEFAULTS.get(name, {}).get(col)
    lit = "NULL" if default is None else (_q(default) if isinstance(default, str)
                                          else repr(default))
    if col not in columns:
        return f"CAST({lit} AS {kind})"
    if default is None:
        return _try(name, col)
    return f"coalesce({_try(name, col)}, CAST({lit} AS {kind}))"


@dataclass(frozen=True)
class Rule:
    """One check: the SQL condition of a bad row, and what metadata could prove it cannot
    hold anywhere (`proof`: "key" or "date" on `column`, or None: rows must be read)."""

    column: str
    bad: str
    reason: str
    proof: str | None = None


def _rules(table: ParquetTable, today: dt.date) -> list[Rule]:
    """Every check of the table's rows."""
    name, columns = table.name, table.columns
    out: list[Rule] = []
    for col in KEYS.get(name, ()):
        text = f'CAST("{col}" AS VARCHAR)'
        # byte order: the strings that are empty or start with an ASCII blank or control
        # character are exactly those below '!'; a Unicode space can only lead a string
        # at or above chr(128), where the pattern test is then run
        out.append(Rule(col, f'"{col}" IS NULL OR {text} < \'!\' OR ({text} >= chr(128) AND '
                             f"regexp_matches({text}, '^[\\pZ\\s]'))",
                        "is empty or starts with a blank", "key"))
    for col, kind in TABLES[name].items():
        if col not in columns or kind == "string":
            continue
        if table.types.get(col, set()) - {_SQL_TYPES[kind]}:
            out.append(Rule(col, f'"{col}" IS NOT NULL AND {_try(name, col)} IS NULL',
                            f"is not a {_SQL_TYPES[kind].lower()}"))
        if kind == "date" and "VARCHAR" in table.types.get(col, set()):
            out.append(Rule(col, f"NOT regexp_full_match(CAST(\"{col}\" AS VARCHAR), "
                                 "'\\d{4}-\\d{2}-\\d{2}([ T]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?)?')",
                            "is not a YYYY-MM-DD date (optionally with a time)"))
    last = latest_plausible(today)
    for col, kind in TABLES[name].items():
        if col in columns and kind == "date":
            out.append(Rule(col, f"{_cast(name, col, columns)} NOT BETWEEN DATE '{EARLIEST}' "
                                 f"AND DATE '{last}'",
                            f"is an implausible date (evidence must be dated "
                            f"{EARLIEST}..{last})", "date"))
        if col in columns and kind == "float64":
            out.append(Rule(col, f"NOT isfinite({_cast(name, col, columns)})", "is not finite"))
    for col, quantity in MAGNITUDES.get(name, {}).items():
        if col in columns:
            lo, hi = PLAUSIBLE[quantity]
            out.append(Rule(col, f"{_cast(name, col, columns)} NOT BETWEEN {lo!r} AND {hi!r}",
                            f"is an implausible {quantity} value (expected {lo:g} to {hi:g})"))
    if name == "adoptions" and "weight" in columns:
        out.append(Rule("weight", "NOT (TRY_CAST(weight AS DOUBLE) > 0 AND "
                                  "TRY_CAST(weight AS DOUBLE) <= 1)", "must lie in (0, 1]"))
    if name == "runs":
        out.append(Rule("loss", "TRY_CAST(loss AS DOUBLE) <= 0", "must be positive"))
    if name == "scores":
        elo = "contains(regexp_replace(lower(benchmark), '[^a-z0-9]', '', 'g'), 'elo')"
        lo, hi = ELO_RANGE
        out.append(Rule("score", f"TRY_CAST(score AS DOUBLE) NOT BETWEEN CASE WHEN {elo} THEN "
                                 f"{lo} ELSE 0 END AND CASE WHEN {elo} THEN {hi} ELSE 100 END",
                        f"is out of range (0–100, or {lo:g}–{hi:g} for an Elo rating)"))
    if name == "entity_facts":
        cases = " ".join(f"WHEN {_q(f)} THEN TRY_CAST(value AS DOUBLE) NOT BETWEEN "
                         f"{PLAUSIBLE[k][0]!r} AND {PLAUSIBLE[k][1]!r}"
                         for f, k in MAGNITUDES["entities"].items())
        out.append(Rule("value", f"CASE field {cases} ELSE false END",
                        "is implausible for its field"))
    return out


def _proven(con: Any, table: ParquetTable, rules: list[Rule], today: dt.date) -> set[int]:
    """Rules that the files' own statistics show no row can break, so need no reading.

    Parquet keeps per row group the null count and the smallest and largest value of each
    column (a shortened bound is still a bound). A key column without nulls whose values
    all lie in ['!', chr(128)) is neither empty nor led by a blank; a DATE column whose
    bounds lie inside the plausible span holds no implausible date. Floating-point rules
    are never proven this way: the statistics leave NaN out."""
    wanted = {r.column for r in rules if r.proof}
    if not wanted:
        return set()
    cols = ", ".join(_q(c) for c in sorted(wanted))
    meta = _run(con, "SELECT file_name, path_in_schema, num_values, stats_null_count, "
                     "stats_min_value, stats_max_value FROM parquet_metadata("
                     f"{_file_list(table.files)}) WHERE path_in_schema IN ({cols})", table)
    groups: dict[str, list[tuple[Any, ...]]] = {}
    seen: dict[str, set[str]] = {}
    for f, col, n, nulls, lo, hi in meta:
        groups.setdefault(col, []).append((n, nulls, lo, hi))
        seen.setdefault(col, set()).add(f)
    last = latest_plausible(today).isoformat()
    files = set(table.files)
    out = set()
    for i, rule in enumerate(rules):
        rows = groups.get(rule.column, [])
        if rule.proof is None or seen.get(rule.column, set()) != files:
            continue
        if rule.proof == "key":
            ok = all(nulls == 0 and lo is not None and hi is not None and lo >= "!"
                     and hi < chr(128) for _, nulls, lo, hi in rows)
        else:
            ok = table.types.get(rule.column) == {"DATE"} and all(
                nulls is not None and (nulls == n or (
                    lo is not None and hi is not None and EARLIEST.isoformat() <= lo
                    and hi <= last)) for n, nulls, lo, hi in rows)
        if ok:
            out.add(i)
    return out


def validate(con: Any, table: ParquetTable, today: dt.date | None = None) -> None:
    """Check every row of the table; ConvergentError naming the first bad row.

    One pass counts the bad rows of each rule (adoptions grouped by area and option, so an
    unregistered area or a label that is not the area's canonical option is found in the
    same pass); only when a rule fails is the first offending row looked up."""
    today = today or dt.date.today()
    proven = _proven(con, table, every := _rules(table, today), today)
    rules = [r for i, r in enumerate(every) if i not in proven]
    src = f"read_parquet({_file_list(table.files)}, union_by_name = true"
    adoptions = table.name == "adoptions"
    keys = "area_id, option, " if adoptions else ""
    # every value is decoded once here, so a damaged file fails now, not mid-analysis:
    # columns no remaining rule reads are hashed
    checked = {r.column for r in rules}
    touch = [f'bit_xor(hash("{c}"))' for c in sorted(table.columns - checked)]
    counts = ", ".join([f"count(*) FILTER (WHERE coalesce({r.bad}, false))" for r in rules]
                       + touch)
    group = " GROUP BY area_id, option" if adoptions else ""
    rows = _run(con, f"SELECT {keys}{counts} FROM {src}){group}", table)
    failed: set[int] = set()
    pairs: list[tuple[str, str, str]] = []
    for row in rows:
        hits = (row[2:] if adoptions else row)[:len(rules)]
        failed.update(i for i, n in enumerate(hits) if n)
        if adoptions and row[0] is not None and row[1] is not None:
            problem = _option_problem(str(row[0]), str(row[1]))
            if problem:
                pairs.append((str(row[0]), str(row[1]), problem))
    bad: list[tuple[str, int, int, str, str, str]] = []
    located = f"{src}, filename = true, file_row_number = true)"
    for i in failed:
        col, cond, reason = rules[i].column, rules[i].bad, rules[i].reason
        # an aggregate FILTER as in the count pass: a WHERE is pushed into the scan, whose
        # Parquet statistics leave NaN out and so can skip the very row group that failed
        f, r, value = _run(con, f'SELECT min((filename, file_row_number, CAST("{col}" AS '
                                f"VARCHAR))) FILTER (WHERE coalesce({cond}, false)) "
                                f"FROM {located}", table)[0][0]
        bad.append((f, r, i, col, value or "", reason))
    for area_id, option, problem in pairs:
        f, r = _run(con, f"SELECT filename, file_row_number FROM {located} WHERE area_id = "
                         f"{_q(area_id)} AND option = {_q(option)} "
                         "ORDER BY filename, file_row_number LIMIT 1", table)[0]
        bad.append((f, r, len(rules), "area_id" if problem.startswith("unknown area")
                    else "option", "", problem))
    if adoptions and not bad:
        bad.extend(_repeated(con, table, src, located))
    if bad:
        f, r, _, col, value, reason = min(bad)
        shown = f" {value[:60]!r}" if value else ""
        raise ConvergentError(f"Parquet table {table.name}: {col}{shown} {reason}",
                              where=f"{f}: row {r + 1}, column {col}")


def _repeated(con: Any, table: ParquetTable, src: str, located: str
              ) -> list[tuple[str, int, int, str, str, str]]:
    """A dated known adoption recorded twice — the same entity, area, option and date,
    within the files or already in the store (the built-in catalog, --db): it would count
    twice in every window holding it.

    A cheap distinct count of the hashed keys finds whether any key repeats; only then is
    the first repeated key looked up. (Different options of one entity on one date are not
    refused: event areas such as agent protocols record each adoption as its own unit.)"""
    key = "entity_id, area_id, option, date"
    known = f"FROM {src}) WHERE option <> '{UNKNOWN}' AND date IS NOT NULL"
    repeats = _run(con, f"SELECT count(*) - count(DISTINCT hash({key})) {known}", table)[0][0]
    found: list[tuple[Any, ...]] = []
    if repeats:
        found += [(*k, "in these files") for k in _run(
            con, f"SELECT {key} {known} GROUP BY ALL HAVING count(*) > 1 ORDER BY {key} "
                 "LIMIT 1", table)]
    has_store = _run(con, "SELECT count(*) FROM duckdb_tables() WHERE database_name = "
                          "current_database() AND schema_name = 'main' AND table_name = "
                          "'adoptions'", table)[0][0]
    if has_store and not found:
        found += [(*k, "in the built-in catalog or --db evidence (--no-catalog leaves the "
                       "catalog out)") for k in _run(
            con, f"SELECT {', '.join('p.' + c for c in key.split(', '))} FROM (SELECT {key} "
                 f"{known}) p JOIN (SELECT DISTINCT {key} FROM main.adoptions WHERE option "
                 f"<> '{UNKNOWN}' AND date IS NOT NULL) s USING ({key}) ORDER BY {key} "
                 "LIMIT 1", table)]
    out = []
    for entity, area, option, day, where in found:
        rows = _run(con, f"SELECT filename, file_row_number FROM {located} WHERE entity_id = "
                         f"{_q(entity)} AND area_id = {_q(area)} AND option = {_q(option)} "
                         f"AND TRY_CAST(date AS DATE) = DATE '{day}' "
                         "ORDER BY filename, file_row_number LIMIT 2", table)
        f, r = rows[-1] if where == "in these files" else rows[0]
        out.append((f, r, 0, "entity_id", entity,
                    f"repeats its adoption of {option!r} in area {area!r} on {day} {where}; "
                    "the same adoption counts once"))
    return out


def _run(con: Any, sql: str, table: ParquetTable) -> list[tuple[Any, ...]]:
    try:
        return con.execute(sql).fetchall()
    except Exception as exc:  # duckdb raises several types for a corrupt file
        text = str(exc).splitlines()[0]
        named = [f for f in table.files if f in text]
        where = (max(named, key=len) if named else table.files[0] if len(table.files) == 1
                 else os.path.commonpath(table.files))
        raise ConvergentError(f"cannot read Parquet table {table.name}: {text[:200]}",
                              where=where) from None


def _option_problem(area_id: str, option: str) -> str | None:
    """Why (area, option) cannot be counted as written, or None when it can."""
    from convergent.registry import canonical_option, registry

    area = registry().areas.get(area_id)
    if area is None:
        return (f"unknown area {area_id!r}; known areas: "
                f"{', '.join(sorted(registry().areas))}")
    if option == UNKNOWN:
        return None
    try:
        canon = canonical_option(area_id, option)
    except ConvergentError as exc:
        return str(exc)
    if canon != option:
        return f"{option!r} must be written as the canonical option {canon!r}"
    return None


def view_sql(name: str, table: ParquetTable) -> str:
    """The view adding the table's Parquet rows to the store's own rows of `name`."""
    cols = list(TABLES[name])
    own = ", ".join(f'"{c}"' for c in cols)
    cast = ", ".join(f'{_cast(name, c, table.columns)} AS "{c}"' for c in cols)
    return (f'SELECT {own} FROM main."{name}" UNION ALL SELECT {cast} FROM '
            f"read_parquet({_file_list(table.files)}, union_by_name = true)")


def open_tables(con: Any, root: str, today: dt.date | None = None) -> dict[str, ParquetTable]:
    """Every table under `root`, schema-checked and validated (nothing is kept on error)."""
    tables = {}
    for name, files in find_tables(root).items():
        types = _schema(con, name, files)
        table = ParquetTable(name, files, types)
        validate(con, table, today)
        tables[name] = table
    return tables
