"""Scaling-law forms: each predicts log y for a batch of parameter vectors, with its gradient.

Every form works on logarithms: inputs enter as natural logs (single-variable forms
centre them on a reference scale for conditioning) and the prediction is log y, so
that the fit minimises a Huber loss of log residuals. `mu_vjp(theta)` returns the
predictions for a batch (rows × points) and a function mapping per-point weights to
the gradient, which is all the batched optimiser needs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from convergent.errors import ConvergentError

MuVjp = Callable[[np.ndarray], tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]]

#: Where each form reads its target; the runs reader maps header spellings to these.
TARGETS = {"loss", "accuracy", "pass_at_k"}


@dataclass
class Design:
    """Inputs of one fit: log inputs per variable, log target, and reference scales."""

    logx: dict[str, np.ndarray]
    logy: np.ndarray
    ref: dict[str, float] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of points."""
        return int(self.logy.shape[0])

    def cast(self, dtype: type) -> dict[str, np.ndarray]:
        """Log inputs in the working precision, already centred on their references."""
        return {k: (v - self.ref.get(k, 0.0)).astype(dtype) for k, v in self.logx.items()}


def _exp(t: np.ndarray) -> np.ndarray:
    """exp in place (overflow gives inf, which the objective treats as an infeasible point)."""
    return np.exp(t, out=t)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


class Form:
    """Base of all forms: names, inputs, target, starting grid, plausibility bounds."""

    name: str = ""
    description: str = ""
    params: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    target: str = "loss"
    exponents: tuple[str, ...] = ()
    power_law: bool = True
    #: Internal parameter of an additive floor (log E); at its lower bound the law is pure.
    floor_param: str | None = None

    @property
    def n_params(self) -> int:
        """Number of free parameters."""
        return len(self.params)

    def spec(self) -> dict[str, Any]:
        """Plain description of the form and its options (for JSON output)."""
        return {"form": self.name, "inputs": list(self.inputs), "target": self.target}

    def transform_y(self, y: np.ndarray) -> np.ndarray:
        """Positive quantity whose log is fitted (the target itself by default)."""
        return y

    def design(self, cols: dict[str, np.ndarray], ref: dict[str, float] | None = None) -> Design:
        """Log inputs and log target; reference scales from `ref` or the data."""
        logx = {k: np.log(np.asarray(cols[k], dtype=float)) for k in self.inputs}
        logy = np.log(self.transform_y(np.asarray(cols[self.target], dtype=float)))
        if ref is None:
            ref = {k: float(np.mean(v)) for k, v in logx.items() if k in self.centred}
        return Design(logx, logy, dict(ref))

    centred: tuple[str, ...] = ()

    def bind(self, design: Design, dtype: type = np.float64) -> MuVjp:
        """Prediction-and-gradient function of theta for these points."""
        raise NotImplementedError

    def starts(self, design: Design) -> np.ndarray:
        """Grid of starting parameter vectors (rows)."""
        raise NotImplementedError

    def bounds(self, design: Design) -> tuple[np.ndarray, np.ndarray]:
        """Plausible range of each internal parameter; a fit at or beyond it is degenerate."""
        raise NotImplementedError

    def natural(self, theta: np.ndarray, design: Design) -> dict[str, np.ndarray]:
        """Parameters in the units users quote, for each row of theta."""
        raise NotImplementedError

    def predict_log(self, theta: np.ndarray, design: Design) -> np.ndarray:
        """Log predictions (rows × points) in float64."""
        mu, _ = self.bind(design)(np.atleast_2d(theta))
        return mu

    def predict(self, theta: np.ndarray, design: Design) -> np.ndarray:
        """Predicted target in its own units for one parameter vector."""
        return self.untransform(np.exp(self.predict_log(theta, design)[0]))

    def untransform(self, z: np.ndarray) -> np.ndarray:
        """Inverse of transform_y."""
        return z


def columns(theta: np.ndarray, stop: int, first: int = 0) -> tuple[np.ndarray, ...]:
    """Parameter columns first..stop−1 of a (starts × parameters) array, as (starts × 1)
    views that broadcast against the points."""
    return tuple(theta[:, i : i + 1] for i in range(first, stop))


def log_nd(design: Design, dtype: type) -> tuple[np.ndarray, np.ndarray]:
    """The log N and log D columns of a two-input design, in the optimiser's dtype."""
    x = design.cast(dtype)
    return x["N"], x["D"]


def _with_floor(t0: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, ...]:
    """log(exp(t0) + exp(e)) — a power-law term t0 over the floor E = exp(e) — with the
    pieces its gradient reuses (exp t0, exp e, their sum)."""
    e0 = _exp(t0)
    e2 = np.exp(e)
    s = e0 + e2
    return np.log(s), e0, e2, s


def _with_floor_grad(c: np.ndarray, s: np.ndarray, e0: np.ndarray, e2: np.ndarray,
                     u: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Gradient rows (starts × width) with the columns of a, e and α filled in, and the
    weights c·exp(t0)/s that the other parameters' columns need."""
    q = c / s
    p0 = q * e0
    g = np.empty((c.shape[0], width))
    g[:, 0] = p0.sum(axis=1)
    g[:, 1] = q.sum(axis=1) * e2[:, 0]
    g[:, 2] = -(p0 @ u)
    return g, p0


class Chinchilla(Form):
    """L(N, D) = E + A/N^α + B/D^β, fitted as LSE(a − α log N, b − β log D, e)."""

    name = "chinchilla"
    description = "L = E + A/N^alpha + B/D^beta"
    params = ("a", "b", "e", "alpha", "beta")
    inputs = ("N", "D")
    centred = ("N", "D")
    exponents = ("alpha", "beta")

    def bind(self, design: Design, dtype: type = np.float64) -> MuVjp:
        """Vectorised log-sum-exp prediction with a closed-form gradient."""
        ln, ld = log_nd(design, dtype)

        def mu_vjp(theta: np.ndarray):
            a, b, e, al, be = columns(theta, 5)
            e0 = _exp(a - al * ln)
            e1 = _exp(b - be * ld)
            e2 = np.exp(e)
            s = e0 + e1
            s += e2
            mu = np.log(s)

            def vjp(c: np.ndarray) -> np.ndarray:
                q = c / s
                p0 = q * e0
                p1 = q * e1
                g = np.empty((c.shape[0], 5))
                g[:, 0] = p0.sum(axis=1)
                g[:, 1] = p1.sum(axis=1)
                g[:, 2] = q.sum(axis=1) * e2[:, 0]
                g[:, 3] = -(p0 @ ln)
                g[:, 4] = -(p1 @ ld)
                return g

            return mu, vjp

        return mu_vjp

    def starts(self, design: Design) -> np.ndarray:
        """The 4,500-point grid of Hoffmann et al. as re-run by Besiroglu et al.

        The grid is stated in (log A, log B, log E, α, β); it is returned in the
        centred coordinates the optimiser works in (same points, better conditioned).
        """
        alphas = np.arange(0, 2.5, 0.5)
        betas = np.arange(0, 2.5, 0.5)
        es = np.arange(-1, 1.5, 0.5)
        as_ = np.arange(0, 30, 5)
        bs = np.arange(0, 30, 5)
        grid = [
            (a, b, e, al, be)
            for al, be, e, a, b in itertools.product(alphas, betas, es, as_, bs)
        ]
        return self.centre(np.array(grid, dtype=float), design)

    def centre(self, raw: np.ndarray, design: Design) -> np.ndarray:
        """Centred internal coordinates from (log A, log B, log E, α, β)."""
        t = np.array(raw, dtype=float, ndmin=2)
        t[:, 0] -= t[:, 3] * design.ref.get("N", 0.0)
        t[:, 1] -= t[:, 4] * design.ref.get("D", 0.0)
        return t

    def bounds(self, design: Design) -> tuple[np.ndarray, np.ndarray]:
        """Exponents in (1e-4, 5); log E at least 12 nats below the smallest loss."""
        ymin = float(design.logy.min())
        lo = np.array([-200.0, -200.0, ymin - 12.0, 1e-4, 1e-4])
        hi = np.array([200.0, 200.0, float(design.logy.max()) + 1.0, 5.0, 5.0])
        return lo, hi

    def natural(self, theta: np.ndarray, design: Design) -> dict[str, np.ndarray]:
        """A, B, E, α, β."""
        t = np.atleast_2d(theta)
        la = t[:, 0] + t[:, 3] * design.ref.get("N", 0.0)
        lb = t[:, 1] + t[:, 4] * design.ref.get("D", 0.0)
        return {"A": np.exp(la), "B": np.exp(lb), "E": np.exp(t[:, 2]),
                "alpha": t[:, 3], "beta": t[:, 4]}

    def internal(self, nat: dict[str, float], design: Design) -> np.ndarray:
        """Internal parameter vector from natural parameters."""
        raw = [np.log(nat["A"]), np.log(nat["B"]), np.log(nat["E"]), nat["alpha"], nat["beta"]]
        return self.centre(np.array(raw, dtype=float), design)[0]


class Kaplan(Form):
    """Kaplan et al. (2020): L(N, D) = [(N_c/N)^(α_N/α_D) + D_c/D]^α_D."""

    name = "kaplan"
    description = "L = ((Nc/N)^(alpha_N/alpha_D) + Dc/D)^alpha_D"
    params = ("nc", "dc", "alpha_n", "alpha_d")
    inputs = ("N", "D")
    exponents = ("alpha_N", "alpha_D")

    def bind(self, design: Design, dtype: type = np.float64) -> MuVjp:
        """α_D · LSE((α_N/α_D)(n_c − log N), d_c − log D) and its gradient."""
        ln, ld = log_nd(design, dtype)

        def mu_vjp(theta: np.ndarray):
            nc, dc, an, ad = columns(theta, 4)
            ratio = an / ad
            u = nc - ln
            t1 = ratio * u
            e1 = _exp(t1.copy())
            e2 = _exp(dc - ld)
            s = e1 + e2
            lse = np.log(s)
            mu = ad * lse

            def vjp(c: np.ndarray) -> np.ndarray:
                w1 = e1 / s
                cw1 = c * w1
                g = np.empty((c.shape[0], 4))
                g[:, 0] = an[:, 0] * cw1.sum(axis=1)
                g[:, 1] = ad[:, 0] * (c * (e2 / s)).sum(axis=1)
                g[:, 2] = (cw1 * u).sum(axis=1)
                g[:, 3] = (c * lse).sum(axis=1) - (cw1 * t1).sum(axis=1)
                return g

            return mu, vjp

        return mu_vjp

    def starts(self, design: Design) -> np.ndarray:
        """Critical scales around 1e10–1e16 and exponents 0.03–0.5."""
        ncs = np.log([1e10, 1e13, 1e16])
        exps = [0.03, 0.08, 0.2, 0.5]
        return np.array(list(itertools.product(ncs, ncs, exps, exps)), dtype=float)

    def bounds(self, design: Design) -> tuple[np.ndarray, np.ndarray]:
        """Exponents in (1e-4, 5); critical scales between e^-50 and e^150."""
        return (np.array([-50.0, -50.0, 1e-4, 1e-4]), np.array([150.0, 150.0, 5.0, 5.0]))

    def natural(self, theta: np.ndarray, design: Design) -> dict[str, np.ndarray]:
        """N_c, D_c, α_N, α_D."""
        t = np.atleast_2d(theta)
        return {"Nc": np.exp(t[:, 0]), "Dc": np.exp(t[:, 1]),
                "alpha_N": t[:, 2], "alpha_D": t[:, 3]}


class PowerLaw(Form):
    """y = E + A·x^(−α) in one variable x (N, D, C, S, X or k); E = 0 is a pure power law."""

    description = "y = E + A*x^-alpha"
    params = ("a", "e", "alpha")
    exponents = ("alpha",)
    floor_param = "e"

    def __init__(self, x: str = "C", target: str = "loss") -> None:
        self.x = x
        self.inputs = (x,)
        self.centred = (x,)
        self.target = target
        self.name = f"power-{x}"

    def spec(self) -> dict[str, Any]:
        """Form name, variable and target."""
        return {**super().spec(), "x": self.x}

    def bind(self, design: Design, dtype: type = np.float64) -> MuVjp:
        """LSE(a − α u, e) with u = log x − log x_ref."""
        u = design.cast(dtype)[self.x]

        def mu_vjp(theta: np.ndarray):
            a, e, al = columns(theta, 3)
            mu, e0, e2, s = _with_floor(a - al * u, e)

            def vjp(c: np.ndarray) -> np.ndarray:
                return _with_floor_grad(c, s, e0, e2, u, 3)[0]

            return mu, vjp

        return mu_vjp

    def starts(self, design: Design) -> np.ndarray:
        """Offsets below the smallest y, amplitudes and exponents on a log grid."""
        ymin = float(design.logy.min())
        ymed = float(np.median(design.logy))
        es = ymin + np.log([0.05, 0.5, 0.8, 0.95])
        as_ = ymed + np.array([-6.0, -3.0, -1.5, -0.5, 0.5])
        als = [0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5]
        return np.array(list(itertools.product(as_, es, als)), dtype=float)

    def bounds(self, design: Design) -> tuple[np.ndarray, np.ndarray]:
        """Exponent in (1e-4, 10); log E at least 12 nats below the smallest y."""
        ymin, ymax = float(design.logy.min()), float(design.logy.max())
        return (np.array([-100.0, ymin - 12.0, 1e-4]), np.array([100.0, ymax + 1.0, 10.0]))

    def natural(self, theta: np.ndarray, design: Design) -> dict[str, np.ndarray]:
        """A (in the units of x), E, α."""
        t = np.atleast_2d(theta)
        xref = design.ref.get(self.x, 0.0)
        return {"A": np.exp(t[:, 0] + t[:, 2] * xref), "E": np.exp(t[:, 1]), "alpha": t[:, 2]}


class BrokenPowerLaw(Form):
    """Smoothly broken power law with offset: the exponent changes at each break.

    y = E + A·x^(−α) · Π_i (1 + (x/x_i)^(1/f))^(−c_i f); beyond break i the exponent
    is α + c_1 + … + c_i. The smoothness f (in log units of x) is fixed.
    """

    description = "y = E + A*x^-alpha * prod_i (1 + (x/x_i)^(1/f))^(-c_i*f)"
    exponents = ("alpha",)
    floor_param = "e"

    def __init__(self, x: str = "C", breaks: int = 1, smooth: float = 0.25,
                 target: str = "loss") -> None:
        if breaks < 1:
            raise ConvergentError("a broken power law needs at least one break")
        if smooth <= 0:
            raise ConvergentError("the smoothness of a broken power law must be positive")
        self.x = x
        self.k = int(breaks)
        self.smooth = float(smooth)
        self.inputs = (x,)
        self.centred = (x,)
        self.target = target
        self.name = f"broken-{x}" if breaks == 1 else f"broken{breaks}-{x}"
        self.params = ("a", "e", "alpha",
                       *(f"m{i + 1}" for i in range(self.k)),
                       *(f"c{i + 1}" for i in range(self.k)))

    def spec(self) -> dict[str, Any]:
        """Form name, variable, number of breaks and smoothness."""
        return {**super().spec(), "x": self.x, "breaks": self.k, "smooth": self.smooth}

    def bind(self, design: Design, dtype: type = np.float64) -> MuVjp:
        """LSE(a − α u − Σ c_i f softplus((u − m_i)/f), e)."""
        u = design.cast(dtype)[self.x]
        k, f = self.k, self.smooth

        def mu_vjp(theta: np.ndarray):
            a, e, al = columns(theta, 3)
            ms = theta[:, 3 : 3 + k]
            cs = theta[:, 3 + k : 3 + 2 * k]
            t0 = a - al * u
            sps, sigs = [], []
            for i in range(k):
                z = (u - ms[:, i : i + 1]) / f
                sp = np.logaddexp(0.0, z)
                sps.append(sp)
                sigs.append(_sigmoid(z))
                t0 = t0 - cs[:, i : i + 1] * f * sp
            mu, e0, e2, s = _with_floor(t0, e)

            def vjp(c: np.ndarray) -> np.ndarray:
                g, p0 = _with_floor_grad(c, s, e0, e2, u, 3 + 2 * k)
                for i in range(k):
                    g[:, 3 + i] = cs[:, i] * (p0 * sigs[i]).sum(axis=1)
                    g[:, 3 + k + i] = -f * (p0 * sps[i]).sum(axis=1)
                return g

            return mu, vjp

        return mu_vjp

    def starts(self, design: Design) -> np.ndarray:
        """Breaks at quantiles of the data, exponent changes of either sign."""
        u = design.logx[self.x] - design.ref.get(self.x, 0.0)
        ymin = float(design.logy.min())
        ymed = float(np.median(design.logy))
        qs = np.quantile(u, [0.2, 0.4, 0.6, 0.8] if self.k > 1 else [0.25, 0.5, 0.75])
        out = []
        for a, e, al in itertools.product([ymed - 3.0, ymed - 0.5], ymin + np.log([0.5, 0.9]),
                                          [0.05, 0.2, 0.5]):
            for ms in itertools.combinations(qs, self.k):
                for cs in itertools.product([-0.5 * al - 0.05, al + 0.1], repeat=self.k):
                    out.append([a, e, al, *ms, *cs])
        return np.array(out, dtype=float)

    def bounds(self, design: Design) -> tuple[np.ndarray, np.ndarray]:
        """Breaks inside the observed range of x; exponents and changes within ±10."""
        u = design.logx[self.x] - design.ref.get(self.x, 0.0)
        ymin, ymax = float(design.logy.min()), float(design.logy.max())
        lo = [-100.0, ymin - 12.0, -10.0] + [float(u.min())] * self.k + [-10.0] * self.k
        hi = [100.0, ymax + 1.0, 10.0] + [float(u.max())] * self.k + [10.0] * self.k
        return np.array(lo), np.array(hi)

    def natural(self, theta: np.ndarray, design: Design) -> dict[str, np.ndarray]:
        """A, E, α, and for each break (sorted by position) its x and the exponent after it."""
        t = np.atleast_2d(theta)
        xref = design.ref.get(self.x, 0.0)
        k = self.k
        ms = t[:, 3 : 3 + k]
        cs = t[:, 3 + k : 3 + 2 * k]
        order = np.argsort(ms, axis=1)
        ms = np.take_along_axis(ms, order, axis=1)
        cs = np.take_along_axis(cs, order, axis=1)
        out = {"A": np.exp(t[:, 0] + t[:, 2] * xref), "E": np.exp(t[:, 1]), "alpha": t[:, 2]}
        after = t[:, 2].copy()
        for i in range(k):
            after = after + cs[:, i]
            out[f"break{i + 1}"] = np.exp(ms[:, i] + xref)
            out[f"alpha{i + 1}"] = after.copy()
        return out


class M4(Form):
    """Alabdulmohsin et al. (2022), estimator M4: (y − E)/(E0 − y)^α = β·x^(−c).

    E is the limit with unbounded x and E0 the loss before learning (y falls from E0 to E
    along a power law that saturates at both ends). The prediction is implicit and is solved
    by bisection. As in the paper, the fit minimises squared residuals of the log of the
    left side against the log of the right side; with E and E0 fixed that problem is linear
    in (log β, c, α), so only E and E0 are searched (variable projection).
    """

    description = "(y - E)/(E0 - y)^alpha = beta*x^-c"
    params = ("log_beta", "c", "alpha", "e", "e0")
    exponents = ("c",)

    def __init__(self, x: str = "C", target: str = "loss", e0: float | None = None) -> None:
        if e0 is not None and not e0 > 0:
            raise ConvergentError(f"the M4 starting level E0 must be positive, got {e0}")
        self.x = x
        self.inputs = (x,)
        self.centred = (x,)
        self.target = target
        self.e0 = e0
        self.name = f"m4-{x}" if e0 is None else f"m4chance-{x}"
        if e0 is not None:
            self.params = ("log_beta", "c", "alpha", "e")

    def spec(self) -> dict[str, Any]:
        """Form name, variable, target and the fixed E0 if any."""
        return {**super().spec(), "x": self.x, "e0": self.e0}

    def _linear(self, u: np.ndarray, y: np.ndarray, e: float,
                e0: float) -> tuple[np.ndarray, np.ndarray]:
        """(log β, c, α) by least squares with c, α ≥ 0, and the residuals, for fixed E, E0."""
        with np.errstate(all="ignore"):
            lhs = np.log(y - e)
            cols = np.column_stack([np.ones_like(u), -u, np.log(e0 - y)])
        if not (np.all(np.isfinite(lhs)) and np.all(np.isfinite(cols))):
            return np.full(3, np.nan), np.full(len(y), np.inf)
        keep = [0, 1, 2]
        coef = np.zeros(3)
        for _ in range(3):
            sol = np.linalg.lstsq(cols[:, keep], lhs, rcond=None)[0]
            coef[:] = 0.0
            coef[keep] = sol
            neg = [j for j in keep[1:] if coef[j] < 0]
            if not neg:
                break
            keep = [j for j in keep if j not in neg]
        return coef, cols @ coef - lhs

    def _bounds_e(self, y: np.ndarray) -> tuple[float, float, float]:
        ymin, ymax = float(y.min()), float(y.max())
        return ymin, ymax, max(ymax - ymin, 1e-9 * ymax)

    def _unpack(self, t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """E in (0, min y) and E0 above max y from two unbounded search variables."""
        ymin, ymax, span = self._bounds_e(y)
        e = ymin * (0.5 * (1.0 + np.tanh(0.5 * t[0])))
        if self.e0 is not None:
            return float(e), self.e0
        e0 = ymax + span * np.exp(np.clip(t[1], -20.0, 20.0))
        return float(e), float(e0)

    def solve(self, design: Design) -> tuple[np.ndarray, float, list[str]]:
        """Fit from a small grid of (E, E0) starts; returns theta, objective, problems."""
        from scipy.optimize import least_squares

        u = design.logx[self.x] - design.ref.get(self.x, 0.0)
        y = np.exp(design.logy)

        def resid(t: np.ndarray) -> np.ndarray:
            e, e0 = self._unpack(t, y)
            with np.errstate(all="ignore"):
                r = self._linear(u, y, e, e0)[1]
            return np.where(np.isfinite(r), r, 1e6)

        _, ymax, span = self._bounds_e(y)
        if self.e0 is not None and not self.e0 > ymax:
            return np.full(5, np.nan), np.inf, [
                f"the fixed E0 = {self.e0:g} is not above the largest value {ymax:g}"]
        t2s = [-3.0, 0.0, 3.0] if self.e0 is None else [0.0]
        if ymax < 1.0 and self.e0 is None:  # error rates: also start from E0 = 1 (chance)
            t2s.append(float(np.log((1.0 - ymax) / span)))
        best = None
        for t0 in itertools.product((-3.0, 0.0, 3.0), t2s):
            sol = least_squares(resid, np.array(t0, dtype=float), method="lm", max_nfev=400)
            if best is None or sol.cost < best.cost:
                best = sol
        e, e0 = self._unpack(best.x, y)
        coef, r = self._linear(u, y, e, e0)
        theta = np.array([coef[0], coef[1], coef[2], e, e0])
        f = float(0.5 * np.sum(r**2))
        problems = [] if np.all(np.isfinite(theta)) and np.isfinite(f) else [
            "the objective is not finite at any start"]
        if coef[1] <= 0:
            problems.append("exponent c is 0: the loss does not fall with x")
        return theta, f, problems

    def predict_log(self, theta: np.ndarray, design: Design) -> np.ndarray:
        """Log predictions (rows × points): w = f·(b − w)^α solved for w in (0, b) by bisection."""
        t = np.atleast_2d(theta)
        u = design.logx[self.x] - design.ref.get(self.x, 0.0)
        lb, c, al, e, e0 = (t[:, i : i + 1] for i in range(5))
        logf = lb - c * u[None, :]
        b = np.broadcast_to(e0 - e, logf.shape).astype(float)
        lo = np.zeros_like(logf)
        hi = b.copy()
        with np.errstate(all="ignore"):
            for _ in range(80):
                w = 0.5 * (lo + hi)
                # h(w) = log w − log f − α log(b − w) rises with w: its root is the prediction
                h = np.log(w) - logf - al * np.log(b - w)
                above = h > 0
                hi = np.where(above, w, hi)
                lo = np.where(above, lo, w)
        return np.log(e + 0.5 * (lo + hi))

    def starts(self, design: Design) -> np.ndarray:
        """Not used: M4 is fitted by `solve`."""
        return np.zeros((1, 5))

    def bounds(self, design: Design) -> tuple[np.ndarray, np.ndarray]:
        """log β free, c and α non-negative, 0 ≤ E < min y, E0 > max y."""
        y = np.exp(design.logy)
        return (np.array([-np.inf, 0.0, 0.0, 0.0, float(y.max())]),
                np.array([np.inf, np.inf, np.inf, float(y.min()), np.inf]))

    def natural(self, theta: np.ndarray, design: Design) -> dict[str, np.ndarray]:
        """β (in the units of x), c, α, E, E0."""
        t = np.atleast_2d(theta)
        xref = design.ref.get(self.x, 0.0)
        return {"beta": np.exp(t[:, 0] + t[:, 1] * xref), "c": t[:, 1], "alpha": t[:, 2],
                "E": t[:, 3], "E0": t[:, 4]}


class Sigmoid(Form):
    """Downstream accuracy as a sigmoid in log compute: floor + (ceiling − floor)·σ(s(u − m))."""

    description = "acc = floor + (ceiling - floor) * sigmoid(slope * (ln x - ln x50))"
    target = "accuracy"
    power_law = False

    def __init__(self, x: str = "C", floor: float | None = None) -> None:
        if floor is not None and not 0.0 <= floor < 1.0:
            raise ConvergentError(f"the sigmoid floor must be in [0, 1), got {floor}")
        self.x = x
        self.floor = floor
        self.inputs = (x,)
        self.centred = (x,)
        self.name = f"sigmoid-{x}"
        self.params = ("h", "slope", "m") if floor is not None else ("l", "h", "slope", "m")

    def spec(self) -> dict[str, Any]:
        """Form name, variable and the fixed floor if any."""
        return {**super().spec(), "x": self.x, "floor": self.floor}

    def bind(self, design: Design, dtype: type = np.float64) -> MuVjp:
        """Log accuracy of the sigmoid and its gradient."""
        u = design.cast(dtype)[self.x]
        fixed = self.floor

        def mu_vjp(theta: np.ndarray):
            if fixed is None:
                lam = _sigmoid(theta[:, 0:1])
                h, s, m = columns(theta, 4, first=1)
            else:
                h, s, m = columns(theta, 3)
            top = _sigmoid(h)
            d = u - m
            z = _sigmoid(s * d)
            dz = z * (1.0 - z)
            if fixed is None:
                inner = lam + (1.0 - lam) * z
                mu = np.log(top) + np.log(inner)
            else:
                amp = top - fixed
                acc = fixed + amp * z
                with np.errstate(invalid="ignore", divide="ignore"):
                    mu = np.log(acc)

            def vjp(c: np.ndarray) -> np.ndarray:
                g = np.empty((c.shape[0], len(self.params)))
                if fixed is None:
                    ci = c / inner
                    g[:, 0] = (lam * (1.0 - lam))[:, 0] * (ci * (1.0 - z)).sum(axis=1)
                    g[:, 1] = (1.0 - top[:, 0]) * c.sum(axis=1)
                    k = ci * (1.0 - lam) * dz
                    g[:, 2] = (k * d).sum(axis=1)
                    g[:, 3] = -s[:, 0] * k.sum(axis=1)
                else:
                    ca = c / acc
                    g[:, 0] = (top * (1.0 - top))[:, 0] * (ca * z).sum(axis=1)
                    k = ca * amp * dz
                    g[:, 1] = (k * d).sum(axis=1)
                    g[:, 2] = -s[:, 0] * k.sum(axis=1)
                return g

            return mu, vjp

        return mu_vjp

    def starts(self, design: Design) -> np.ndarray:
        """Ceilings, floors, slopes and midpoints spanning the data."""
        u = design.logx[self.x] - design.ref.get(self.x, 0.0)
        span = max(float(np.ptp(u)), 1e-6)
        ys = np.exp(design.logy)
        tops = sorted({min(0.999, max(float(ys.max()) * 1.02, 0.05)), 0.9, 0.99})
        hs = [_logit(p) for p in tops]
        slopes = [v / span for v in (1.0, 3.0, 8.0, 20.0)]
        ms = [*list(np.quantile(u, [0.1, 0.5, 0.9])), float(u.max()) + 0.5 * span]
        if self.floor is None:
            lmin = float(np.clip(ys.min() / max(ys.max(), 1e-12), 1e-3, 0.9))
            ls = [_logit(v) for v in (lmin * 0.9, 0.05, 0.3)]
            rows = itertools.product(ls, hs, slopes, ms)
        else:
            rows = itertools.product(hs, slopes, ms)
        return np.array(list(rows), dtype=float)

    def bounds(self, design: Design) -> tuple[np.ndarray, np.ndarray]:
        """Ceiling and floor away from 0 and 1 by the logit ±15; slope within ±1000."""
        u = design.logx[self.x] - design.ref.get(self.x, 0.0)
        span = max(float(np.ptp(u)), 1e-6)
        lo = [-15.0, -1000.0 / span, float(u.min()) - 5 * span]
        hi = [15.0, 1000.0 / span, float(u.max()) + 5 * span]
        if self.floor is None:
            lo, hi = [-15.0, *lo], [15.0, *hi]
        return np.array(lo), np.array(hi)

    def natural(self, theta: np.ndarray, design: Design) -> dict[str, np.ndarray]:
        """Floor, ceiling, slope per e-fold of x, and x at the midpoint."""
        t = np.atleast_2d(theta)
        xref = design.ref.get(self.x, 0.0)
        if self.floor is None:
            top = _sigmoid(t[:, 1])
            floor = top * _sigmoid(t[:, 0])
            s, m = t[:, 2], t[:, 3]
        else:
            top = _sigmoid(t[:, 0])
            floor = np.full(len(t), self.floor)
            s, m = t[:, 1], t[:, 2]
        return {"floor": floor, "ceiling": top, "slope": s, "x50": np.exp(m + xref)}


class PassAtK(Form):
    """Test-time scaling: −log pass@k = A·k^(−α), a pure power law in the number of samples k."""

    name = "testtime"
    description = "-log pass@k = A*k^-alpha"
    params = ("a", "alpha")
    inputs = ("k",)
    target = "pass_at_k"
    exponents = ("alpha",)

    def transform_y(self, y: np.ndarray) -> np.ndarray:
        """−log pass@k, the quantity that follows the power law."""
        return -np.log(y)

    def untransform(self, z: np.ndarray) -> np.ndarray:
        """pass@k from −log pass@k."""
        return np.exp(-z)

    def bind(self, design: Design, dtype: type = np.float64) -> MuVjp:
        """a − α log k, linear in the parameters."""
        lk = design.cast(dtype)["k"]

        def mu_vjp(theta: np.ndarray):
            a, al = theta[:, 0:1], theta[:, 1:2]
            mu = a - al * lk

            def vjp(c: np.ndarray) -> np.ndarray:
                return np.stack([c.sum(axis=1), -(c @ lk)], axis=1)

            return mu, vjp

        return mu_vjp

    def starts(self, design: Design) -> np.ndarray:
        """Amplitudes around the data, exponents 0.05–2."""
        ymax = float(design.logy.max())
        return np.array(list(itertools.product([ymax - 1.0, ymax, ymax + 1.0],
                                               [0.05, 0.2, 0.5, 1.0, 2.0])), dtype=float)

    def bounds(self, design: Design) -> tuple[np.ndarray, np.ndarray]:
        """Exponent in (1e-4, 10)."""
        return np.array([-100.0, 1e-4]), np.array([100.0, 10.0])

    def natural(self, theta: np.ndarray, design: Design) -> dict[str, np.ndarray]:
        """A, α."""
        t = np.atleast_2d(theta)
        return {"A": np.exp(t[:, 0]), "alpha": t[:, 1]}


class Coverage(PassAtK):
    """Test-time coverage as an exponentiated power law: pass@k = exp(−A·k^(−α))."""

    name = "coverage"
    description = "pass@k = exp(-A*k^-alpha)"

    def transform_y(self, y: np.ndarray) -> np.ndarray:
        """Coverage itself: residuals are taken on log coverage."""
        return y

    def untransform(self, z: np.ndarray) -> np.ndarray:
        """Coverage is already the fitted quantity."""
        return z

    def bind(self, design: Design, dtype: type = np.float64) -> MuVjp:
        """log coverage = −exp(a − α log k)."""
        lk = design.cast(dtype)["k"]

        def mu_vjp(theta: np.ndarray):
            a, al = theta[:, 0:1], theta[:, 1:2]
            em = _exp(a - al * lk)
            mu = -em

            def vjp(c: np.ndarray) -> np.ndarray:
                cm = c * em
                return np.stack([-cm.sum(axis=1), cm @ lk], axis=1)

            return mu, vjp

        return mu_vjp

    def starts(self, design: Design) -> np.ndarray:
        """Amplitudes from the smallest-k coverage, exponents 0.05–2."""
        a0 = float(np.log(max(-design.logy.min(), 1e-6)))
        return np.array(list(itertools.product([a0 - 1.0, a0, a0 + 1.0],
                                               [0.05, 0.2, 0.5, 1.0, 2.0])), dtype=float)


class Constant(Form):
    """No scaling at all: y = E. The baseline a power law has to beat."""

    description = "y = E"
    params = ("e",)
    power_law = False

    def __init__(self, target: str = "loss") -> None:
        self.inputs = ()
        self.target = target
        self.name = "constant"

    def bind(self, design: Design, dtype: type = np.float64) -> MuVjp:
        """The same prediction at every point."""
        n = design.n

        def mu_vjp(theta: np.ndarray):
            mu = np.repeat(theta[:, 0:1].astype(dtype), n, axis=1)
            return mu, lambda c: c.sum(axis=1, keepdims=True)

        return mu_vjp

    def starts(self, design: Design) -> np.ndarray:
        """Start at the median."""
        return np.array([[float(np.median(design.logy))]])

    def bounds(self, design: Design) -> tuple[np.ndarray, np.ndarray]:
        """Anywhere."""
        return np.array([-np.inf]), np.array([np.inf])

    def natural(self, theta: np.ndarray, design: Design) -> dict[str, np.ndarray]:
        """E."""
        return {"E": np.exp(np.atleast_2d(theta)[:, 0])}


FORM_NAMES = ("chinchilla", "kaplan", "power", "broken", "bnsl", "m4", "m4chance", "sigmoid",
              "testtime", "coverage", "constant")

#: Single-variable x names as typed (any case) → canonical column names.
VARIABLES = {"n": "N", "d": "D", "c": "C", "s": "S", "x": "X", "k": "k"}


def get_form(name: str, *, x: str | None = None, breaks: int = 1, smooth: float = 0.25,
             floor: float | None = None) -> Form:
    """Form by name; `power-N`, `broken-C`, `broken2-C`, `sigmoid-C` set the variable inline."""
    base, _, inline = name.strip().lower().partition("-")
    var = (inline or x or "").strip()
    var = VARIABLES.get(var.lower(), var) if var else ""
    if base.startswith("broken") and base[6:].isdigit():
        breaks, base = int(base[6:]), "broken"
    if base == "chinchilla":
        return Chinchilla()
    if base == "kaplan":
        return Kaplan()
    if base == "testtime":
        return PassAtK()
    if base == "coverage":
        return Coverage()
    if base in ("power", "broken", "sigmoid", "constant", "m4", "m4chance",
                "bnsl") and var not in (
            "", *VARIABLES.values()):
        raise ConvergentError(f"unknown variable {var!r} for form {base!r} "
                              f"(use {', '.join(VARIABLES.values())})")
    if base == "m4":
        return M4(var or "C")
    if base == "m4chance":
        return M4(var or "C", e0=1.0)
    if base == "bnsl":
        base = "broken"
    if base == "power":
        return PowerLaw(var or "C")
    if base == "broken":
        return BrokenPowerLaw(var or "C", breaks=breaks, smooth=smooth)
    if base == "sigmoid":
        return Sigmoid(var or "C", floor=floor)
    if base == "constant":
        return Constant()
    raise ConvergentError(f"unknown form {name!r}; known: {', '.join(FORM_NAMES)}")
