"""Benchmark score columns: decide fraction (0–1) or percent (0–100), and range-check cells.

One rule for every reader of score tables (`ingest benchmarks`, `capability observe`), so a
file is read the same way everywhere:

- a header naming its unit decides it: `MMLU (%)` is percent, `MMLU (0-1)` a fraction;
- a column whose values all lie in −1..1 with some below 0 is a signed score (a
  correlation, a normalised difference), not a percentage: it is refused;
- a cell below 0 or above 100 is out of range and reported on its own row (one bad cell
  never changes the unit of the whole column);
- an Elo column (its name contains "Elo", as Arena Elo) is a rating, not a percentage:
  a table importer checks its cells against ELO_RANGE (`elo_cells`) and keeps them as
  they are, while readers that need percentages refuse it;
- otherwise a column whose values are all at most 1 is a fraction, and one with larger
  values is percent, unless it mixes values below 1 with a largest value of at most
  AMBIGUOUS_MAX (0.03 to 4.01, say): that could be either, and is refused until the header
  names the unit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from convergent.errors import ConvergentError

#: A column with values below 1 and a largest value up to this is ambiguous without a unit.
AMBIGUOUS_MAX = 5.0

#: Plausible Elo ratings (Arena's range is about 800 to 1,600).
ELO_RANGE = (100.0, 4000.0)

_PERCENT = re.compile(r"\((%|percent|pct|pp)\)\s*$", re.IGNORECASE)
_FRACTION = re.compile(r"\((0\s*[-–]\s*1|fraction|frac)\)\s*$", re.IGNORECASE)


def unit_hint(header: str) -> str | None:
    """'percent' or 'fraction' when the header names its unit, else None."""
    if _PERCENT.search(header):
        return "percent"
    if _FRACTION.search(header):
        return "fraction"
    return None


def is_elo(name: str) -> bool:
    """Whether a benchmark name is an Elo rating (any name containing 'elo' as a word part)."""
    return "elo" in re.sub(r"[^a-z0-9]", "", strip_unit(name).lower())


def strip_unit(header: str) -> str:
    """The benchmark name without a unit suffix: 'MMLU (%)' -> 'MMLU'."""
    return _FRACTION.sub("", _PERCENT.sub("", header)).strip()


def elo_cells(cells: Sequence[tuple[int, float]]) -> list[tuple[int, str]]:
    """The bad cells of an Elo column: not finite, or outside ELO_RANGE (NaN is empty)."""
    lo, hi = ELO_RANGE
    return [(r, f"Elo rating {v:g} is outside {lo:g}–{hi:g}") for r, v in cells
            if not math.isnan(v) and not lo <= v <= hi]


def score_column(header: str, cells: Sequence[tuple[int, float]],
                 where: str) -> tuple[float, list[tuple[int, str]]]:
    """Multiplier to percentage points (100 for a fraction, 1 for percent) and the bad cells.

    `cells` are (row, value) pairs, NaN for an empty cell; `where` names the column in
    errors (file:1:column). Bad cells are (row, reason); a column whose unit cannot be
    decided raises ConvergentError.
    """
    vals = [(r, v) for r, v in cells if not math.isnan(v)]
    if not vals:
        return 1.0, []
    bad_inf = [(r, f"score {v:g} is not finite") for r, v in vals if math.isinf(v)]
    vals = [(r, v) for r, v in vals if math.isfinite(v)]
    if vals and all(-1.0 <= v <= 1.0 for _, v in vals) and any(v < 0 for _, v in vals):
        lo = min(v for _, v in vals)
        raise ConvergentError(
            f"column {header.strip()!r} holds signed values in −1..1 (lowest {lo:g}): not a "
            "percentage or a fraction of questions right; drop or convert it", where=where)
    hint = unit_hint(header)
    top = 1.0 if hint == "fraction" else 100.0
    bad = bad_inf + [(r, f"score {v:g} is outside 0–{top:g}") for r, v in vals
                     if not 0.0 <= v <= top]
    good = [v for _, v in vals if 0.0 <= v <= top]
    if hint == "fraction":
        return 100.0, bad
    if hint == "percent" or not good:
        return 1.0, bad
    hi, lo = max(good), min(good)
    if hi <= 1.0:
        return 100.0, bad
    if lo < 1.0 and hi <= AMBIGUOUS_MAX:
        raise ConvergentError(
            f"column {header.strip()!r} ranges from {lo:g} to {hi:g}: it could be a fraction "
            "or a percentage; name the unit in the header, e.g. "
            f"'{strip_unit(header)} (%)' or '{strip_unit(header)} (0-1)'", where=where)
    return 1.0, bad
