"""Compare two report folders file by file; lines that only carry the build date may differ.

Used to show that a refactoring changed no result: build the report before and after,

    convergent report --out before && (change) && convergent report --out after
    python benchmarks/compare_reports.py before after

and every file must be identical except for lines naming the day the report was built.
Exit code 0 when the folders agree, 1 otherwise (with the first differing line per file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path


def _lines(path: Path, today: str) -> list[bytes]:
    """A file's lines with those naming the build date left out (binary files whole)."""
    data = path.read_bytes()
    if path.suffix.lower() in {".png", ".jpg", ".woff", ".woff2", ".ttf", ".otf"}:
        return [data]
    return [ln for ln in data.splitlines() if today.encode() not in ln]


def compare(a: Path, b: Path, today: str) -> list[str]:
    """Differences between folders `a` and `b` as readable lines (empty when they agree)."""
    out: list[str] = []
    fa = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    fb = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    out += [f"only in {a}: {p}" for p in sorted(fa - fb)]
    out += [f"only in {b}: {p}" for p in sorted(fb - fa)]
    for rel in sorted(fa & fb):
        la, lb = _lines(a / rel, today), _lines(b / rel, today)
        if la == lb:
            continue
        first = next((i for i, (x, y) in enumerate(zip(la, lb, strict=False)) if x != y),
                     min(len(la), len(lb)))
        out.append(f"{rel}: differs at line {first + 1}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--today", default=dt.date.today().isoformat(),
                    help="the build date whose lines may differ (default: today)")
    args = ap.parse_args()
    diffs = compare(args.before, args.after, args.today)
    for line in diffs:
        print(line)
    print("identical" if not diffs else f"{len(diffs)} difference(s)")
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
