"""`convergent report` on the built-in evidence, with the time of every step.

Each run is a fresh process (imports, opening the store and the catalog cache included,
as a user's command pays them), timed step by step through the report's progress
callback; wall and CPU seconds per step are reported as the median of the runs.

    python benchmarks/bench_report.py [--runs 3] [--no-figures] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys, time
t0 = time.perf_counter(); c0 = time.process_time()
marks = []
def mark(name):
    marks.append((name, time.perf_counter() - t0, time.process_time() - c0))
from convergent.config import load_config
from convergent.report import figures
from convergent.report.write import build_report
from convergent.store import open_store
jobs = []
if hasattr(figures, "FigureJobs"):    # older versions draw the figures after the report
    _init = figures.FigureJobs.__init__
    def _keep(self, *a, **k):
        _init(self, *a, **k)
        jobs.append(self)
    figures.FigureJobs.__init__ = _keep
mark("imports")
store = open_store()
mark("open store")
build_report(store, load_config(), sys.argv[1], figures=sys.argv[2] == "1", progress=mark)
mark("end")
print(json.dumps({"marks": marks, "background": jobs[0].seconds if jobs else {}}))
"""


def run_once(figures: bool) -> tuple[list[tuple[str, float, float]], dict[str, float]]:
    """One report in a fresh interpreter: (step, wall s, cpu s) for every step, and the
    CPU seconds of each chart on the figure thread."""
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", CHILD, str(Path(tmp) / "r"),
                              "1" if figures else "0"], capture_output=True, text=True,
                             check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    marks = got["marks"]
    steps, prev_w, prev_c = [], 0.0, 0.0
    for name, w, c in marks:
        steps.append((name, w - prev_w, c - prev_c))
        prev_w, prev_c = w, c
    return steps, got["background"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-figures", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    both = [run_once(not args.no_figures) for _ in range(args.runs)]
    runs = [b[0] for b in both]
    background = {k: statistics.median(b[1].get(k, 0.0) for b in both) for k in both[0][1]}
    names = [s[0] for s in runs[0]]
    rows = []
    for i, name in enumerate(names):
        rows.append({"step": name,
                     "wall_s": statistics.median(r[i][1] for r in runs),
                     "cpu_s": statistics.median(r[i][2] for r in runs)})
    total_w = statistics.median(sum(s[1] for s in r) for r in runs)
    total_c = statistics.median(sum(s[2] for s in r) for r in runs)
    print(f"{'step':<14}{'wall s':>8}{'cpu s':>8}")
    for r in rows:
        print(f"{r['step']:<14}{r['wall_s']:>8.2f}{r['cpu_s']:>8.2f}")
    print(f"{'total':<14}{total_w:>8.2f}{total_c:>8.2f}")
    bg = sum(background.values())
    print("figure thread (CPU s, overlapping the steps above): "
          + ", ".join(f"{k} {v:.2f}" for k, v in background.items()) + f"; sum {bg:.2f}")
    print(f"main thread CPU s: {total_c - bg:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"runs": args.runs, "steps": rows, "total_wall_s":
                                         total_w, "total_cpu_s": total_c,
                                         "figure_thread_cpu_s": background}, indent=1))


if __name__ == "__main__":
    main()
