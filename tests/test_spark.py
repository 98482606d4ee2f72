"""The same classification on DuckDB and on Apache Spark (local mode) through Ibis."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest

import convergent.backends as backends
from convergent.classify import Classifier
from convergent.cli import main
from convergent.config import load_config
from convergent.schema import table_frame
from convergent.store import Store
from convergent.synthetic import planted_frames

AS_OF = dt.date(2025, 6, 30)
PLAN: dict[str, Any] = {"optimizer": "L4", "normalization": "L3", "attention": "L2",
                        "alignment": "L1", "ffn": "L0", "precision": [0.5, 0.3, 0.2]}


def _spark_ready() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return 'pyspark is not installed (pip install "convergent[spark]")'
    if shutil.which("java") is None:
        return "no Java runtime on PATH (Debian: openjdk-17-jre-headless)"
    return None


def evidence() -> Store:
    """About 110,000 adoptions over six areas with segments, plus unknown choices."""
    rng = np.random.default_rng(7)
    frames = planted_frames(PLAN, as_of=AS_OF, n_per_window=9000, rng=rng, months=24)
    unknown = frames["adoptions"].sample(n=2000, random_state=3).copy()
    unknown["entity_id"] = [f"unk-{i}" for i in range(len(unknown))]
    unknown["option"] = "unknown"
    frames["adoptions"] = table_frame("adoptions", pd.concat([frames["adoptions"], unknown]))
    store = Store(None)
    for name, df in frames.items():
        store.append(name, df)
    assert store.count("adoptions") >= 100_000
    return store


@pytest.mark.spark
@pytest.mark.skipif(_spark_ready() is not None, reason=str(_spark_ready()))
def test_duckdb_and_spark_agree_bit_for_bit() -> None:
    duck = evidence()
    spark = backends.SparkStore(backends.spark_session("local[2]")).publish(duck)
    assert spark.count("adoptions") == duck.count("adoptions")
    cfg = load_config()
    areas = list(PLAN)
    a = Classifier(duck, cfg, areas)
    b = Classifier(spark, cfg, areas)
    for when in (AS_OF, AS_OF - dt.timedelta(days=120), dt.date(2024, 12, 31)):
        for x, y in zip(a.classify(when), b.classify(when), strict=True):
            dx, dy = x.to_dict(), y.to_dict()
            assert (dx["area"], dx["level"], dx["n"]) == (dy["area"], dy["level"], dy["n"])
            assert dx["certainty"] == dy["certainty"]
            for key in ("leader_share", "second_share", "hhi", "degree"):
                if dx.get(key) is None:
                    assert dy.get(key) is None
                else:
                    assert dy[key] == pytest.approx(dx[key], abs=1e-9), key
            assert dx == dy


def test_pyspark_backend_without_the_extra_is_one_line(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    monkeypatch.setattr(backends, "_sessions", {})
    monkeypatch.setattr(sys, "argv", ["convergent", "--backend", "pyspark", "classify"])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.count("\n") == 1 and 'pip install "convergent[spark]"' in err


def test_unknown_backend_is_refused(monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["convergent", "--backend", "oracle", "classify"])
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 2 and "unknown backend 'oracle'" in capsys.readouterr().err


def _parquet_folder(store: Store, root: Any) -> None:
    """The store's adoptions and segments written as Parquet tables under `root`: adoptions
    in `adoptions/`, segments in a folder named `segments.parquet` as Spark writes it."""
    import pyarrow.parquet as pq

    for name, folder in (("adoptions", "adoptions"), ("segments", "segments.parquet")):
        (root / folder).mkdir(parents=True)
        table = store.con.to_pyarrow(store.table(name))
        half = table.num_rows // 2                     # two files per table
        pq.write_table(table.slice(0, half), root / folder / "part-0.parquet")
        pq.write_table(table.slice(half), root / folder / "part-1.parquet")


@pytest.mark.spark
@pytest.mark.skipif(_spark_ready() is not None, reason=str(_spark_ready()))
def test_parquet_read_in_place_agrees_on_duckdb_and_spark(tmp_path: Any) -> None:
    from convergent.registry import registry

    stored = evidence()
    raw = stored.con.con
    for area, option in raw.execute("SELECT DISTINCT area_id, option FROM adoptions").fetchall():
        if option != "unknown" and option not in registry().areas[area].options:
            # planted labels outside the registry (such as option-2) would be refused
            raw.execute("DELETE FROM adoptions WHERE area_id = ? AND option = ?", [area, option])
    assert stored.count("adoptions") >= 50_000
    _parquet_folder(stored, tmp_path / "ev")
    in_place = Store(None)
    in_place.read_in_place(str(tmp_path / "ev"))
    spark = backends.SparkStore(backends.spark_session("local[2]")).publish(
        Store(None), str(tmp_path / "ev"))
    assert in_place.count("adoptions") == spark.count("adoptions") == stored.count("adoptions")
    cfg = load_config()
    areas = list(PLAN)
    results = [Classifier(s, cfg, areas).classify(AS_OF) for s in (stored, in_place, spark)]
    for x, y, z in zip(*results, strict=True):
        assert x.to_dict() == y.to_dict() == z.to_dict()


@pytest.mark.spark
@pytest.mark.skipif(_spark_ready() is not None, reason=str(_spark_ready()))
def test_spark_refuses_a_bad_local_folder_before_reading_it(tmp_path: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "ev" / "adoptions").mkdir(parents=True)
    pq.write_table(pa.table({"entity_id": ["a", "b"], "area_id": ["optimizer"] * 2,
                             "option": ["AdamW", "AdamW"], "weight": [1.0, 1.5],
                             "date": [dt.date(2025, 1, 1)] * 2}),
                   tmp_path / "ev" / "adoptions" / "p.parquet")
    from convergent.errors import ConvergentError

    with pytest.raises(ConvergentError) as info:
        backends.SparkStore(backends.spark_session("local[2]")).publish(
            Store(None), str(tmp_path / "ev"))
    assert "row 2, column weight" in str(info.value) and "(0, 1]" in str(info.value)
