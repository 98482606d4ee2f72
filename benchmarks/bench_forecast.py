"""Time the whole forecast back-test (and the forecasts) on the built-in evidence.

Each step runs `--repeat` times in this process and the median is reported, next to the
cost of one classification of every area at the newest evidence (certainty included) as
the reference, so that the ratio means something on a shared, noisy machine.

    python benchmarks/bench_forecast.py [--repeat 5] [--db FILE] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any


def _time(fn: Any, repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--db", type=Path, default=None, help="DuckDB store (default: built-in)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from convergent.analysis import evidence_as_of
    from convergent.classify import Classifier
    from convergent.config import load_config
    from convergent.forecast.backtest import run, summary
    from convergent.forecast.crossings import forecast_areas
    from convergent.store import open_store

    cfg = load_config()
    t_open, store = _time(lambda: open_store(args.db), 1)
    as_of = evidence_as_of(store)
    t_cubes, clf = _time(lambda: Classifier(store, cfg), args.repeat)
    t_classify, _ = _time(lambda: clf.classify(as_of), args.repeat)
    t_back, state = _time(lambda: run(store, cfg, clf, as_of), args.repeat)
    t_fc, rows = _time(lambda: forecast_areas(store, as_of, cfg, clf=clf, state=state),
                       args.repeat)
    pooled = {(s["method"], s["horizon"]): s for s in summary(state["rows"])}
    out = {
        "as_of": as_of.isoformat(), "areas": len(clf.areas),
        "origins": len(state["origins"]), "rows": len(state["rows"]),
        "open_store_s": t_open, "cubes_s": t_cubes, "classify_s": t_classify,
        "backtest_s": t_back, "forecast_s": t_fc,
        "backtest_total_s": t_open + t_cubes + t_back,
        "backtest_vs_classify": t_back / t_classify,
        "auto_skill": {h: pooled[("auto", h)]["skill"] for h in (1, 2)},
        "forecast_areas": len(rows),
    }
    for k, v in out.items():
        print(f"{k:22s} {v:.3f}" if isinstance(v, float) else f"{k:22s} {v}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), "utf-8")


if __name__ == "__main__":
    main()
