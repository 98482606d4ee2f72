"""Exact against normal redraws on the classify benchmark's evidence: levels, certainties, stars.

Classifies the 40 areas at the 10 year ends twice from the same cubes, once with the default
settings (redraws whose every option expects at least `certainty.normal_min_expected`
adoptions come from the normal law) and once with exact multinomial redraws only, and prints
how far the two agree.

    python benchmarks/compare_draws.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import bench_classify as bench


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    args = ap.parse_args()
    from convergent.classify import Classifier, stars_for
    from convergent.config import load_config
    from convergent.store import Store

    areas = bench._area_ids()
    bench._register(areas)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "evidence"
        bench.generate(root, args.rows)
        store = Store(None)
        store.read_in_place(str(root))
        normal_cfg = load_config()
        exact_cfg = copy.deepcopy(normal_cfg)
        exact_cfg["certainty"]["normal_min_expected"] = None
        clf = Classifier(store, normal_cfg, areas)
        out, seconds = {}, {}
        for name, cfg in (("normal", normal_cfg), ("exact", exact_cfg)):
            clf.cfg = cfg
            t = time.perf_counter()
            out[name] = {(r.area, end): r for end in bench._year_ends()
                         for r in clf.classify(end)}
            seconds[name] = time.perf_counter() - t
    keys = sorted(out["exact"])
    a, b = out["normal"], out["exact"]
    diff = np.array([(a[k].certainty or 0.0) - (b[k].certainty or 0.0) for k in keys])
    print(json.dumps({
        "rows": args.rows, "results": len(keys),
        "levels_equal": sum(a[k].level == b[k].level for k in keys),
        "stars_equal": sum(stars_for(a[k].certainty, normal_cfg)
                           == stars_for(b[k].certainty, normal_cfg) for k in keys),
        "certainty_difference_mean": float(diff.mean()),
        "certainty_difference_sd": float(diff.std()),
        "certainty_difference_largest": float(np.abs(diff).max()),
        "classify_s_normal": seconds["normal"], "classify_s_exact": seconds["exact"],
    }, indent=2))


if __name__ == "__main__":
    main()
