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
