"""Batched Levenberg-Marquardt: many small bounded weighted least-squares problems at once.

The one damped Gauss-Newton solver of the project. A caller supplies the model and its
Jacobian for a batch of parameter rows; every problem (row) keeps its own damping, and
problems that have stopped improving leave the batch, so the slowest one no longer sets
the cost of all the others. Where a single problem needs no batching, use
`scipy.optimize.least_squares` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: model(q, *data) -> predictions (k x n) for parameter rows q (k x p) and their data rows.
Model = Callable[..., np.ndarray]
#: jacobian(q, *data) -> d prediction / d q, parameters before points (k x p x n).
Jacobian = Callable[..., np.ndarray]


@dataclass
class LMResult:
    """Final parameters, weighted residual sum of squares and iterations of every problem."""

    x: np.ndarray
    cost: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray


def levenberg_marquardt(
    model: Model,
    jacobian: Jacobian,
    y: np.ndarray,
    w: np.ndarray,
    x0: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    data: tuple[np.ndarray, ...] = (),
    *,
    groups: np.ndarray | None = None,
    prune_at: int = 5,
    max_iter: int = 150,
    rtol: float = 1e-6,
    check_every: int = 10,
    lam0: float = 1e-2,
) -> LMResult:
    """Minimise sum_j w_ij (model_ij - y_ij)^2 for every row i, from the starts x0.

    `data` holds per-problem arrays (first axis = problems, e.g. each problem's inputs);
    the model and Jacobian receive the rows of the problems still in the batch.
    Rows sharing a `groups` label are starts of one problem: after `prune_at` iterations
    only the cheapest row of each group goes on (the others keep their cost so far).

    Steps solve (JᵀWJ + λ diag(JᵀWJ)) δ = −JᵀW r and are projected onto [lower, upper];
    a step is kept only if it lowers the cost (then λ/3, else λ·4). The Jacobian is
    recomputed only for rows whose step was kept. Every `check_every` iterations a row
    whose cost fell by less than `rtol` (relative) since the last check leaves the batch.
    """
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    p = np.array(x0, dtype=float)
    lower = np.broadcast_to(np.asarray(lower, dtype=float), p.shape[1:])
    upper = np.broadcast_to(np.asarray(upper, dtype=float), p.shape[1:])
    eye = np.eye(p.shape[1])
    pred = model(p, *data)
    cost = np.sum(w * (pred - y) ** 2, axis=1)
    n_iter = np.zeros(p.shape[0], dtype=int)
    converged = np.zeros(p.shape[0], dtype=bool)

    def normal(q: np.ndarray, r: np.ndarray, ww: np.ndarray,
               dd: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        jt = jacobian(q, *dd)
        jtw = jt * ww[:, None, :]
        return jtw @ jt.transpose(0, 2, 1), (jtw @ r[:, :, None])[:, :, 0]

    # the batch: every array has one row per problem still being iterated
    b: dict[str, np.ndarray] = {"act": np.arange(p.shape[0]), "p": p.copy(), "pred": pred,
                                "cost": cost.copy(), "y": y, "w": w,
                                "lam": np.full(p.shape[0], lam0), "check": cost.copy()}
    data_keys = [f"data{i}" for i in range(len(data))]
    b.update(zip(data_keys, data, strict=True))
    b["jtj"], b["jtr"] = normal(p, pred - y, w, list(data))

    def keep(rows: np.ndarray) -> None:
        p[b["act"]], cost[b["act"]], n_iter[b["act"]] = b["p"], b["cost"], it
        for k in b:
            b[k] = b[k][rows]

    it = 0
    for it in range(1, max_iter + 1):
        pa, jtj, jtr = b["p"], b["jtj"], b["jtr"]
        # a parameter at a bound that the gradient pushes outwards stays there this step
        fixed = ((pa <= lower) & (jtr > 0)) | ((pa >= upper) & (jtr < 0))
        free = ~fixed
        a = jtj * (free[:, :, None] & free[:, None, :]) + eye * fixed[:, :, None]
        damp = b["lam"][:, None, None] * (a * eye + 1e-12 * eye)
        step = np.linalg.solve(a + damp, -np.where(free, jtr, 0.0)[:, :, None])[:, :, 0]
        cand = np.clip(pa + step, lower, upper)
        cpred = model(cand, *(b[k] for k in data_keys))
        ccost = np.sum(b["w"] * (cpred - b["y"]) ** 2, axis=1)
        better = ccost < b["cost"]
        if better.any():
            i = np.flatnonzero(better)
            pa[i], b["pred"][i], b["cost"][i] = cand[i], cpred[i], ccost[i]
            jtj[i], jtr[i] = normal(pa[i], b["pred"][i] - b["y"][i], b["w"][i],
                                    [b[k][i] for k in data_keys])
        b["lam"] = np.clip(np.where(better, b["lam"] / 3.0, b["lam"] * 4.0), 1e-12, 1e12)
        if groups is not None and it == prune_at:
            grp = groups[b["act"]]
            order = np.lexsort((b["cost"], grp))
            first = np.ones(order.size, dtype=bool)
            first[1:] = grp[order][1:] != grp[order][:-1]
            keep(np.sort(order[first]))
        if it % check_every == 0:
            going = b["check"] - b["cost"] > rtol * b["cost"] + 1e-14
            converged[b["act"][~going]] = True
            b["check"] = b["cost"].copy()
            keep(np.flatnonzero(going))
            if b["act"].size == 0:
                break
    keep(np.arange(b["act"].size))
    return LMResult(p, cost, n_iter, converged)
