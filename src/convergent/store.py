"""The evidence store: Ibis tables on DuckDB, in memory by default or in a file."""

from __future__ import annotations

import contextlib
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

    def table(self, name: str) -> Table:
        """The Ibis table `name`."""
        return self.con.table(name)

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


def open_store(db: str | Path | None = None, *, builtin: bool = True) -> Store:
    """Open the store (in memory unless `db` is a path) with the built-in catalog loaded."""
    store = Store(db)
    if builtin:
        from convergent.catalog.load import builtin_frames

        store.replace_origin("catalog", builtin_frames())
    with store.transaction():
        store.apply_facts()
    return store
