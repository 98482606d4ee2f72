"""The one place text is made safe for output: no bidi tricks, no spreadsheet formulas.

Every writer of user-visible text (report Markdown, HTML, JSON and CSV; `--csv` output) passes
its text through here, so an organisation or model name from an input file cannot reorder
what a reader sees (U+202E and friends) or run as a formula when a CSV is opened.
"""

from __future__ import annotations

import re
from typing import Any

# Bidirectional embedding, override and isolate controls, and the invisible marks.
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Characters a spreadsheet reads as the start of a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def clean_text(text: str) -> str:
    """`text` without bidi control characters."""
    return BIDI.sub("", text)


def csv_cell(value: Any) -> Any:
    """A cell for a CSV file: bidi controls removed, a formula-like string quoted with `'`.

    Numbers stay numbers (a negative value is data, not a formula), so only text that a
    spreadsheet would evaluate is prefixed.
    """
    if not isinstance(value, str):
        return value
    text = clean_text(value)
    if text.startswith(FORMULA_PREFIXES) and not _NUMBER.match(text.strip()):
        return "'" + text
    return text
