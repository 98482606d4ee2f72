"""Are two reports from the same input byte-identical?

    python benchmarks/compare_reports.py                 # build two reports, compare them
    python benchmarks/compare_reports.py --db ev.duckdb  # the same on your own evidence
    python benchmarks/compare_reports.py A B             # compare two report folders

Prints every file that differs (and where the first difference is); exits 1 if any does.
Reports are generated on one day, so their generation date is the same and every byte must be.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path


def build(out: Path, db: str | None, figures: bool) -> None:
    """One report into `out` through the CLI, as a user runs it."""
    cmd = [sys.executable, "-c", "from convergent.cli import main; main()", "report",
           "--out", str(out)]
    if db:
        cmd += ["--db", db]
    if not figures:
        cmd.append("--no-figures")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def differences(a: Path, b: Path) -> list[str]:
    """Relative paths (with the first differing byte) that are not identical in a and b."""
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    out = [f"{p}: only in one report" for p in sorted(files_a ^ files_b)]
    for rel in sorted(files_a & files_b):
        x, y = (a / rel).read_bytes(), (b / rel).read_bytes()
        if x != y:
            at = next((i for i, (c, d) in enumerate(zip(x, y, strict=False)) if c != d),
                      min(len(x), len(y)))
            out.append(f"{rel}: differs at byte {at}: {x[max(0, at - 30):at + 30]!r} vs "
                       f"{y[max(0, at - 30):at + 30]!r}")
    return out


def main() -> int:
    """Build or take two reports and list their differences."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="*", type=Path)
    ap.add_argument("--db")
    ap.add_argument("--figures", action="store_true", help="also build and compare figures")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.folders:
            a, b = args.folders
        else:
            a, b = Path(tmp) / "a", Path(tmp) / "b"
            build(a, args.db, args.figures)
            build(b, args.db, args.figures)
        diffs = differences(a, b)
    for line in diffs:
        print(line)
    print("identical" if not diffs else f"{len(diffs)} file(s) differ")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
