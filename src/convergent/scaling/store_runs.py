"""Fit the training runs held in the store, one fit per run group, for the report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from convergent.errors import ConvergentError
from convergent.scaling.fit import fit
from convergent.scaling.runs import Runs

if TYPE_CHECKING:
    from convergent.store import Store

MIN_RUNS = 8


def fit_store_runs(store: Store, cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """Per run group: Chinchilla L(N, D) when N and D are known, else a power law in C.

    Returns {"fits": [...], "points": [...]}: one row per group (form, parameters,
    objective, best observed loss, n, status) and every run with its fitted loss, so the
    report can plot both. A group whose fit fails or degenerates is listed with its reason.
    """
    df = store.con.execute(store.table("runs"))
    fits: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    if df.empty:
        return {"fits": fits, "points": points}
    df["group_name"] = df["group_name"].fillna("all").astype(str)
    for group, g in df.groupby("group_name", sort=True):
        g = g[g["loss"].notna()]
        has_nd = g["params"].notna().all() and g["tokens"].notna().all()
        if has_nd:
            form = "chinchilla"
            cols = {"N": g["params"], "D": g["tokens"], "loss": g["loss"]}
        else:
            form = "power-C"
            g = g[g["compute"].notna()]
            cols = {"C": g["compute"], "loss": g["loss"]}
        row: dict[str, Any] = {"group": group, "form": form, "n": len(g),
                               "loss": float(g["loss"].min()) if len(g) else None}
        if len(g) < MIN_RUNS:
            fits.append({**row, "status": f"too few runs ({len(g)} < {MIN_RUNS})"})
            continue
        runs = Runs.from_columns({k: v.to_numpy(dtype=float) for k, v in cols.items()},
                                 source=f"runs:{group}")
        try:
            res = fit(runs, form, show_progress=False)
        except ConvergentError as exc:
            fits.append({**row, "status": f"no fit: {exc}"})
            continue
        fits.append({**row, "status": "ok", "objective": res.objective,
                     "params": {k: float(v) for k, v in res.params.items()}})
        pred = res.predict({k: runs.columns[k] for k in res.form.inputs})
        compute = runs.columns.get("C")
        if compute is None:
            compute = 6.0 * runs.columns["N"] * runs.columns["D"]
        for c, actual, fitted in zip(compute, runs.columns["loss"], pred, strict=True):
            points.append({"group": group, "compute": float(c), "loss": float(actual),
                           "kind": "run"})
            points.append({"group": group, "compute": float(c), "loss": float(fitted),
                           "kind": "fit"})
    return {"fits": fits, "points": [p for p in points if np.isfinite(p["loss"])]}
