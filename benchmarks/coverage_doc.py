"""Rewrite the coverage table in docs/catalog.md from `convergent catalog coverage --markdown`.

    python benchmarks/coverage_doc.py [--since 2019]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "catalog.md"
START, END = "<!-- coverage:start -->", "<!-- coverage:end -->"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--since", default="2019")
    args = ap.parse_args()
    cmd = [sys.executable, "-c", "from convergent.cli import main; main()", "catalog",
           "coverage", "--since", args.since, "--markdown"]
    table = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    text = DOC.read_text(encoding="utf-8")
    block = (f"{START}\nKnown / all entities per area and release year in the built-in catalog "
             f"(`convergent catalog coverage --since {args.since} --markdown`; the last column "
             f"covers the years shown):\n\n{table}{END}")
    if START in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Coverage of the built-in catalog\n\n" + block + "\n"
    DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
