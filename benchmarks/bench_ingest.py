"""Ingest speed: `convergent` Epoch ingest vs a pandas read_csv + to_sql baseline, same file.

Synthesises an Epoch-layout CSV of N rows by resampling the real Notable Models file (names
made unique, long text cells cut to --text-limit characters so the file stays a few hundred
MB), then runs each side in its own subprocess and reports rows/s and peak memory (max RSS).

    python benchmarks/bench_ingest.py [--rows 1000000] [--text-limit 200]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "data" / "epoch-notable-ai-models-to-2023.csv"


def synthesise(out: Path, rows: int, text_limit: int, seed: int = 1) -> None:
    """Write `rows` resampled rows with unique model names to `out`."""
    with REAL.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        data = list(reader)
    model = header.index("Model")
    rnd = random.Random(seed)
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for i in range(rows):
            r = [c[:text_limit] for c in rnd.choice(data)]
            r[model] = f"{r[model]} #{i}"
            w.writerow(r)


def child_convergent(path: str, db: str) -> dict[str, float]:
    """Run the convergent ingest; return elapsed seconds and counts."""
    from convergent.ingest import ingest
    from convergent.store import Store

    t = time.perf_counter()
    store = Store(db)
    report = ingest(store, "epoch", path)
    elapsed = time.perf_counter() - t
    return {"seconds": elapsed, "rows": report.rows_read, "added": report.added,
            "adoptions": store.count("adoptions")}


def child_pandas(path: str, db: str) -> dict[str, float]:
    """Baseline: pandas read_csv + DataFrame.to_sql into an SQLite file, no validation."""
    import sqlite3

    import pandas as pd

    t = time.perf_counter()
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    con = sqlite3.connect(db)
    df.to_sql("epoch", con, index=False, chunksize=50_000)
    con.commit()
    n = con.execute("SELECT count(*) FROM epoch").fetchone()[0]
    con.close()
    return {"seconds": time.perf_counter() - t, "rows": n}


def _child(kind: str, path: str, db: str) -> None:
    import resource

    res = child_convergent(path, db) if kind == "convergent" else child_pandas(path, db)
    res["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(json.dumps(res) + "\n")


def run(kind: str, path: Path, tmp: Path) -> dict[str, float]:
    """One side in a fresh subprocess (so peak memory is its own)."""
    db = tmp / (f"{kind}.duckdb" if kind == "convergent" else f"{kind}.sqlite")
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(path), str(db)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Synthesise, run both sides, print a Markdown table."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--text-limit", type=int, default=200)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    if not REAL.exists():
        sys.exit(f"needs {REAL} (the shared data folder)")
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as d:
        tmp = Path(d)
        path = tmp / "epoch-synth.csv"
        t = time.perf_counter()
        synthesise(path, args.rows, args.text_limit)
        size = path.stat().st_size / 1e6
        sys.stderr.write(f"synthesised {args.rows} rows, {size:.0f} MB in "
                         f"{time.perf_counter() - t:.0f} s\n")
        conv = run("convergent", path, tmp)
        base = run("pandas", path, tmp)
    rate_c = conv["rows"] / conv["seconds"]
    rate_b = base["rows"] / base["seconds"]
    print(f"rows: {args.rows:,}  file: {size:.0f} MB  (text cells cut to {args.text_limit} chars)")
    print()
    print("| side | what it does | seconds | rows/s | peak RSS (MB) |")
    print("|---|---|---:|---:|---:|")
    print(f"| convergent ingest epoch | parse strictly, validate every cell, map, write 5 "
          f"tables ({conv['adoptions']:,} adoptions) to DuckDB | {conv['seconds']:.1f} | "
          f"{rate_c:,.0f} | {conv['max_rss_mb']:,.0f} |")
    print(f"| pandas read_csv + to_sql | parse, write one raw table to SQLite, no checks | "
          f"{base['seconds']:.1f} | {rate_b:,.0f} | {base['max_rss_mb']:,.0f} |")
    print()
    print(f"speed ratio convergent/pandas: {rate_c / rate_b:.2f}x; "
          f"memory ratio: {conv['max_rss_mb'] / base['max_rss_mb']:.2f}x")


if __name__ == "__main__":
    main()
