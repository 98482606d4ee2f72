"""Benchmark tables: one row per model, one column per benchmark (plus size, tokens, FLOPs)."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from convergent.errors import ConvergentError
from convergent.ingest.csvread import load_csv
from convergent.ingest.fetch import Input, source_row
from convergent.ingest.names import model_key
from convergent.ingest.problems import IngestReport, Problems
from convergent.ingest.values import (
    cell_date,
    parse_number,
    positive_number,
    range_problem,
    row_hash,
)
from convergent.ingest.write import Record, write_records
from convergent.registry import norm_key, registry
from convergent.scoreunits import elo_cells, is_elo, score_column, strip_unit

if TYPE_CHECKING:
    from convergent.store import Store

_UNITS = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
_META = {
    "params_total": ("modelsize", "size", "parameters", "params", "nparams"),
    "dataset_tokens": ("pretrainingdatasize", "tokens", "trainingtokens", "datasize"),
    "training_compute_flop": ("flops", "compute", "trainingcompute", "trainingflop"),
}
_RANGE = {"params_total": "params", "dataset_tokens": "tokens",
          "training_compute_flop": "compute"}
_TEXT = {"model": "model", "modelfamily": "family", "family": "family", "date": "date",
         "releasedate": "date", "publicationdate": "date", "released": "date",
         "organization": "organization", "organisation": "organization", "org": "organization"}


def _unit(header: str, where: str = "header") -> tuple[str, float]:
    """Column key without its unit suffix, and the unit's multiplier: 'Size (B)' -> 1e9."""
    m = re.search(r"\(([^)]*)\)\s*$", header)
    base = norm_key(header[: m.start()] if m else header)
    if not m:
        return base, 1.0
    unit = m.group(1).strip().lower()
    if unit in _UNITS:
        return base, _UNITS[unit]
    try:
        mult = float(unit)
    except ValueError:
        return base, 1.0
    if not math.isfinite(mult) or mult <= 0:
        raise ConvergentError(f"column {header!r}: unit multiplier {unit!r} must be a positive "
                              "number", where=f"{where}:1:{header}")
    return base, mult


def _benchmark_name(header: str) -> str:
    """The registry's benchmark label when the column names one, else the header itself."""
    labels = {norm_key(a.benchmark): a.benchmark for a in registry().areas.values()
              if a.kind == "capability" and a.benchmark}
    return labels.get(norm_key(header), header.strip())


def ingest_benchmarks(store: Store, inp: Input, skip_bad_rows: bool,
                      allow_any_date: bool = False) -> IngestReport:
    """Validate every cell, convert fractions to percent, then write scores and models."""
    con = store.con.con
    header = load_csv(con, inp.path, inp.name, "_bm_raw", ["Model"])
    origin = f"benchmarks:{inp.path.stem}"
    src = source_row(inp, "benchmark-table", origin)
    report = IngestReport("benchmarks", inp.url, origin, src["source_id"],
                          inp.snapshot.isoformat())
    rows = con.execute('SELECT _row, * EXCLUDE (_row) FROM "_bm_raw" ORDER BY _row').fetchall()
    con.unregister("_bm_raw")
    report.rows_read = len(rows)
    roles: dict[str, tuple[str, float]] = {}
    bench: list[str] = []
    for h in header:
        key, mult = _unit(h, inp.name)
        if norm_key(h) in _TEXT:
            roles[h] = (_TEXT[norm_key(h)], 1.0)
        elif any(key == k for keys in _META.values() for k in keys):
            roles[h] = (next(f for f, keys in _META.items() if key in keys), mult)
        else:
            bench.append(h)
    problems = Problems(inp.name)
    if not bench:
        problems.add(1, None, "no benchmark columns")
        problems.resolve(False, report)
    parsed: list[tuple[int, dict[str, Any], dict[str, float]]] = []
    seen: dict[str, int] = {}
    for rec in rows:
        rowno, cells = int(rec[0]), dict(zip(header, rec[1:], strict=True))
        ok = True
        meta: dict[str, Any] = {}
        scores: dict[str, float] = {}
        name = (cells["Model"] or "").strip()
        if not name:
            problems.add(rowno, "Model", "empty model name")
            ok = False
        elif model_key(name) in seen:
            problems.add(rowno, "Model", f"duplicate model {name!r} (first at row "
                                         f"{seen[model_key(name)]})")
            ok = False
        else:
            seen[model_key(name)] = rowno
        for h, (role, mult) in roles.items():
            v = cells[h]
            if role == "date":
                meta["date"] = None
                if not v:
                    continue
                try:
                    meta["date"] = cell_date(v, f"{inp.name}:{rowno}:{h}",
                                             allow_any=allow_any_date)
                except ConvergentError as exc:
                    problems.add(rowno, h, str(exc).split(": ", 1)[-1] +
                                 " (--allow-any-date keeps it)")
                    ok = False
                    continue
                if meta["date"] is None:
                    problems.add(rowno, h, f"invalid date {v!r} (expected YYYY-MM-DD)")
                    ok = False
            elif role in ("family", "organization", "model"):
                meta[role] = (v or "").strip() or None
            else:
                x, why = positive_number(v)
                if why:
                    problems.add(rowno, h, why)
                    ok = False
                    continue
                value = None if x is None else x * mult
                why = None if value is None else range_problem(_RANGE[role], value)
                if why:
                    problems.add(rowno, h, f"{why} after the column's unit")
                    ok = False
                    continue
                meta[role] = value
        for h in bench:
            try:
                x = parse_number(cells[h])
            except ValueError:
                problems.add(rowno, h, f"not a number: {str(cells[h])[:60]!r}")
                ok = False
                continue
            if x is not None:
                scores[h] = x
        if ok:
            parsed.append((rowno, meta, scores))
    to_percent: dict[str, float] = {}
    rejected: set[int] = set()
    for h in bench:
        cells = [(rowno, s.get(h, math.nan)) for rowno, _, s in parsed]
        if is_elo(h):
            to_percent[h], bad = 1.0, elo_cells(cells)
        else:
            to_percent[h], bad = score_column(h, cells, f"{inp.name}:1:{h}")
        for rowno, why in bad:
            problems.add(rowno, h, why)
            rejected.add(rowno)
    parsed = [p for p in parsed if p[0] not in rejected]
    problems.resolve(skip_bad_rows, report)
    records = []
    for rowno, meta, scores in parsed:
        name = meta.get("model") or ""
        org = meta.get("organization") or (name.split("/", 1)[0] if "/" in name else None)
        entity = {k: meta.get(k) for k in _META if meta.get(k) is not None}
        segs = {"modality": "language"}
        if meta.get("family"):
            segs["family"] = meta["family"]
        records.append(Record(
            row=rowno, name=name, organization=org, date=meta.get("date"), entity=entity,
            scores=[(_benchmark_name(strip_unit(h)), s * to_percent[h])
                    for h, s in scores.items() if not math.isnan(s)],
            segments=segs,
            raw_hash=row_hash([name, *(meta.get(k) for k in sorted(meta)),
                               *(scores.get(h) for h in bench)])))
    write_records(store, origin, src, records, report, score_date=inp.snapshot)
    return report

