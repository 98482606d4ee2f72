"""Training runs for scaling-law fits: parameters N, tokens D and/or compute C, and loss."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from convergent.errors import ConvergentError
from convergent.ingest.csvread import load_csv
from convergent.ingest.fetch import Input, source_row
from convergent.ingest.problems import IngestReport, Problems
from convergent.ingest.values import positive_number
from convergent.ingest.write import commit, frame
from convergent.registry import norm_key

if TYPE_CHECKING:
    from convergent.store import Store

ORIGIN = "runs"
#: Store column of each canonical runs column (the names are recognised by scaling.runs).
STORED = {"N": "params", "D": "tokens", "C": "compute", "loss": "loss", "group": "group"}
RUN_ID = ("runid", "run", "id", "name")

#: Plausible ranges of stored values (a value outside is refused, not stored).
LIMITS = {"params": (1.0, 1e15), "tokens": (1.0, 1e17), "compute": (1.0, 1e32),
          "loss": (1e-6, 1e3)}


def _roles(header: list[str], name: str) -> dict[str, str]:
    from convergent.scaling.runs import DESCRIBE, canonical_column

    found: dict[str, str] = {}
    for h in header:
        canon = canonical_column(h)
        role = STORED.get(canon or "")
        if role is None and norm_key(h) in RUN_ID and "run_id" not in found:
            role = "run_id"
        if role is None:
            continue
        if role in found:
            raise ConvergentError(f"columns {found[role]!r} and {h!r} both mean "
                                  f"{DESCRIBE.get(canon or '', role)}", where=f"{name}:1:{h}")
        found[role] = h
    if "loss" not in found:
        raise ConvergentError("missing column 'loss'", where=f"{name}:1")
    if not any(r in found for r in ("params", "tokens", "compute")):
        raise ConvergentError("need at least one of the columns N (params), D (tokens) or "
                              "C (compute)", where=f"{name}:1")
    return found


def _check_range(role: str, value: float) -> str:
    """Why a stored value is implausible ('' when it is fine)."""
    lo, hi = LIMITS[role]
    if not math.isfinite(value):
        return f"{role} is not finite ({value:g})"
    if not lo <= value <= hi:
        return f"{role} = {value:g} is outside the plausible range {lo:g} to {hi:g}"
    return ""


def ingest_runs(store: Store, inp: Input, skip_bad_rows: bool) -> IngestReport:
    """Validate every run, derive the missing one of N, D, C by C = 6ND, replace the file's runs."""
    con = store.con.con
    header = load_csv(con, inp.path, inp.name, "_runs_raw", [])
    roles = _roles(header, inp.name)
    src = source_row(inp, "training-runs", ORIGIN)
    report = IngestReport("runs", inp.url, ORIGIN, src["source_id"], inp.snapshot.isoformat())
    rows = con.execute('SELECT _row, * EXCLUDE (_row) FROM "_runs_raw" ORDER BY _row').fetchall()
    con.unregister("_runs_raw")
    report.rows_read = len(rows)
    problems = Problems(inp.name)
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for rec in rows:
        rowno, cells = int(rec[0]), dict(zip(header, rec[1:], strict=True))
        vals: dict[str, float | None] = {}
        ok = True
        for role in ("params", "tokens", "compute", "loss"):
            col = roles.get(role)
            if col is None:
                vals[role] = None
                continue
            x, why = positive_number(cells[col])
            if not why and x is not None:
                why = _check_range(role, x)
            if why:
                problems.add(rowno, col, why)
                ok = False
            vals[role] = x
        if ok and vals["loss"] is None:
            problems.add(rowno, roles["loss"], "empty loss")
            ok = False
        if ok and sum(vals[r] is not None for r in ("params", "tokens", "compute")) == 0:
            problems.add(rowno, None, "no N, D or C value")
            ok = False
        run_id = (cells.get(roles["run_id"]) or "").strip() if "run_id" in roles else ""
        run_id = run_id or f"{inp.path.stem}:{rowno}"
        if run_id in seen:
            problems.add(rowno, roles.get("run_id"), f"duplicate run {run_id!r} "
                                                     f"(first at row {seen[run_id]})")
            ok = False
        seen.setdefault(run_id, rowno)
        if not ok:
            continue
        n, d, c = vals["params"], vals["tokens"], vals["compute"]
        if c is None and n is not None and d is not None:
            c = 6.0 * n * d
        elif d is None and n is not None and c is not None:
            d = c / (6.0 * n)
        elif n is None and d is not None and c is not None:
            n = c / (6.0 * d)
        derived = [f"{r}: {why}" for r, v in (("params", n), ("tokens", d), ("compute", c))
                   if v is not None and (why := _check_range(r, v))]
        if derived:
            problems.add(rowno, None, "derived with C = 6ND, " + "; ".join(derived))
            continue
        group = (cells.get(roles["group"]) or "").strip() if "group" in roles else ""
        out.append({"run_id": run_id, "group_name": group or inp.path.stem, "params": n,
                    "tokens": d, "compute": c, "loss": vals["loss"],
                    "source_id": src["source_id"]})
    problems.resolve(skip_bad_rows, report)
    new = frame("runs", out)
    old = {r[0]: tuple(r[1:]) for r in con.execute(
        "SELECT run_id, group_name, params, tokens, compute, loss FROM runs "
        "WHERE source_id = ?", [src["source_id"]]).fetchall()}
    for r in out:
        prev = old.get(r["run_id"])
        key = (r["group_name"], r["params"], r["tokens"], r["compute"], r["loss"])
        if prev is None:
            report.added += 1
        elif prev == key:
            report.unchanged += 1
        else:
            report.updated += 1
    dropped = set(old) - {r["run_id"] for r in out}
    if dropped:
        report.notes.append(f"{len(dropped)} run(s) of an earlier snapshot of this file removed")
    def replace_runs() -> None:
        con.execute("DELETE FROM runs WHERE source_id = ?", [src["source_id"]])
        store.append("runs", new)

    commit(store, ORIGIN, src, [], [], {}, bulk=replace_runs)
    return report
