"""Where the relational work runs: DuckDB embedded (the default) or Apache Spark via Ibis.

Measures and the classification only read the store through Ibis expressions
(`store.table(name)`, `store.con.to_pyarrow(expr)`), so the same code runs on either engine.
Writing (catalog loading, ingest, validation) always goes through the DuckDB store on the
driver; a Spark store is read-only: its tables are the DuckDB store's tables published as
Spark views, each unioned with the Parquet data of the same name under `tables`
(evidence that already lives on the cluster).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convergent.errors import ConvergentError
from convergent.schema import TABLES

if TYPE_CHECKING:
    from convergent.store import Store

BACKENDS = ("duckdb", "pyspark")
INSTALL_HINT = ('the pyspark backend needs the Spark extra: pip install "convergent[spark]" '
                "(and Java 17+, e.g. Debian's openjdk-17-jre-headless)")
DEFAULT_MASTER = "local[2]"
_SPARK_TYPES = {"string": "StringType", "date": "DateType", "float64": "DoubleType",
                "boolean": "BooleanType"}
_sessions: dict[str, Any] = {}


def spark_session(master: str | None = None) -> Any:
    """A Spark session for `master` (default: SPARK_MASTER or local[2]), made once per
    process; the usual Spark configuration (spark-defaults.conf, SPARK_CONF_DIR) applies."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConvergentError(INSTALL_HINT) from None
    url = master or os.environ.get("SPARK_MASTER") or DEFAULT_MASTER
    if url in _sessions:
        return _sessions[url]
    try:
        session = (SparkSession.builder.master(url).appName("convergent")
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.session.timeZone", "UTC")
                   .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                   .getOrCreate())
    except Exception as exc:  # Java missing, master unreachable: py4j raises many kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConvergentError(f"cannot start Spark at {url}: {first}") from None
    session.sparkContext.setLogLevel("ERROR")
    _sessions[url] = session
    return session


def spark_schema(name: str) -> Any:
    """The Spark schema of store table `name`."""
    from pyspark.sql import types as T

    return T.StructType([T.StructField(c, getattr(T, _SPARK_TYPES[t])(), True)
                         for c, t in TABLES[name].items()])


class SparkStore:
    """Read-only evidence tables on Spark with the read interface measures use."""

    def __init__(self, session: Any, prefix: str = "convergent_") -> None:
        import ibis

        self.session = session
        self.prefix = prefix
        self.con = ibis.pyspark.connect(session)
        self.path: Path | None = None

    def view(self, name: str) -> str:
        """The Spark view holding table `name`."""
        return f"{self.prefix}{name}"

    def table(self, name: str) -> Any:
        """The Ibis table `name` (a Spark view)."""
        return self.con.table(self.view(name))

    def count(self, name: str) -> int:
        """Number of rows in table `name`."""
        return int(self.table(name).count().execute())

    def publish(self, store: Store, tables: str | None = None) -> SparkStore:
        """Copy every table of a DuckDB store into Spark views, each unioned with the
        Parquet data of the same name under `tables` when it exists there. A local folder
        is first validated row by row as DuckDB reads it in place (`parquet_tables`); a
        remote URI is checked for its columns only."""
        if tables and ("://" not in tables or tables.startswith("file://")):
            from convergent.parquet_tables import open_tables

            open_tables(store.con.con, tables)
        for name, cols in TABLES.items():
            arrow = store.con.to_pyarrow(store.table(name).select(list(cols)))
            df = self.session.createDataFrame(arrow.to_pandas(), schema=spark_schema(name))
            if tables and name not in ("areas", "options"):
                df = df.unionByName(self._parquet(tables, name, df))
            df.createOrReplaceTempView(self.view(name))
        return self

    def _parquet(self, root: str, name: str, like: Any) -> Any:
        """The Parquet table `root/name` cast to the schema's columns, or no rows; optional
        columns a file leaves out take their defaults (as when DuckDB reads in place)."""
        from pyspark.sql import functions as F

        from convergent.parquet_tables import DEFAULTS

        df = None
        for path in (f"{root.rstrip('/')}/{name}", f"{root.rstrip('/')}/{name}.parquet"):
            try:
                df = self.session.read.parquet(path)
                break
            except Exception as exc:  # AnalysisException when the path does not exist
                if "PATH_NOT_FOUND" in str(exc) or "does not exist" in str(exc):
                    continue
                raise ConvergentError(f"cannot read Parquet table {name}: "
                                      f"{str(exc).splitlines()[0]}", where=path) from None
        if df is None:
            return like.limit(0)
        defaults = DEFAULTS.get(name, {})
        missing = [c for c in TABLES[name] if c not in df.columns and c not in defaults]
        if missing:
            raise ConvergentError(f"Parquet table {name} lacks columns {missing}", where=path)

        def column(c: str) -> Any:
            kind = like.schema[c].dataType
            if c not in df.columns:
                return F.lit(defaults[c]).cast(kind).alias(c)
            if defaults.get(c) is not None:
                return F.coalesce(F.col(c).cast(kind), F.lit(defaults[c]).cast(kind)).alias(c)
            return F.col(c).cast(kind).alias(c)

        return df.select([column(c) for c in TABLES[name]])


def open_analysis_store(db: str | Path | None = None, *, builtin: bool = True,
                        backend: str = "duckdb", master: str | None = None,
                        tables: str | None = None) -> Any:
    """The store the analysis reads: DuckDB (in memory or `db`), or that evidence published
    to Spark (`backend='pyspark'`), each with the Parquet tables under `tables` added:
    DuckDB reads a local folder in place, Spark any URI it can read."""
    from convergent.store import open_store

    if backend not in BACKENDS:
        raise ConvergentError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "pyspark":
        spark_session(master)  # fail fast (one line) before any work
    store = open_store(db, builtin=builtin)
    if backend == "duckdb":
        if tables:
            store.read_in_place(tables)
        return store
    return SparkStore(spark_session(master)).publish(store, tables)
