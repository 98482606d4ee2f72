"""Side-by-side benchmark: the Chinchilla Approach 3 fit against the plain SciPy reference.

Both run the full procedure on the Figure 4 points (5 highest-loss points dropped,
D = C/6N): 4,500 grid starts, then bootstrap refits. Each runs in its own process so
that peak memory (max RSS) is measured separately; times are the procedures' own
(grid + bootstrap) and the whole process wall time.

    python benchmarks/bench_scaling.py [--bootstrap 4000] [--data ../shared/data/...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared"
DEFAULT_DATA = SHARED / "data" / "chinchilla-figure4-points.csv"
REFERENCE = SHARED / "bench" / "reference_chinchilla_fit.py"


def run_child(cmd: list[str]) -> tuple[float, float, str]:
    """Run a command; return (wall seconds, peak RSS in MiB, stdout)."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode() if proc.stderr else ""
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err}")
        out.seek(0)
        text = out.read().decode()
    return wall, usage.ru_maxrss / 1024.0, text


def ours(data: str, n_boot: int, seed: int) -> None:
    """Child mode: the convergent fit, printing JSON like the reference."""
    from convergent.scaling.fit import fit
    from convergent.scaling.runs import read_runs

    runs = read_runs(data)
    res = fit(runs, "chinchilla", exclude_worst=5, bootstrap=n_boot, seed=seed,
              show_progress=False)
    out = {"points": res.n_points, "starts": res.n_starts, "objective": res.objective,
           "params": res.params, "seconds_grid": res.seconds["grid"],
           "seconds_bootstrap": res.seconds.get("bootstrap", 0.0)}
    if res.bootstrap is not None:
        out["bootstrap"] = {"n": n_boot, "failed": res.bootstrap.failed,
                            "ci90": {k: list(v) for k, v in res.bootstrap.intervals.items()}}
    print(json.dumps(out))


def main(argv: list[str] | None = None) -> int:
    """Run both, print a Markdown report with the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--bootstrap", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        ours(args.data, args.bootstrap, args.seed)
        return 0
    if not REFERENCE.exists() or not Path(args.data).exists():
        print(f"needs {REFERENCE} and {args.data}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        ref_json = Path(tmp) / "ref.json"
        ref_wall, ref_rss, _ = run_child([sys.executable, str(REFERENCE), args.data,
                                          "--bootstrap", str(args.bootstrap),
                                          "--json", str(ref_json)])
        ref = json.loads(ref_json.read_text())
    our_wall, our_rss, text = run_child([sys.executable, __file__, "--child", "--data",
                                         args.data, "--bootstrap", str(args.bootstrap),
                                         "--seed", str(args.seed)])
    mine = json.loads(text)
    ref_t = ref["seconds_grid"] + ref.get("seconds_bootstrap", 0.0)
    our_t = mine["seconds_grid"] + mine["seconds_bootstrap"]
    rel = (mine["objective"] - ref["objective"]) / ref["objective"]
    lines = [
        f"points: {mine['points']}, grid starts: {mine['starts']}, "
        f"bootstrap refits: {args.bootstrap}",
        "",
        "| | reference (SciPy) | convergent | ratio |",
        "|---|---|---|---|",
        f"| grid (s) | {ref['seconds_grid']:.2f} | {mine['seconds_grid']:.3f} | "
        f"{ref['seconds_grid'] / mine['seconds_grid']:.0f}× |",
        f"| bootstrap (s) | {ref.get('seconds_bootstrap', 0.0):.2f} | "
        f"{mine['seconds_bootstrap']:.3f} | "
        f"{ref.get('seconds_bootstrap', 0.0) / max(mine['seconds_bootstrap'], 1e-9):.0f}× |",
        f"| full procedure (s) | {ref_t:.2f} | {our_t:.3f} | **{ref_t / our_t:.0f}×** |",
        f"| process wall time incl. start-up (s) | {ref_wall:.2f} | {our_wall:.2f} | "
        f"{ref_wall / our_wall:.0f}× |",
        f"| peak memory, max RSS (MiB) | {ref_rss:.0f} | {our_rss:.0f} | |",
        f"| best objective | {ref['objective']:.13g} | {mine['objective']:.13g} | "
        f"rel. diff {rel:+.2e} |",
        "",
        "| parameter | reference | convergent | reference 90% CI | convergent 90% CI |",
        "|---|---|---|---|---|",
    ]
    for k in ("A", "B", "E", "alpha", "beta"):
        rci = ref.get("bootstrap", {}).get("ci90", {}).get(k, [float("nan")] * 2)
        oci = mine.get("bootstrap", {}).get("ci90", {}).get(k, [float("nan")] * 2)
        lines.append(f"| {k} | {ref['params'][k]:.6g} | {mine['params'][k]:.6g} | "
                     f"[{rci[0]:.4g}, {rci[1]:.4g}] | [{oci[0]:.4g}, {oci[1]:.4g}] |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
