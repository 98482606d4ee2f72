"""Batched minimisation: a Huber objective and an L-BFGS that runs many starts as one array."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Status codes of one start.
CONVERGED_F = 0  # relative decrease of the objective below ftol
CONVERGED_G = 1  # gradient below gtol
STALLED = 2  # no decrease found along the search direction (at the precision limit)
MAX_ITER = 3  # iteration budget exhausted
ESCAPED = 4  # left the plausible box (a degenerate solution at a bound)

STATUS_TEXT = {
    CONVERGED_F: "converged (objective)",
    CONVERGED_G: "converged (gradient)",
    STALLED: "stalled (no further decrease)",
    MAX_ITER: "iteration limit reached",
    ESCAPED: "left the plausible range",
}

FG = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
Progress = Callable[[int], None]


@dataclass
class BatchResult:
    """Final state of every start: parameters, objective, gradient, iterations, status."""

    x: np.ndarray
    f: np.ndarray
    g: np.ndarray
    n_iter: np.ndarray
    status: np.ndarray
    n_evals: int


def huber(r: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Huber loss of residuals and its derivative (the clipped residual)."""
    c = np.clip(r, -delta, delta)
    return c * (r - 0.5 * c), c


class HuberObjective:
    """Sum of Huber losses of log residuals for a batch of parameter vectors.

    `weights` (rows × points) turns each row into a weighted problem, which is how a
    bootstrap resample is expressed without copying data: the weight of a point is
    the number of times it was drawn.
    """

    def __init__(
        self,
        mu_vjp: Callable,
        logy: np.ndarray,
        delta: float,
        *,
        weights: np.ndarray | None = None,
        dtype: type = np.float64,
        chunk: int = 0,
    ) -> None:
        self.mu_vjp = mu_vjp
        self.logy = np.asarray(logy, dtype=dtype)
        self.delta = float(delta)
        self.weights = None if weights is None else np.asarray(weights, dtype=dtype)
        self.dtype = dtype
        n = max(1, self.logy.shape[-1])
        self.chunk = chunk or max(16, 32768 // n)
        self.n_evals = 0

    def __call__(self, x: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Objective and gradient at each row of x (rows index the weights)."""
        k, p = x.shape
        self.n_evals += k
        f = np.empty(k)
        g = np.empty((k, p))
        xs = x.astype(self.dtype)
        d = self.delta
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            for lo in range(0, k, self.chunk):
                hi = min(k, lo + self.chunk)
                r, vjp = self.mu_vjp(xs[lo:hi])
                r -= self.logy
                c = np.minimum(r, d)
                np.maximum(c, -d, out=c)
                r -= 0.5 * c
                if self.weights is not None:
                    c *= self.weights[rows[lo:hi]]
                f[lo:hi] = np.einsum("ij,ij->i", c, r)
                g[lo:hi] = vjp(c)
        bad = ~np.isfinite(f) | ~np.isfinite(g).all(axis=1)
        if bad.any():
            f[bad] = np.inf
            g[bad] = 0.0
        return f, g

    def value(self, x: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Objective only (float64 sum), e.g. to report a final value."""
        rows = np.arange(len(x)) if rows is None else rows
        return self(x, rows)[0]


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


def lbfgs(
    fg: FG,
    x0: np.ndarray,
    *,
    memory: int = 8,
    max_iter: int = 2000,
    ftol: float = 1e-10,
    gtol: float = 1e-12,
    xtol: float = 1e-15,
    grow: float = 4.0,
    max_grow: int = 3,
    c2: float = 0.9,
    box: tuple[np.ndarray, np.ndarray] | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Minimise independent problems, one per row of x0, with L-BFGS in lock-step.

    The line search backtracks (quadratic interpolation) until the Armijo condition
    holds and extrapolates while the slope is still steep, a cheap stand-in for the
    strong Wolfe search; it gives up on a row (status STALLED) once the step is below
    `xtol` relative to the parameters, the resolution of the objective's precision.
    Finished rows leave the batch, so later iterations only pay for the rows still moving;
    rows that leave `box` stop there (status ESCAPED) instead of drifting towards infinity.
    """
    x0 = np.asarray(x0, dtype=np.float64)
    s_all, p = x0.shape
    out_x = x0.copy()
    out_f = np.full(s_all, np.inf)
    out_g = np.zeros((s_all, p))
    out_it = np.zeros(s_all, dtype=int)
    out_st = np.full(s_all, MAX_ITER)
    n_evals = 0

    idx = np.arange(s_all)
    x = x0.copy()
    f, g = fg(x, idx)
    n_evals += len(idx)
    m = memory
    sh = np.zeros((s_all, m, p))
    yh = np.zeros((s_all, m, p))
    rho = np.zeros((s_all, m))
    gamma = np.ones(s_all)
    fresh = np.ones(s_all, dtype=bool)
    slot = 0
    c1 = 1e-4

    start_bad = ~np.isfinite(f)
    if start_bad.any():
        out_st[start_bad] = STALLED
        out_it[start_bad] = 0
        keep = ~start_bad
        idx, x, f, g = idx[keep], x[keep], f[keep], g[keep]
        sh, yh, rho, gamma, fresh = sh[keep], yh[keep], rho[keep], gamma[keep], fresh[keep]
        if progress:
            progress(int(start_bad.sum()))

    for it in range(max_iter):
        if len(idx) == 0:
            break
        q = g.copy()
        order = [(slot - 1 - j) % m for j in range(m)]
        alpha = np.zeros((len(idx), m))
        for j in order:
            alpha[:, j] = rho[:, j] * _dot(sh[:, j], q)
            q -= alpha[:, j, None] * yh[:, j]
        q *= gamma[:, None]
        for j in reversed(order):
            beta = rho[:, j] * _dot(yh[:, j], q)
            q += sh[:, j] * (alpha[:, j] - beta)[:, None]
        d = -q
        gd = _dot(g, d)
        bad = ~(gd < 0) | ~np.isfinite(gd)
        if bad.any():
            d[bad] = -g[bad]
            gd[bad] = -_dot(g[bad], g[bad])
            rho[bad] = 0.0
            gamma[bad] = 1.0
            fresh[bad] = True
        t = np.ones(len(idx))
        gnorm1 = np.abs(g).sum(axis=1)
        t[fresh] = np.minimum(1.0, 1.0 / np.maximum(gnorm1[fresh], 1e-300))

        t_cap = t * grow**max_grow
        xn, fn, gn = x.copy(), f.copy(), g.copy()
        have = np.zeros(len(idx), dtype=bool)  # an acceptable point is stored in xn
        shrunk = np.zeros(len(idx), dtype=bool)
        pend = np.arange(len(idx))
        floor = xtol * (1.0 + np.abs(x).max(axis=1)) / np.maximum(np.abs(d).max(axis=1), 1e-300)
        for _ in range(40):
            xt = x[pend] + t[pend, None] * d[pend]
            ft, gt = fg(xt, idx[pend])
            n_evals += len(pend)
            f0, gd0, tp = f[pend], gd[pend], t[pend]
            armijo = np.isfinite(ft) & (ft <= f0 + c1 * tp * gd0)
            better = armijo & (~have[pend] | (ft < fn[pend]))
            bi = pend[better]
            xn[bi], fn[bi], gn[bi] = xt[better], ft[better], gt[better]
            have[bi] = True
            steep = _dot(gt, d[pend]) < c2 * gd0
            expand = better & steep & ~shrunk[pend] & (tp < t_cap[pend])
            fail = ~armijo & ~have[pend]
            nxt_expand = pend[expand]
            nxt_fail = pend[fail]
            t[nxt_expand] *= grow
            if len(nxt_fail):
                ff = ft[fail]
                denom = 2.0 * (ff - f0[fail] - gd0[fail] * tp[fail])
                with np.errstate(divide="ignore", invalid="ignore"):
                    tq = -gd0[fail] * tp[fail] ** 2 / denom
                tq = np.where(np.isfinite(tq), tq, 0.5 * tp[fail])
                t[nxt_fail] = np.clip(tq, 0.1 * tp[fail], 0.5 * tp[fail])
                shrunk[nxt_fail] = True
                nxt_fail = nxt_fail[t[nxt_fail] > floor[nxt_fail]]
            pend = np.concatenate([nxt_expand, nxt_fail])
            if len(pend) == 0:
                break

        s = xn - x
        y = gn - g
        sy = _dot(s, y)
        yy = _dot(y, y)
        ok = have & (sy > 1e-12 * np.sqrt(_dot(s, s) * yy))
        sh[:, slot] = np.where(ok[:, None], s, 0.0)
        yh[:, slot] = np.where(ok[:, None], y, 0.0)
        rho[:, slot] = np.where(ok, 1.0 / np.where(ok, sy, 1.0), 0.0)
        gamma = np.where(ok, sy / np.where(ok, yy, 1.0), gamma)
        fresh = fresh & ~ok
        slot = (slot + 1) % m
        decrease = f - fn
        x, f, g = xn, fn, gn

        st = np.full(len(idx), -1)
        st[decrease <= ftol * np.maximum(np.abs(f), 1e-300)] = CONVERGED_F
        st[np.abs(g).max(axis=1) <= gtol] = CONVERGED_G
        st[~have] = STALLED
        if box is not None:
            st[np.any((x < box[0]) | (x > box[1]), axis=1)] = ESCAPED
        done = st >= 0
        if it == max_iter - 1:
            st[~done] = MAX_ITER
            done[:] = True
        if done.any():
            di = idx[done]
            out_x[di], out_f[di], out_g[di] = x[done], f[done], g[done]
            out_it[di] = it + 1
            out_st[di] = st[done]
            keep = ~done
            idx, x, f, g = idx[keep], x[keep], f[keep], g[keep]
            sh, yh, rho, gamma, fresh = sh[keep], yh[keep], rho[keep], gamma[keep], fresh[keep]
            if progress:
                progress(int(done.sum()))
    return BatchResult(out_x, out_f, out_g, out_it, out_st, n_evals)
