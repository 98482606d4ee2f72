"""Compute-optimal allocation: N*(C), D*(C), tokens per parameter, exponents a and b.

From a fitted L(N, D) (Chinchilla or Kaplan form) under C = 6·N·D, in closed form, with
intervals from the bootstrap samples; and from isoFLOP runs directly (Chinchilla
Approaches 1 and 2) when the runs have that structure.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from convergent.errors import ConvergentError
from convergent.scaling.runs import Runs
from convergent.stats import weighted_lines

#: The Chinchilla fit reproduced on Epoch AI's Figure 4 points (Huber δ = 1e-3).
REFERENCE = {"A": 477.8255571224, "B": 2143.424897462, "E": 1.817218127093,
             "alpha": 0.3473104545539, "beta": 0.3671726002626}

#: Spread (decades of C) within which runs count as one isoFLOP budget.
ISOFLOP_TOL = 0.05


def _arr(v: Any) -> np.ndarray:
    return np.asarray(v, dtype=float)


def chinchilla_allocation(p: dict[str, Any], compute: np.ndarray) -> dict[str, np.ndarray]:
    """Closed form for L = E + A/N^α + B/D^β: N* = G (C/6)^a, D* = (C/6)^b / G.

    a = β/(α+β), b = α/(α+β), G = (αA/(βB))^(1/(α+β)). Parameters may be arrays
    (bootstrap samples); the result broadcasts samples × compute budgets.
    """
    A, B, E = _arr(p["A"])[..., None], _arr(p["B"])[..., None], _arr(p["E"])[..., None]
    al, be = _arr(p["alpha"])[..., None], _arr(p["beta"])[..., None]
    lc = np.log(_arr(compute) / 6.0)
    s = al + be
    with np.errstate(all="ignore"):
        log_g = (np.log(al * A) - np.log(be * B)) / s
        ln = log_g + be / s * lc
        ld = -log_g + al / s * lc
        loss = E + A * np.exp(-al * ln) + B * np.exp(-be * ld)
    return {"N": np.exp(ln), "D": np.exp(ld), "tokens_per_param": np.exp(ld - ln),
            "loss": loss, "a": (be / s)[..., 0], "b": (al / s)[..., 0]}


def kaplan_allocation(p: dict[str, Any], compute: np.ndarray) -> dict[str, np.ndarray]:
    """Closed form for L = ((Nc/N)^(αN/αD) + Dc/D)^αD under C = 6ND.

    With r = αN/αD: N* = (r·Nc^r·C/(6·Dc))^(1/(r+1)), so a = 1/(r+1), b = r/(r+1).
    """
    nc, dc = _arr(p["Nc"])[..., None], _arr(p["Dc"])[..., None]
    an, ad = _arr(p["alpha_N"])[..., None], _arr(p["alpha_D"])[..., None]
    lc = np.log(_arr(compute) / 6.0)
    r = an / ad
    with np.errstate(all="ignore"):
        ln = (np.log(r) + r * np.log(nc) + lc - np.log(dc)) / (r + 1.0)
        ld = lc - ln
        loss = np.exp(ad * np.logaddexp(r * (np.log(nc) - ln), np.log(dc) - ld))
    return {"N": np.exp(ln), "D": np.exp(ld), "tokens_per_param": np.exp(ld - ln),
            "loss": loss, "a": (1.0 / (r + 1.0))[..., 0], "b": (r / (r + 1.0))[..., 0]}


ALLOCATORS = {"chinchilla": chinchilla_allocation, "kaplan": kaplan_allocation}


def _interval(v: np.ndarray, ci: float) -> list[float]:
    v = v[np.isfinite(v)]
    if v.size == 0:
        return [float("nan"), float("nan")]
    return [float(x) for x in np.percentile(v, [50 * (1 - ci), 50 * (1 + ci)])]


def compute_optimal(form: str, params: dict[str, float], compute: list[float] | np.ndarray, *,
                    samples: dict[str, np.ndarray] | None = None,
                    ci: float = 0.9) -> dict[str, Any]:
    """N*, D*, tokens per parameter and loss at each budget, exponents a and b, with intervals."""
    if form not in ALLOCATORS:
        raise ConvergentError(
            f"compute-optimal allocation needs an L(N, D) form (chinchilla or kaplan), not {form}")
    budgets = _arr(compute).ravel()
    if budgets.size == 0 or not np.all(np.isfinite(budgets)) or np.any(budgets <= 0):
        raise ConvergentError("compute budgets must be positive numbers of FLOP")
    alloc = ALLOCATORS[form]
    point = alloc(params, budgets)
    boot = alloc(samples, budgets) if samples else None
    rows = []
    for j, c in enumerate(budgets):
        row: dict[str, Any] = {"C": float(c)}
        for key in ("N", "D", "tokens_per_param", "loss"):
            row[key] = float(point[key][j])
            if boot is not None:
                row[f"{key}_ci"] = _interval(boot[key][:, j], ci)
        rows.append(row)
    exps: dict[str, Any] = {"a": float(point["a"]), "b": float(point["b"])}
    if boot is not None:
        exps["a_ci"] = _interval(boot["a"], ci)
        exps["b_ci"] = _interval(boot["b"], ci)
    return {"form": form, "params": {k: float(v) for k, v in params.items()},
            "exponents": exps, "budgets": rows, "ci": ci if boot is not None else None}


def isoflop_groups(runs: Runs, tol: float = ISOFLOP_TOL) -> tuple[list[np.ndarray], str]:
    """Index arrays of isoFLOP groups (≥3 distinct N each, ≥3 groups), or ([], reason)."""
    if "C" not in runs.columns or "N" not in runs.columns or "loss" not in runs.columns:
        return [], "needs N, C (or D) and loss"
    lc = np.log10(runs.columns["C"])
    n = runs.columns["N"]
    if runs.group is not None:
        labels = runs.group
        groups = [np.flatnonzero(labels == g) for g in dict.fromkeys(labels.tolist())]
    else:
        order = np.argsort(lc, kind="stable")
        cuts = np.flatnonzero(np.diff(lc[order]) > tol) + 1
        groups = [g for g in np.split(order, cuts)]
        wide = [g for g in groups if len(g) >= 3 and np.ptp(lc[g]) > 2 * tol]
        if wide:
            return [], (f"compute values do not form distinct budgets (e.g. {len(wide[0])} runs "
                        f"spread over {np.ptp(lc[wide[0]]):.2f} decades); add a group column")
    usable = [g for g in groups if len(np.unique(n[g])) >= 3]
    if len(usable) < 3:
        return [], f"only {len(usable)} budgets with at least 3 model sizes (need 3)"
    return usable, ""


def _group_optima(ln: np.ndarray, loss: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per weight row: parabola vertex in log N (Approach 2) and min-loss log N (Approach 1)."""
    x = ln - ln.mean()
    basis = np.stack([np.ones_like(x), x, x * x], axis=1)
    xtwx = np.einsum("bi,ij,ik->bjk", w, basis, basis)
    xtwy = np.einsum("bi,ij,i->bj", w, basis, loss)
    with np.errstate(all="ignore"):
        coef = np.linalg.solve(xtwx + 1e-12 * np.eye(3), xtwy[..., None])[..., 0]
        vertex = -coef[:, 1] / (2.0 * coef[:, 2])
    inside = (coef[:, 2] > 0) & (vertex >= x.min()) & (vertex <= x.max())
    v2 = np.where(inside, vertex + ln.mean(), np.nan)
    masked = np.where(w > 0, loss, np.inf)
    v1 = ln[np.argmin(masked, axis=1)]
    return v2, v1


def isoflop_analysis(runs: Runs, compute: list[float] | np.ndarray | None = None, *,
                     bootstrap: int = 0, seed: int = 42, ci: float = 0.9) -> dict[str, Any]:
    """Chinchilla Approaches 1 (lowest loss per budget) and 2 (parabola per isoFLOP profile)."""
    groups, reason = isoflop_groups(runs)
    if not groups:
        return {"isoflop": False, "reason": reason}
    ln_all = np.log(runs.columns["N"])
    loss_all = runs.columns["loss"]
    lc_all = np.log(runs.columns["C"])
    budgets_c = np.array([np.exp(lc_all[g].mean()) for g in groups])
    lcg = np.log(budgets_c)
    rng = np.random.default_rng(seed)
    nb = bootstrap + 1
    v2 = np.empty((nb, len(groups)))
    v1 = np.empty((nb, len(groups)))
    for j, g in enumerate(groups):
        w = np.ones((nb, len(g)))
        if bootstrap:
            idx = rng.integers(0, len(g), (bootstrap, len(g)))
            w[1:] = 0.0
            np.add.at(w[1:], (np.repeat(np.arange(bootstrap), len(g)), idx.ravel()), 1.0)
        v2[:, j], v1[:, j] = _group_optima(ln_all[g], loss_all[g], w)
    out: dict[str, Any] = {"isoflop": True, "groups": [
        {"C": float(budgets_c[j]), "runs": len(g),
         "rows": [int(r) for r in runs.rows[g]],
         "N_opt_approach1": float(np.exp(v1[0, j])),
         "N_opt_approach2": float(np.exp(v2[0, j])) if np.isfinite(v2[0, j]) else None}
        for j, g in enumerate(groups)]}
    budgets = None if compute is None else _arr(compute).ravel()
    for name, v in (("approach1", v1), ("approach2", v2)):
        ok = np.isfinite(v)
        w = ok.astype(float)
        ln_opt = np.where(ok, v, 0.0)
        if ok[0].sum() < 2:
            out[name] = {"error": "fewer than 2 budgets with an interior optimum"}
            continue
        a, ka = weighted_lines(np.broadcast_to(lcg, v.shape), ln_opt, w)
        ld_opt = np.where(ok, lcg - np.log(6.0) - v, 0.0)
        b, kb = weighted_lines(np.broadcast_to(lcg, v.shape), ld_opt, w)
        res: dict[str, Any] = {"a": float(a[0]), "b": float(b[0]), "budgets_used": int(ok[0].sum())}
        if bootstrap:
            res["a_ci"] = _interval(a[1:], ci)
            res["b_ci"] = _interval(b[1:], ci)
        if budgets is not None:
            rows = []
            for c in budgets:
                n_opt = np.exp(ka + a * np.log(c))
                d_opt = np.exp(kb + b * np.log(c))
                row = {"C": float(c), "N": float(n_opt[0]), "D": float(d_opt[0]),
                       "tokens_per_param": float(d_opt[0] / n_opt[0])}
                if bootstrap:
                    row["N_ci"] = _interval(n_opt[1:], ci)
                    row["D_ci"] = _interval(d_opt[1:], ci)
                    row["tokens_per_param_ci"] = _interval(d_opt[1:] / n_opt[1:], ci)
                rows.append(row)
            res["budgets"] = rows
        out[name] = res
    return out
