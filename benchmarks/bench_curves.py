"""Extrapolation on public learning curves: the default estimator against M4 and single forms.

Each curve is fitted on its smaller points and scored on its larger ones by the RMSE of
log predictions (Alabdulmohsin et al. 2022's metric). Families and sources are listed in
benchmarks/curves/README.md. Run: `python benchmarks/bench_curves.py [--json OUT]`.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from convergent.errors import ConvergentError
from convergent.scaling.fit import fit
from convergent.scaling.runs import Runs
from convergent.scaling.select import estimate

HERE = Path(__file__).parent
SHARED = HERE.parent.parent / "shared" / "data"
OBS = SHARED / "obsscaling-base-llm-benchmark-eval.csv"
BENCHES = ("MMLU", "ARC-C", "HellaSwag", "Winograd", "TruthfulQA", "GSM8K", "XWinograd",
           "HumanEval")
METHODS = ("auto", "m4", "power", "broken", "flat")


def paper_curves() -> list[dict]:
    """Vision, NMT, language-model and BIG-Bench curves of Alabdulmohsin et al. (2022)."""
    out: dict[str, dict] = {}
    for name in ("alabdulmohsin2022_vision.csv", "alabdulmohsin2022_lang.csv"):
        with (HERE / "curves" / name).open() as fh:
            for r in csv.DictReader(fh):
                c = out.setdefault(r["curve"], {"family": r["family"], "curve": r["curve"],
                                                "train": [], "test": []})
                c[r["split"]].append((float(r["x"]), float(r["y"])))
    return list(out.values())


def family_curves(min_models: int = 6) -> list[dict]:
    """Benchmark error (1 − score) against training compute within one model family.

    From the observational-scaling table (Ruan et al. 2024): every family with at least
    `min_models` models with known compute; the largest-compute model is held out.
    """
    if not OBS.exists():
        return []
    fams: dict[str, list[dict]] = defaultdict(list)
    with OBS.open() as fh:
        for r in csv.DictReader(fh):
            fams[r["Model Family"]].append(r)
    out = []
    for fam, models in fams.items():
        for bench in BENCHES:
            pts = {}
            for m in models:
                try:
                    c, s = float(m["FLOPs (1E21)"]) * 1e21, float(m[bench])
                except ValueError:
                    continue
                err = 1.0 - (s / 100.0 if s > 1.0 else s)
                if c > 0 and 0.0 < err < 1.0:
                    pts[c] = err
            if len(pts) < min_models:
                continue
            xs = sorted(pts)
            out.append({"family": "llm-benchmarks", "curve": f"{fam} {bench}",
                        "train": [(x, pts[x]) for x in xs[:-1]],
                        "test": [(xs[-1], pts[xs[-1]])]})
    return out


def run_curve(curve: dict, level: float) -> dict:
    """log-RMSE of every method on one curve, and the default's interval coverage."""
    tx = np.array([p[0] for p in curve["train"]])
    ty = np.array([p[1] for p in curve["train"]])
    vx = np.array([p[0] for p in curve["test"]])
    vy = np.array([p[1] for p in curve["test"]])
    runs = Runs.from_columns({"X": tx, "loss": ty}, source=curve["curve"])
    row: dict = {"family": curve["family"], "curve": curve["curve"], "train": len(tx),
                 "test": len(vx)}
    t0 = time.perf_counter()
    try:
        est = estimate(runs, "X")
        got = est.predict(vx, level)
        row["auto"] = float(np.sqrt(np.mean(np.log(got["predicted"] / vy) ** 2)))
        row["covered"] = int(((vy >= got["low"]) & (vy <= got["high"])).sum())
        row["weights"] = {m.name: round(m.weight, 3) for m in est.members if m.weight}
    except ConvergentError as exc:
        row["auto"], row["error"] = None, str(exc)
    row["seconds_auto"] = time.perf_counter() - t0
    for name in METHODS[1:]:
        if name == "flat":
            level_ = float(np.mean(ty[np.argsort(tx)[-2:]]))
            row[name] = float(np.sqrt(np.mean(np.log(level_ / vy) ** 2)))
            continue
        try:
            res = fit(runs, f"{name}-X", show_progress=False, allow_degenerate=True)
            pred = res.predict({"X": vx}, n=len(vx))
            row[name] = float(np.sqrt(np.mean(np.log(pred / vy) ** 2)))
            row[f"{name}_degenerate"] = res.degenerate
        except ConvergentError as exc:
            row[name] = None
            row[f"{name}_error"] = str(exc)
    return row


def summarise(rows: list[dict], level: float) -> dict:
    """Mean log-RMSE per family and method, wins of the default over M4, coverage."""
    fams: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        fams[r["family"]].append(r)
    fams["all"] = rows
    table = {}
    for fam, rs in fams.items():
        ok = [r for r in rs if all(r.get(m) is not None and math.isfinite(r[m])
                                   for m in METHODS)]
        cell = {m: float(np.mean([r[m] for r in ok])) for m in METHODS}
        cell["curves"] = len(rs)
        cell["scored"] = len(ok)
        cell["auto_beats_m4"] = sum(r["auto"] <= r["m4"] for r in ok)
        pts = sum(r["test"] for r in ok)
        cell["coverage"] = sum(r.get("covered", 0) for r in ok) / max(pts, 1)
        cell["test_points"] = pts
        table[fam] = cell
    return {"level": level, "families": table}


def main(argv: list[str] | None = None) -> int:
    """Run every curve, print the table, optionally write JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path, help="write per-curve results here")
    ap.add_argument("--level", type=float, default=0.9)
    args = ap.parse_args(argv)
    curves = paper_curves() + family_curves()
    t0 = time.perf_counter()
    rows = [run_curve(c, args.level) for c in curves]
    seconds = time.perf_counter() - t0
    summary = summarise(rows, args.level)
    print(f"{len(curves)} curves in {seconds:.1f} s; mean log-RMSE on held-out larger points")
    print(f"{'family':16} {'curves':>6} " + " ".join(f"{m:>8}" for m in METHODS)
          + f" {'auto<=m4':>9} {'cover':>6}")
    for fam, c in summary["families"].items():
        print(f"{fam:16} {c['scored']:>3}/{c['curves']:<3}"
              + " ".join(f"{c[m]:8.4f}" for m in METHODS)
              + f" {c['auto_beats_m4']:>4}/{c['scored']:<4} {c['coverage']:6.2f}")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "curves": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
