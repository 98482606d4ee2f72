"""The evidence store: Ibis tables on DuckDB, in memory by default or in a file.

Reading never writes the user's `--db` file: `open_store` builds an in-memory store from the
built-in catalog and copies the file's own rows in through a read-only attachment, so any
number of readers can share one file, even while an ingest runs. `writing_store` is the one
way to change a file: it works on a private copy and swaps it in with one rename, so a crash
at any moment leaves either the old store or the new one, never a torn mix.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import pandas as pd

from convergent.errors import ConvergentError
from convergent.registry import registry
from convergent.schema import TABLES

if TYPE_CHECKING:
    from ibis.expr.types import Table

_DUCK_TYPES = {"string": "VARCHAR", "date": "DATE", "float64": "DOUBLE", "boolean": "BOOLEAN"}
# Entity columns that `entity_facts` may fill where the entity itself records nothing.
FACT_FIELDS = ("params_total", "params_active", "training_compute_flop", "training_cost_usd",
               "dataset_tokens")


class Store:
    """One DuckDB database holding every evidence table; queries are Ibis expressions."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.views: dict[str, str] = {}   # table -> view adding Parquet read in place
        try:
            self.con = ibis.duckdb.connect(str(self.path) if self.path else ":memory:")
        except Exception as exc:  # duckdb raises several types for an unusable file
            raise ConvergentError(f"cannot open database: {exc}".splitlines()[0],
                                  where=str(path)) from None
        existing = set(self.con.list_tables())
        for name, cols in TABLES.items():
            if name not in existing:
                ddl = ", ".join(f'"{c}" {_DUCK_TYPES[t]}' for c, t in cols.items())
                self.con.raw_sql(f'CREATE TABLE "{name}" ({ddl})')
            else:
                have = set(self.con.table(name).columns)
                if not set(cols) <= have:
                    raise ConvergentError(
                        f"table {name} lacks columns {sorted(set(cols) - have)}; "
                        "not a convergent database", where=str(path))
        self._load_registry()

    def close(self) -> None:
        """Flush everything to the file (for file stores) and release the connection."""
        if self.path is not None:
            self.con.raw_sql("CHECKPOINT")
        self.con.disconnect()

    def attach_evidence(self, db: Path) -> None:
        """Copy the rows of a `--db` file that are not the built-in catalog into this store.

        The file is attached read-only, so this never changes it and never takes its write
        lock. A file that does not exist yet is an empty store.
        """
        if not db.exists():
            return
        if not db.is_file():
            raise ConvergentError("not a database file", where=str(db))
        if not os.access(db, os.R_OK):
            raise ConvergentError("permission denied", where=str(db))
        raw = self.con.con
        quoted = str(db).replace("'", "''")
        try:
            raw.execute(f"ATTACH '{quoted}' AS evidence (READ_ONLY)")
        except Exception as exc:  # duckdb raises several types for an unusable file
            raise ConvergentError(f"cannot open database: {exc}".splitlines()[0][:300],
                                  where=str(db)) from None
        try:
            have: dict[str, set[str]] = {}
            for table, col in raw.execute(
                    "SELECT table_name, column_name FROM duckdb_columns() "
                    "WHERE database_name = 'evidence'").fetchall():
                have.setdefault(table, set()).add(col)
            own = ("SELECT entity_id FROM evidence.entities "
                   "WHERE origin IS DISTINCT FROM 'catalog'")
            for name, cols in TABLES.items():
                if name in ("areas", "options") or name not in have:
                    continue
                if not set(cols) <= have[name]:
                    raise ConvergentError(
                        f"table {name} lacks columns {sorted(set(cols) - have[name])}; "
                        "not a convergent database", where=str(db))
                if "origin" in cols:
                    cond = "WHERE origin IS DISTINCT FROM 'catalog'"
                elif "entity_id" in cols and "entities" in have:
                    cond = f"WHERE entity_id IN ({own})"
                else:
                    cond = ""
                collist = ", ".join(f'"{c}"' for c in cols)
                raw.execute(f'INSERT INTO main."{name}" ({collist}) SELECT {collist} '
                            f'FROM evidence."{name}" {cond}')
        finally:
            raw.execute("DETACH evidence")

    def table(self, name: str) -> Table:
        """The Ibis table `name` (with any Parquet rows read in place, see `read_in_place`)."""
        return self.con.table(self.views.get(name, name))

    def read_in_place(self, root: str) -> None:
        """Add the Parquet evidence tables under `root` to this store's tables for reading,
        without copying them in: each becomes a view over the store's rows and the files.
        Every file is validated first; on an error no view is made."""
        from convergent.parquet_tables import open_tables, view_sql

        raw = self.con.con
        for name, table in open_tables(raw, root).items():
            view = f"in_place_{name}"
            raw.execute(f'CREATE OR REPLACE TEMP VIEW "{view}" AS {view_sql(name, table)}')
            self.views[name] = view

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all."""
        self.con.raw_sql("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.raw_sql("ROLLBACK")
            raise
        self.con.raw_sql("COMMIT")

    def append(self, name: str, df: pd.DataFrame) -> None:
        """Insert rows (columns in schema order) into table `name`."""
        if df.empty:
            return
        cols = list(TABLES[name])
        raw = self.con.con
        raw.register("_incoming", df[cols])
        try:
            collist = ", ".join(f'"{c}"' for c in cols)
            raw.execute(f'INSERT INTO "{name}" ({collist}) SELECT {collist} FROM _incoming')
        finally:
            raw.unregister("_incoming")

    def delete_origin(self, origin: str) -> None:
        """Remove every row that came from `origin` (a source name such as 'catalog')."""
        for name, cols in TABLES.items():
            if "origin" in cols:
                self.con.con.execute(f'DELETE FROM "{name}" WHERE origin = ?', [origin])
        eids = "SELECT entity_id FROM entities"
        self.con.con.execute(f"DELETE FROM aliases WHERE entity_id NOT IN ({eids})")
        self.con.con.execute(f"DELETE FROM segments WHERE entity_id NOT IN ({eids})")

    def replace_origin(self, origin: str, frames: dict[str, pd.DataFrame]) -> None:
        """Atomically swap every row of `origin` for `frames`."""
        with self.transaction():
            self.delete_origin(origin)
            for name, df in frames.items():
                if name in ("areas", "options"):
                    continue
                self.append(name, df)

    def apply_facts(self) -> None:
        """Fill unknown numeric entity columns from `entity_facts`; stored values always win.

        The catalog is reloaded on every open, so facts other sources add to its entities live
        in their own table and are applied again after each reload and each ingest. Of several
        facts for one entity and field, the first by origin and source is used.
        """
        for col in FACT_FIELDS:
            self.con.con.execute(f"""
                UPDATE entities SET "{col}" = f.value
                FROM (SELECT entity_id, first(value ORDER BY origin, source_id, value) AS value
                      FROM entity_facts WHERE field = ? AND value IS NOT NULL
                      GROUP BY entity_id) f
                WHERE entities.entity_id = f.entity_id AND entities."{col}" IS NULL""", [col])

    def count(self, name: str) -> int:
        """Number of rows in table `name`."""
        return int(self.table(name).count().execute())

    def _load_registry(self) -> None:
        reg = registry()
        areas = pd.DataFrame([
            {"area_id": a.area_id, "layer": a.layer, "kind": a.kind, "name_en": a.en,
             "name_zh": a.zh, "benchmark": a.benchmark, "ceiling": a.ceiling}
            for a in reg.areas.values()
        ])
        options = pd.DataFrame([
            {"area_id": a.area_id, "option": o, "alias": al}
            for a in reg.areas.values() for o, als in a.options.items() for al in [o, *als]
        ], columns=list(TABLES["options"]))
        with self.transaction():
            self.con.con.execute("DELETE FROM areas")
            self.con.con.execute("DELETE FROM options")
            self.append("areas", areas)
            self.append("options", options)


def _filled(store: Store, builtin: bool, evidence: Path | None = None) -> Store:
    """`store` with the built-in catalog, the rows of `evidence`, and facts applied."""
    if builtin:
        from convergent.catalog.load import builtin_frames

        store.replace_origin("catalog", builtin_frames())
    if evidence is not None:
        store.attach_evidence(evidence)
    with store.transaction():
        store.apply_facts()
    return store


def open_store(db: str | Path | None = None, *, builtin: bool = True) -> Store:
    """An in-memory store: the built-in catalog plus the evidence of `db`, read, never written."""
    return _filled(Store(None), builtin, Path(db).expanduser() if db is not None else None)


def _work_name(db: Path, tag: str) -> Path:
    return db.with_name(f".{db.name}.{tag}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _write_lock(db: Path) -> Iterator[None]:
    """One writer per database file; a second one gets a clear error instead of waiting."""
    import fcntl

    lock = _work_name(db, "lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ConvergentError(f"cannot write beside the database ({exc.strerror})",
                              where=str(db)) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ConvergentError("another ingest is writing this database; try again when "
                                  "it has finished", where=str(db)) from None
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def writing_store(db: str | Path | None, *, builtin: bool = True) -> Iterator[Store]:
    """A store whose changes reach `db` only when the block ends without an error.

    The writer works on a copy of the file beside it and swaps it in with one atomic rename
    after a checkpoint and fsync; copies left by killed writers are removed first. The
    built-in catalog is loaded into the copy for resolution and left out of the file, which
    readers combine with the catalog of the version they run.
    """
    if db is None:
        yield open_store(None, builtin=builtin)
        return
    path = Path(db).expanduser().absolute()
    if path.exists() and not path.is_file():
        raise ConvergentError("not a database file", where=str(db))
    if not path.parent.is_dir():
        raise ConvergentError("the folder does not exist", where=str(db))
    with _write_lock(path):
        for stale in path.parent.glob(f".{glob.escape(path.name)}.tmp-*"):
            with contextlib.suppress(OSError):
                stale.unlink()
        if Path(f"{path}.wal").exists():
            Store(path).close()  # replay an old interrupted write before copying
        work = _work_name(path, f"tmp-{os.getpid()}")
        store: Store | None = None
        try:
            if path.exists():
                try:
                    shutil.copyfile(path, work)
                except OSError as exc:
                    raise ConvergentError(f"cannot copy the database to write it "
                                          f"({exc.strerror or exc})", where=str(db)) from None
            try:
                store = _filled(Store(work), builtin)
            except ConvergentError as exc:
                raise ConvergentError(str(exc).split(": ", 1)[-1], where=str(db)) from None
            yield store
            with store.transaction():  # the file keeps only the user's own evidence
                store.delete_origin("catalog")
            store.close()
            store = None
            _fsync(work)
            os.replace(work, path)
            _fsync(path.parent)
        finally:
            if store is not None:
                with contextlib.suppress(Exception):
                    store.con.disconnect()
            for leftover in (work, Path(f"{work}.wal")):
                with contextlib.suppress(OSError):
                    leftover.unlink()
