"""Classify 40 areas × 10 yearly windows with certainty over 10 million adoptions.

The evidence is a folder of Parquet tables in convergent's own schema (`adoptions/` and
`segments/`, as a user would point `--tables` at). Runs, each in its own process so that
peak memory is measured separately:
- convergent on DuckDB reading the Parquet in place (`--tables`: validation, then Ibis
  group-bys into cumulative windows), with certainty;
- stored: the same, with the Parquet first copied into the in-memory DuckDB store;
- convergent on Apache Spark in local mode (the same Ibis expressions; Spark reads the
  Parquet itself), with certainty;
- a straightforward pandas implementation of the same measures;
- the floor: one hand-written DuckDB SQL pass over the adoptions Parquet computing every
  (area, year window, option) count (no trend, no segments, no certainty);
- floor_join: the floor plus the one join any segment measure needs (adoptions to their
  segments), counting every (area, year window, segment value, option);
- profile: convergent's steps timed one by one (validation rules, the repeated-adoption
  check, area cubes, segment cubes, the classifications), not a side to compare.

    python benchmarks/bench_classify.py [--rows 10000000] [--sides convergent,floor,spark]
                                        [--json out.json] [--config settings.yaml]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_AREAS = 40
YEARS = 10
START = dt.date(2016, 1, 1)
RESAMPLES = 400
SEED = 20260101


def _area_ids() -> list[str]:
    """Synthetic share areas with six options each (registered by `_register`)."""
    return [f"bench_{i:02d}" for i in range(N_AREAS)]


def _register(areas: list[str]) -> None:
    from convergent.registry import register_area, registry
    from convergent.schema import Area

    for area_id in areas:
        if area_id not in registry().areas:
            register_area(Area(area_id=area_id, layer="architecture", zh=area_id, en=area_id,
                               segments=["deployment"],
                               options={f"opt{k}": [] for k in range(6)}))


def generate(root: Path, rows: int) -> None:
    """Write the synthetic adoptions and their segments as Parquet tables; seeded."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(SEED)
    days = (dt.date(START.year + YEARS, 1, 1) - START).days
    names = np.array(_area_ids())
    options = np.array([f"opt{k}" for k in range(6)])
    (root / "adoptions").mkdir(parents=True)
    (root / "segments").mkdir()
    writers: dict[str, pq.ParquetWriter] = {}
    chunk = 1_000_000
    # each area has a leader whose probability drifts linearly over the decade
    p0 = rng.uniform(0.3, 0.99, N_AREAS)
    p1 = np.clip(p0 + rng.normal(0, 0.2, N_AREAS), 0.2, 0.995)
    for start in range(0, rows, chunk):
        m = min(chunk, rows - start)
        area = rng.integers(0, N_AREAS, m, dtype=np.int16)
        day = rng.integers(0, days, m, dtype=np.int32)
        frac = day / days
        lead_p = p0[area] + (p1[area] - p0[area]) * frac
        is_lead = rng.random(m) < lead_p
        other = rng.integers(1, 6, m, dtype=np.int8)
        option = np.where(is_lead, 0, other)
        seg = rng.integers(0, 2, m, dtype=np.int8)
        ids = pa.array(np.char.add("e", np.arange(start, start + m).astype(str)))
        date = pa.array(np.datetime64(START) + day.astype("timedelta64[D]")).cast(pa.date32())
        tables = {
            "adoptions": pa.table({"entity_id": ids, "area_id": pa.array(names[area]),
                                   "option": pa.array(options[option]), "weight": np.ones(m),
                                   "date": date, "source_id": pa.array(["bench"] * m),
                                   "origin": pa.array(["bench"] * m)}),
            "segments": pa.table({"entity_id": ids, "dimension": pa.array(["deployment"] * m),
                                  "value": pa.array(np.where(seg == 0, "edge", "cloud"))}),
        }
        for name, table in tables.items():
            if name not in writers:
                writers[name] = pq.ParquetWriter(str(root / name / "part-0.parquet"),
                                                 table.schema)
            writers[name].write_table(table)
    for w in writers.values():
        w.close()


def _year_ends() -> list[dt.date]:
    return [dt.date(START.year + k, 12, 31) for k in range(YEARS)]


def _classify_years(store: object, areas: list[str], t_load: float) -> dict:
    """Classify every area at every year end with certainty; timings and levels
    (`classify_s` is the cubes and the classifications together)."""
    from convergent.classify import Classifier
    from convergent.config import load_config

    t1 = time.perf_counter()
    clf = Classifier(store, load_config(os.environ.get("BENCH_CONFIG") or None), areas)
    t2 = time.perf_counter()
    levels = {}
    for end in _year_ends():
        for r in clf.classify(end):
            levels[f"{r.area}@{end}"] = [r.level, round(r.leader_share or 0, 6)]
    t3 = time.perf_counter()
    return {"load_s": t_load, "classify_s": t3 - t1, "cubes_s": t2 - t1, "rules_s": t3 - t2,
            "levels": levels}


def run_profile(root: Path) -> dict:
    """Where convergent's time goes, step by step (not a side to compare: the cubes are
    built twice, once on their own to time them and once inside the classifier)."""
    import convergent.parquet_tables as pt
    from convergent.measures import build_cubes, build_segment_cubes
    from convergent.store import Store

    areas = _area_ids()
    _register(areas)
    spent = {"repeat_check_s": 0.0}
    check = pt._repeated

    def timed(*args: object) -> list:
        t = time.perf_counter()
        try:
            return check(*args)
        finally:
            spent["repeat_check_s"] += time.perf_counter() - t

    pt._repeated = timed
    t0 = time.perf_counter()
    store = Store(None)
    store.read_in_place(str(root))
    t1 = time.perf_counter()
    build_cubes(store, areas)
    t2 = time.perf_counter()
    build_segment_cubes(store, areas)
    t3 = time.perf_counter()
    res = _classify_years(store, areas, t1 - t0)
    res.update(spent, validation_rules_s=t1 - t0 - spent["repeat_check_s"],
               area_cubes_s=t2 - t1, segment_cubes_s=t3 - t2)
    return res


def run_convergent(root: Path) -> dict:
    """Validate the Parquet and read it in place (`--tables`), then classify every area at
    every year end."""
    from convergent.store import Store

    areas = _area_ids()
    _register(areas)
    t0 = time.perf_counter()
    store = Store(None)
    store.read_in_place(str(root))
    return _classify_years(store, areas, time.perf_counter() - t0)


def run_stored(root: Path) -> dict:
    """Copy the Parquet into the in-memory store first, then classify (the older path)."""
    from convergent.store import Store

    areas = _area_ids()
    _register(areas)
    t0 = time.perf_counter()
    store = Store(None)
    raw = store.con.con
    for name in ("adoptions", "segments"):
        raw.execute(f"INSERT INTO {name} SELECT * FROM read_parquet('{root / name}/*.parquet')")
    return _classify_years(store, areas, time.perf_counter() - t0)


def _ends_sql() -> str:
    ends = [(e - dt.date(1970, 1, 1)).days for e in _year_ends()]
    return (f"(SELECT unnest({ends}) AS e) w ON p.date - DATE '1970-01-01' > w.e - 365 "
            "AND p.date - DATE '1970-01-01' <= w.e")


def run_floor(root: Path) -> dict:
    """The lower bound a user could write by hand: one SQL pass of window counts."""
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    rows = con.execute(f"""
        SELECT p.area_id, w.e AS window_end, p.option, count(*) AS n
        FROM read_parquet('{root}/adoptions/*.parquet') p JOIN {_ends_sql()}
        GROUP BY ALL""").fetchall()
    t = time.perf_counter() - t0
    return {"load_s": 0.0, "classify_s": t, "groups": len(rows), "levels": {}}


def run_floor_join(root: Path) -> dict:
    """The floor with the adoption-to-segment join that scenario tearing (L0) needs."""
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    rows = con.execute(f"""
        SELECT p.area_id, w.e AS window_end, s.value, p.option, count(*) AS n
        FROM read_parquet('{root}/adoptions/*.parquet') p
        JOIN read_parquet('{root}/segments/*.parquet') s USING (entity_id)
        JOIN {_ends_sql()}
        GROUP BY ALL""").fetchall()
    t = time.perf_counter() - t0
    return {"load_s": 0.0, "classify_s": t, "groups": len(rows), "levels": {}}


def run_spark(root: Path) -> dict:
    """convergent's classifier on Spark local mode, as `--backend pyspark --tables ROOT`:
    Spark reads the Parquet itself; measures run as the same Ibis expressions."""
    from convergent.backends import SparkStore, spark_session
    from convergent.store import Store

    areas = _area_ids()
    _register(areas)
    t0 = time.perf_counter()
    store = SparkStore(spark_session("local[2]")).publish(Store(None), str(root))
    res = _classify_years(store, areas, time.perf_counter() - t0)
    res["jvm_peak_rss_mib"] = _stop_jvm(store.session)
    return res


def _stop_jvm(spark: object) -> float | None:
    """Stop Spark and wait for its JVM to exit; the JVM's peak RSS in MiB (None if unknown).

    The JVM is a child process of this one, so once it has been waited for its peak
    resident memory is in RUSAGE_CHILDREN."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    proc = getattr(gateway, "proc", None)
    spark.stop()
    if proc is None:
        return None
    gateway.shutdown()
    proc.stdin.close()          # the JVM exits when its stdin closes
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_pandas(root: Path) -> dict:
    """The same measures, written plainly with pandas filters and value_counts."""
    import pandas as pd

    from convergent.classify import level_codes
    from convergent.config import LEVELS, load_config

    areas = _area_ids()
    cfg = load_config()
    c = cfg["classify"]
    t0 = time.perf_counter()
    df = pd.read_parquet(root / "adoptions")
    seg = pd.read_parquet(root / "segments", columns=["entity_id", "value"])
    df = df.merge(seg.rename(columns={"value": "seg"}), on="entity_id", how="left")
    df["date"] = pd.to_datetime(df["date"])
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    window = pd.Timedelta(days=365)
    step = pd.Timedelta(days=91)
    rng = np.random.default_rng(SEED)
    levels = {}
    by_area = dict(tuple(df.groupby("area_id")))

    def shares_at(sub: pd.DataFrame, end: pd.Timestamp) -> pd.Series:
        win = sub[(sub["date"] > end - window) & (sub["date"] <= end)]
        return win["option"].value_counts()

    for end_d in _year_ends():
        end = pd.Timestamp(end_d)
        for area in areas:
            sub = by_area[area]
            counts = shares_at(sub, end)
            n = int(counts.sum())
            shares = counts / n
            s1 = float(shares.iloc[0])
            leader = shares.index[0]
            trend_ends = [end - k * step for k in range(4, -1, -1)]
            series = pd.DataFrame({e: shares_at(sub, e) for e in trend_ends}).fillna(0).T
            series = series.div(series.sum(axis=1), axis=0)
            t = np.array([(e - end).days / 365.25 for e in trend_ends])
            slopes = {o: np.polyfit(t, series[o].to_numpy(), 1)[0] * 100 for o in series}
            rival = max((v for o, v in slopes.items() if o != leader), default=-np.inf)
            win = sub[(sub["date"] > end - window) & (sub["date"] <= end)]
            tab = pd.crosstab(win["seg"], win["option"]).to_numpy()
            l0 = bool(_pandas_l0(tab, c))
            code_now = int(level_codes(np.array([n]), np.array([s1]), np.array([rival]),
                                       np.array([l0]), cfg)[0])
            # certainty: window ends jittered by whole months (-3..+3), multinomial redraws
            jittered = [shares_at(sub, end + pd.DateOffset(months=m)) for m in range(-3, 4)]
            picks = rng.integers(0, len(jittered), RESAMPLES)
            same = 0
            for i in picks:
                cts = jittered[i]
                draw = rng.multinomial(int(cts.sum()), (cts / cts.sum()).to_numpy())
                s1b = draw.max() / draw.sum()
                same += int(level_codes(np.array([draw.sum()]), np.array([s1b]),
                                        np.array([rival]), np.array([l0]), cfg)[0] == code_now)
            levels[f"{area}@{end_d}"] = [LEVELS[code_now] if code_now >= 0 else "insufficient",
                                         round(s1, 6)]
    t_classify = time.perf_counter() - t1
    return {"load_s": t_load, "classify_s": t_classify, "levels": levels}


def _pandas_l0(tab: np.ndarray, c: dict) -> bool:
    sizes = tab.sum(axis=1)
    ok = sizes >= c["min_n_segment"]
    lead = tab.argmax(axis=1)
    share = tab.max(axis=1) / np.maximum(sizes, 1)
    strong = ok & (share >= c["l0_segment_leader_share"])
    if strong.sum() < 2 or len(set(lead[strong])) < 2:
        return False
    p = tab[ok] / tab[ok].sum()

    def h(x: np.ndarray) -> float:
        x = x[x > 0]
        return float(-(x * np.log(x)).sum())

    hs, ho = h(p.sum(axis=1)), h(p.sum(axis=0))
    return 2 * (hs + ho - h(p.ravel())) / (hs + ho) >= c["l0_min_nmi"]


SIDES = {"convergent": "run_convergent", "profile": "run_profile", "stored": "run_stored",
         "spark": "run_spark",
         "pandas": "run_pandas", "floor": "run_floor", "floor_join": "run_floor_join"}


def _child(kind: str, path: str, out: str) -> None:
    res = globals()[SIDES[kind]](Path(path))
    res["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(out).write_text(json.dumps(res))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--sides", default="convergent,pandas,floor",
                    help="comma-separated: " + ", ".join(SIDES))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--config", type=Path,
                    help="settings file for convergent's sides (e.g. certainty.normal_min_"
                         "expected: null to time exact redraws)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    sides = [x.strip() for x in args.sides.split(",") if x.strip()]
    unknown = [x for x in sides if x not in SIDES]
    if unknown or "convergent" not in sides:
        ap.error(f"--sides must include convergent and name only {', '.join(SIDES)}")
    if args.config:
        os.environ["BENCH_CONFIG"] = str(args.config.resolve())
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "evidence"
        t = time.perf_counter()
        generate(data, args.rows)
        print(f"generated {args.rows:,} adoptions in {time.perf_counter() - t:.1f}s",
              file=sys.stderr)
        results = {}
        for kind in sides:
            out = Path(tmp) / f"{kind}.json"
            subprocess.run([sys.executable, __file__, "--child", kind, str(data), str(out)],
                           check=True)
            results[kind] = json.loads(out.read_text())
            r = results[kind]
            print(f"{kind:>10}: load {r['load_s']:.1f}s, classify {r['classify_s']:.1f}s, "
                  f"peak RSS {r['peak_rss_mib']:.0f} MiB"
                  + (f" (JVM {r['jvm_peak_rss_mib']:.0f} MiB)" if r.get("jvm_peak_rss_mib")
                     else ""), file=sys.stderr)
    a = results["convergent"]
    total = a["load_s"] + a["classify_s"]
    summary: dict = {"rows": args.rows, "areas": N_AREAS, "years": YEARS,
                     "resamples": RESAMPLES, "convergent_total_s": total,
                     "convergent_load_s": a["load_s"], "convergent_classify_s": a["classify_s"],
                     "convergent_peak_rss_mib": a["peak_rss_mib"],
                     "load_average_before": load_before, "load_average_after": os.getloadavg()}
    for key in ("cubes_s", "rules_s"):
        summary[f"convergent_{key}"] = a.get(key)
    for kind, r in results.items():
        if kind == "convergent":
            continue
        if kind == "profile":
            summary["profile"] = {k: v for k, v in r.items() if k.endswith("_s")}
            continue
        other = r["load_s"] + r["classify_s"]
        summary[f"{kind}_total_s"] = other
        summary[f"{kind}_peak_rss_mib"] = r["peak_rss_mib"]
        if r.get("jvm_peak_rss_mib") is not None:
            summary[f"{kind}_jvm_peak_rss_mib"] = r["jvm_peak_rss_mib"]
        summary[f"{kind}_over_convergent"] = other / total
        summary[f"convergent_over_{kind}"] = total / other if other > 0 else None
        if r["levels"]:
            summary[f"{kind}_level_and_share_agreement"] = sum(
                a["levels"][k] == r["levels"].get(k) for k in a["levels"]) / len(a["levels"])
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
