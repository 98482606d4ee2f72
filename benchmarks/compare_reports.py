"""Compare two report folders file by file; lines that only carry the build date may differ.

Used to show that a refactoring changed no result: build the report before and after,

    convergent report --out before && (change) && convergent report --out after
    python benchmarks/compare_reports.py before after

and every file must be identical except for lines naming the day the report was built.
With `--rev BASE` it builds both reports itself: the code and catalog of git revision BASE
(checked out in a temporary worktree) against the working tree,

    python benchmarks/compare_reports.py --rev main

Exit code 0 when the reports agree, 1 otherwise (with the first differing line per file).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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


def build(src: Path, out: Path) -> None:
    """Run `convergent report` with the package found under `src` (a checkout's src/)."""
    env = dict(os.environ, PYTHONPATH=str(src))
    subprocess.run([sys.executable, "-c", "from convergent.cli import main; main()",
                    "report", "--out", str(out)], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def build_pair(rev: str, tmp: Path) -> tuple[Path, Path]:
    """Reports of git revision `rev` and of the working tree, built under `tmp`."""
    base = tmp / "base"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet",
                    str(base), rev], check=True)
    try:
        build(base / "src", tmp / "before")
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                       check=False)
    build(ROOT / "src", tmp / "after")
    return tmp / "before", tmp / "after"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path, nargs="?")
    ap.add_argument("after", type=Path, nargs="?")
    ap.add_argument("--rev", help="build the reports of this git revision and of the "
                                  "working tree, and compare them")
    ap.add_argument("--today", default=dt.date.today().isoformat(),
                    help="the build date whose lines may differ (default: today)")
    args = ap.parse_args()
    if args.rev:
        with tempfile.TemporaryDirectory() as tmp:
            diffs = compare(*build_pair(args.rev, Path(tmp)), args.today)
    elif args.before and args.after:
        diffs = compare(args.before, args.after, args.today)
    else:
        ap.error("give two report folders, or --rev REV")
    for line in diffs:
        print(line)
    print("identical" if not diffs else f"{len(diffs)} difference(s)")
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
