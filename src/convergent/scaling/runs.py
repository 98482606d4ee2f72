"""Training runs for scaling fits: read a CSV, recognise its columns, check its values.

Columns (any of the usual spellings): N (parameters), D (tokens), C (compute, FLOP),
S (training steps), X (training examples seen), loss, accuracy, k (samples) and pass@k,
and an optional group (e.g. an isoFLOP budget). Missing N, D or C is derived from the
other two with C = 6·N·D. Errors and warnings name the file, the row (the line number in
the file) and the column.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from convergent.errors import ConvergentError

NUMERIC = ("N", "D", "C", "S", "X", "loss", "accuracy", "k", "pass_at_k")

#: Size columns a single-variable curve can run along, in the order they are preferred.
X_COLUMNS = ("C", "D", "X", "N", "S", "k")

ALIASES: dict[str, tuple[str, ...]] = {
    "N": ("n", "params", "parameters", "nparams", "numparams", "numparameters", "modelsize",
          "size", "paramcount", "nonembeddingparams", "model_params"),
    "D": ("d", "tokens", "trainingtokens", "ntokens", "numtokens", "data", "datasize",
          "datasetsize", "traintokens"),
    "C": ("c", "compute", "flops", "flop", "trainingflop", "trainingflops", "trainingcompute",
          "computeflop", "computeflops"),
    "S": ("s", "steps", "step", "trainingsteps", "iterations", "iteration", "iter", "updates"),
    "X": ("examples", "seenexamples", "examplesseen", "samplesseen", "trainingexamples",
          "numexamples", "nexamples", "images", "sequences"),
    "loss": ("loss", "l", "evalloss", "valloss", "validationloss", "testloss", "finalloss",
             "error", "err", "errorrate", "perplexity", "logperplexity"),
    "accuracy": ("accuracy", "acc", "score", "evalaccuracy", "benchmarkaccuracy"),
    "k": ("k", "samples", "numsamples", "nsamples", "attempts"),
    "pass_at_k": ("pass@k", "passatk", "passk", "coverage"),
    "group": ("group", "family", "isoflop", "isoflopgroup", "budget", "series", "groupname",
              "experiment", "modelfamily", "setup"),
}

DESCRIBE = {
    "N": "N (parameters)", "D": "D (tokens)", "C": "C (compute, FLOP)",
    "S": "S (training steps)", "X": "X (examples seen)", "loss": "loss",
    "accuracy": "accuracy", "k": "k (samples)", "pass_at_k": "pass@k",
}


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9@]", "", header.strip().lower())


def canonical_column(header: str) -> str | None:
    """Canonical name of a header ("Model Size" → "N"), or None if not recognised."""
    key = _norm(header)
    for canon, names in ALIASES.items():
        if key in names:
            return canon
    return None


def x_variable(name: str | None, runs: Runs | None = None) -> str | None:
    """Canonical variable of an `--x` value: a canonical name, a recognised header, or X.

    Without a name, the first size column of `runs` (if given) is used.
    """
    if not name:
        xs = runs.x_columns() if runs is not None else []
        return xs[0] if xs else None
    key = name.strip()
    short = {"n": "N", "d": "D", "c": "C", "s": "S", "x": "X", "k": "k"}
    if key.lower() in short:
        return short[key.lower()]
    return canonical_column(key) or "X"


def _row_list(rows: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"


@dataclass
class Runs:
    """Columns of numbers (canonical names), the row number of each point, and warnings."""

    columns: dict[str, np.ndarray]
    rows: np.ndarray
    source: str = "<data>"
    headers: dict[str, str] = field(default_factory=dict)
    group: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    derived: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.rows.shape[0])

    @classmethod
    def from_columns(cls, columns: dict[str, object], *, source: str = "<data>",
                     group: object | None = None) -> Runs:
        """Runs from in-memory arrays keyed by canonical or common names; rows count from 1."""
        cols: dict[str, np.ndarray] = {}
        headers: dict[str, str] = {}
        grp = None
        for name, values in columns.items():
            canon = name if name in NUMERIC else canonical_column(name)
            if canon == "group":
                grp = np.asarray(values).astype(str)
                continue
            if canon is None:
                continue
            cols[canon] = np.asarray(values, dtype=float)
            headers[canon] = name
        if group is not None:
            grp = np.asarray(group).astype(str)
        n = len(next(iter(cols.values()))) if cols else 0
        runs = cls(cols, np.arange(1, n + 1), source, headers, grp)
        runs._derive()
        return runs

    def x_columns(self) -> list[str]:
        """Size columns present (measured or derived), most preferred first."""
        return [c for c in X_COLUMNS if c in self.columns]

    def target(self) -> str:
        """The measured outcome: loss, accuracy or pass@k, whichever the file has."""
        for t in ("loss", "accuracy", "pass_at_k"):
            if t in self.columns:
                return t
        raise ConvergentError("no loss, accuracy or pass@k column", where=self.source)

    def where(self, column: str, row: int) -> str:
        """`file:row:column` of one cell, as errors cite it."""
        return f"{self.source}:{row}:{self.headers.get(column, column)}"

    def _derive(self) -> None:
        cols = self.columns
        n_, d_, c_ = cols.get("N"), cols.get("D"), cols.get("C")
        with np.errstate(all="ignore"):
            if d_ is None and n_ is not None and c_ is not None:
                cols["D"] = c_ / (6.0 * n_)
                self.derived["D"] = "C / (6 N)"
            elif c_ is None and n_ is not None and d_ is not None:
                cols["C"] = 6.0 * n_ * d_
                self.derived["C"] = "6 N D"
            elif n_ is None and d_ is not None and c_ is not None:
                cols["N"] = c_ / (6.0 * d_)
                self.derived["N"] = "C / (6 D)"
            elif n_ is not None and d_ is not None and c_ is not None:
                fill_d = ~np.isfinite(d_) & np.isfinite(n_) & np.isfinite(c_)
                d_[fill_d] = c_[fill_d] / (6.0 * n_[fill_d])
                fill_c = ~np.isfinite(c_) & np.isfinite(n_) & np.isfinite(d_)
                c_[fill_c] = 6.0 * n_[fill_c] * d_[fill_c]
                ratio = c_ / (6.0 * n_ * d_)
                off = np.isfinite(ratio) & ((ratio > 2.0) | (ratio < 0.5))
                if off.any():
                    self.warnings.append(
                        f"{self.where('C', int(self.rows[off][0]))}: C differs from 6·N·D by "
                        f"more than 2× in {_row_list(self.rows[off])} "
                        f"(C/(6ND) = {ratio[off][0]:.3g} in the first)")

    def subset(self, mask: np.ndarray) -> Runs:
        """The runs selected by a boolean mask or index array (row numbers kept)."""
        cols = {k: v[mask] for k, v in self.columns.items()}
        grp = None if self.group is None else self.group[mask]
        return Runs(cols, self.rows[mask], self.source, dict(self.headers), grp,
                    list(self.warnings), dict(self.derived))

    def drop_worst(self, k: int, target: str = "loss") -> Runs:
        """Without the k points of highest target (as the Chinchilla replication did)."""
        if k <= 0:
            return self
        if k >= len(self):
            raise ConvergentError(f"cannot drop {k} of {len(self)} points", where=self.source)
        y = self.require([target])[target]
        keep = y < np.sort(y)[-k]
        return self.subset(keep)

    def require(self, names: list[str] | tuple[str, ...], *, n_params: int = 0,
                form: str = "", several_scales: bool = True) -> dict[str, np.ndarray]:
        """The named columns, checked: present, finite, in range, more than one scale.

        `several_scales=False` skips the last check (points to predict may share a scale).
        """
        for name in names:
            if name not in self.columns:
                have = ", ".join(sorted(self.headers.values())) or "none"
                need = DESCRIBE.get(name, name)
                extra = " (or the two others of N, D, C)" if name in ("N", "D", "C") else ""
                raise ConvergentError(
                    f"no column for {need}{extra}{' needed by form ' + form if form else ''}; "
                    f"recognised columns: {have}", where=self.source)
        out = {}
        for name in names:
            v = self.columns[name]
            bad = ~np.isfinite(v)
            if bad.any():
                r = self.rows[bad]
                raise ConvergentError(
                    f"missing or non-numeric {DESCRIBE.get(name, name)} in {_row_list(r)}",
                    where=self.where(name, int(r[0])))
            if name in ("accuracy", "pass_at_k"):
                bad = (v <= 0) | (v > 1)
                rng = "in (0, 1]"
            else:
                bad = v <= 0
                rng = "positive"
            if bad.any():
                r = self.rows[bad]
                raise ConvergentError(
                    f"{DESCRIBE.get(name, name)} must be {rng}; got {v[bad][0]:g} "
                    f"in {_row_list(r)}", where=self.where(name, int(r[0])))
            out[name] = v
        if n_params and len(self) < n_params:
            raise ConvergentError(
                f"{len(self)} points ({_row_list(self.rows)}) but form {form} has "
                f"{n_params} parameters; need at least as many points as parameters",
                where=self.source)
        for name in names if several_scales else ():
            if name in ("loss", "accuracy", "pass_at_k"):
                continue
            v = out[name]
            if len(v) and np.ptp(np.log(v)) < 1e-9:
                raise ConvergentError(
                    f"every point is at one scale ({DESCRIBE.get(name, name)} = {v[0]:g} "
                    f"in {_row_list(self.rows)}); a scaling law needs several scales",
                    where=self.where(name, int(self.rows[0])))
        return out


def _parse(cell: str) -> float:
    text = cell.strip().replace("_", "")
    if text == "":
        return math.nan
    value = float(text)
    if math.isinf(value):
        raise ValueError(text)
    return value


def read_runs(path: str | Path, x: str | None = None) -> Runs:
    """Read a runs CSV; unknown columns are ignored, unparsable numbers are errors.

    `x` names the column a single-variable curve runs along: a canonical name (D, S …)
    or any header of the file, which is then read as X (examples seen) if not recognised.
    """
    import io

    from convergent.userfiles import read_text

    text = read_text(path, "runs file")
    try:
        return _read(io.StringIO(text, newline=""), str(path), x)
    except csv.Error as exc:
        raise ConvergentError(f"not a readable CSV file: {exc}", where=str(path)) from None


def _x_mapping(header: list[str], x: str | None, path: str) -> dict[int, str]:
    """Column index of a user-named x column that is not otherwise recognised, read as X."""
    if not x:
        return {}
    want = x.strip()
    if want in NUMERIC or canonical_column(want) is not None:
        return {}
    hits = [j for j, h in enumerate(header) if _norm(h) == _norm(want)]
    if not hits:
        raise ConvergentError(f"no column named {want!r} (found: {', '.join(header)})",
                              where=path)
    return {hits[0]: "X"}


def _read(handle, path: str, x: str | None) -> Runs:
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        raise ConvergentError("empty file", where=path) from None
    mapping: dict[int, str] = {}
    headers: dict[str, str] = {}
    named = _x_mapping(header, x, path)
    for j, h in enumerate(header):
        canon = named.get(j) or canonical_column(h)
        if canon is None:
            continue
        if canon in headers:
            raise ConvergentError(
                f"columns {headers[canon]!r} and {h!r} both mean {DESCRIBE.get(canon, canon)}",
                where=f"{path}:1:{h}")
        mapping[j] = canon
        headers[canon] = h
    values: dict[str, list[float]] = {c: [] for c in headers if c != "group"}
    groups: list[str] = []
    rows: list[int] = []
    line = reader.line_num
    for rec in reader:
        line_end = reader.line_num
        if not rec or all(not c.strip() for c in rec):
            line = line_end
            continue
        row = line + 1
        line = line_end
        rows.append(row)
        for j, canon in mapping.items():
            cell = rec[j] if j < len(rec) else ""
            if canon == "group":
                groups.append(cell.strip())
                continue
            try:
                values[canon].append(_parse(cell))
            except ValueError:
                shown = cell if len(cell) <= 40 else cell[:40] + "…"
                raise ConvergentError(f"not a number: {shown!r}",
                                      where=f"{path}:{row}:{headers[canon]}") from None
    if not rows:
        raise ConvergentError("no data rows", where=path)
    numeric = [c for c in headers if c != "group"]
    if not numeric:
        raise ConvergentError(
            "no recognised columns; expected some of N/params, D/tokens, C/compute, "
            "steps, examples, loss, accuracy, k, pass@k "
            f"(found: {', '.join(header)})", where=path)
    cols = {c: np.array(values[c], dtype=float) for c in numeric}
    runs = Runs(cols, np.array(rows), path, headers,
                np.array(groups) if "group" in headers else None)
    runs._derive()
    return runs
