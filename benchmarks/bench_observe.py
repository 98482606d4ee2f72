"""`capability observe` with leave-one-family-out on large synthetic score tables.

Tables of n models × m benchmarks (scores a sigmoid of a latent capability plus noise,
20 % of cells missing, four models per family, compute known). Run:
`python benchmarks/bench_observe.py [--models 96 --benchmarks 140]`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from convergent.capability.observe import observe


def write_table(path: Path, n: int, m: int, seed: int = 0, family: bool = True,
                compute: bool = True) -> None:
    """A reproducible synthetic table in the layout of the observational-scaling file."""
    rng = np.random.default_rng(seed)
    logc = rng.uniform(20.0, 25.0, n)
    skill = (logc - 22.5) + rng.normal(0.0, 0.5, n)
    mids = rng.normal(0.0, 1.0, m)
    slopes = rng.uniform(0.5, 2.0, m)
    scores = 100.0 / (1.0 + np.exp(-slopes * (skill[:, None] - mids)))
    scores = np.clip(scores + rng.normal(0.0, 2.0, (n, m)), 0.0, 100.0)
    scores[rng.random((n, m)) < 0.2] = np.nan
    head = ["Model"] + (["Model Family"] if family else []) + (
        ["FLOPs (1E21)"] if compute else []) + [f"B{j}" for j in range(m)]
    lines = [",".join(head)]
    for i in range(n):
        row = [f"model-{i}"] + ([f"fam-{i // 4}"] if family else []) + (
            [f"{10 ** logc[i] / 1e21:.6g}"] if compute else [])
        row += ["" if np.isnan(v) else f"{v:.2f}" for v in scores[i]]
        lines.append(",".join(row))
    path.write_text("\n".join(lines) + "\n", "utf-8")


def main(argv: list[str] | None = None) -> int:
    """Time observe on one table; print wall and CPU seconds and the load average."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--models", type=int, default=96)
    ap.add_argument("--benchmarks", type=int, default=140)
    ap.add_argument("--no-family", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "table.csv"
        write_table(p, args.models, args.benchmarks, family=not args.no_family)
        t0, c0 = time.perf_counter(), time.process_time()
        res = observe(p, loo=True)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.models} x {args.benchmarks}: {seconds:.2f} s wall, {cpu:.2f} s CPU "
          f"(load average {load:.1f}), {res.n_families} families, "
          f"PC1 share {res.pc1_share:.3f}, LOFO MAE PC1 {res.loo[-1]['mae_pc1_pp']:.2f} pp")
    return 0


if __name__ == "__main__":
    sys.exit(main())
