"""Fit a scaling-law form: Huber loss on log residuals, many starts, bootstrap intervals.

The procedure (Hoffmann et al. 2022, Approach 3, as re-run by Besiroglu et al. 2024):
every start of a grid is minimised with L-BFGS, all starts at once as one array; the
best few are polished in float64; a non-parametric bootstrap refits resamples of the
points from the best solution, again all at once (a resample is a row of counts, so
no data is copied). Fits that end at a bound, on a flat objective, or without
converging are reported as degenerate rather than returned as results.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from convergent.errors import ConvergentError
from convergent.scaling import optim
from convergent.scaling.forms import Design, Form, get_form
from convergent.scaling.progress import bar
from convergent.scaling.runs import Runs

#: Condition number of the column-scaled Jacobian beyond which parameters are not identifiable.
FLAT_CONDITION = 1e8


class DegenerateFit(ConvergentError):
    """A fit that cannot be trusted: parameters at bounds, flat objective, or no convergence."""

    def __init__(self, result: FitResult) -> None:
        self.result = result
        super().__init__(f"degenerate {result.form.name} fit: " + "; ".join(result.problems),
                         where=result.source)


@dataclass
class Bootstrap:
    """Bootstrap refits: parameters of each resample and percentile intervals."""

    n: int
    seed: int
    ci: float
    theta: np.ndarray
    ok: np.ndarray
    samples: dict[str, np.ndarray]
    intervals: dict[str, tuple[float, float]]

    @property
    def failed(self) -> int:
        """Resamples whose refit did not converge or left the plausible range."""
        return int((~self.ok).sum())

    def to_dict(self) -> dict[str, Any]:
        """Plain summary (no per-resample arrays)."""
        return {"n": self.n, "seed": self.seed, "ci": self.ci, "failed": self.failed,
                "intervals": {k: list(v) for k, v in self.intervals.items()}}


@dataclass
class FitResult:
    """A fitted form: parameters, objective, diagnostics, optional bootstrap."""

    form: Form
    design: Design
    theta: np.ndarray
    params: dict[str, float]
    objective: float
    delta: float
    rows: np.ndarray
    n_starts: int
    status: str
    problems: list[str]
    source: str = "<data>"
    bootstrap: Bootstrap | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    pure: bool = False

    @property
    def degenerate(self) -> bool:
        """True when the fit must not be used."""
        return bool(self.problems)

    @property
    def n_points(self) -> int:
        """Number of points fitted."""
        return int(self.rows.shape[0])

    @property
    def intervals(self) -> dict[str, tuple[float, float]] | None:
        """Bootstrap percentile intervals of the natural parameters, if any."""
        return None if self.bootstrap is None else self.bootstrap.intervals

    def raise_if_degenerate(self) -> FitResult:
        """Self, or DegenerateFit when the fit is degenerate."""
        if self.degenerate:
            raise DegenerateFit(self)
        return self

    def predict(self, cols: dict[str, np.ndarray], n: int | None = None) -> np.ndarray:
        """Predicted target for new inputs (same centring as the fit)."""
        cols = {k: np.asarray(v, dtype=float) for k, v in cols.items()}
        if n is None:
            n = len(next(iter(cols.values())))
        dummy = {**cols, self.form.target: np.full(n, 0.5)}
        design = self.form.design(dummy, ref=self.design.ref)
        return self.form.predict(self.theta, design)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        out: dict[str, Any] = {
            **self.form.spec(),
            "params": self.params,
            "objective": self.objective,
            "delta": self.delta,
            "points": self.n_points,
            "starts": self.n_starts,
            "status": self.status,
            "degenerate": self.degenerate,
            "problems": self.problems,
            "source": self.source,
            "seconds": self.seconds,
            "warnings": self.warnings,
            "pure_power_law": self.pure,
        }
        if self.bootstrap is not None:
            out["bootstrap"] = self.bootstrap.to_dict()
        return out


def _objective(form: Form, design: Design, delta: float, dtype: type,
               weights: np.ndarray | None = None) -> optim.HuberObjective:
    return optim.HuberObjective(form.bind(design, dtype), design.logy, delta,
                                weights=weights, dtype=dtype)


def _fast_dtype(delta: float) -> type:
    """float32 is exact enough to find basins unless δ is near its resolution."""
    return np.float32 if delta >= 1e-5 else np.float64


def multistart(form: Form, design: Design, starts: np.ndarray, delta: float, *,
               show: bool | None = None, polish: int = 8) -> tuple[optim.BatchResult, int]:
    """Minimise from every start; polish the `polish` best in float64. Returns (polished, best)."""
    dtype = _fast_dtype(delta)
    fast = _objective(form, design, delta, dtype)
    loose = dtype == np.float32
    box = form.bounds(design)
    with bar(f"{form.name}: {len(starts)} starts", len(starts), show) as progress:
        res = optim.lbfgs(fast, starts, ftol=1e-6 if loose else 1e-10,
                          xtol=1e-6 if loose else 1e-15, box=box, progress=progress)
    order = np.argsort(np.where(np.isfinite(res.f), res.f, np.inf), kind="stable")
    cand = res.x[order[: max(1, polish)]]
    exact = _objective(form, design, delta, np.float64)
    fine = optim.lbfgs(exact, cand, ftol=1e-15, gtol=0.0, xtol=1e-15, max_iter=5000, box=box)
    best = int(np.argmin(np.where(np.isfinite(fine.f), fine.f, np.inf)))
    return fine, best


def jacobian(form: Form, design: Design, theta: np.ndarray) -> np.ndarray:
    """d log ŷ_i / d θ_j at one parameter vector (points × parameters)."""
    n = design.n
    mu_vjp = form.bind(design, np.float64)
    _, vjp = mu_vjp(np.repeat(np.atleast_2d(theta), n, axis=0))
    return vjp(np.eye(n))


def diagnose(form: Form, design: Design, theta: np.ndarray, f: float,
             status: int) -> list[str]:
    """Reasons a fit is degenerate (empty when it is sound)."""
    problems: list[str] = []
    if not np.isfinite(f) or not np.all(np.isfinite(theta)):
        return ["the objective is not finite at any start"]
    if status == optim.MAX_ITER:
        problems.append("the optimiser did not converge")
    lo, hi = form.bounds(design)
    pure = is_pure(form, design, theta)
    for name, v, a, b in zip(form.params, theta, lo, hi, strict=True):
        if pure and name == form.floor_param:
            continue
        if v <= a or v >= b:
            side = f"≤ {a:.4g}" if v <= a else f"≥ {b:.4g}"
            problems.append(f"parameter {name} = {v:.4g} is at its bound ({side})")
    keep = [i for i, n in enumerate(form.params) if not (pure and n == form.floor_param)]
    names = [form.params[i] for i in keep]
    jac = jacobian(form, design, theta)[:, keep]
    norms = np.linalg.norm(jac, axis=0)
    scale = max(float(norms.max()), 1e-300)
    dead = [n for n, v in zip(names, norms, strict=True) if v <= 1e-10 * scale]
    if dead:
        problems.append(f"the objective is flat in {', '.join(dead)} (no effect on predictions)")
    elif len(keep) > 1:
        sv, vt = np.linalg.svd(jac / norms, full_matrices=False)[1:]
        cond = float(sv[0] / max(sv[-1], 1e-300))
        if cond > FLAT_CONDITION:
            weak = np.argsort(-np.abs(vt[-1]))[:2]
            pair = " and ".join(names[i] for i in weak)
            problems.append(f"the objective is flat along a combination of {pair} "
                            f"(condition number {cond:.2g}): parameters not identifiable")
    return problems


#: A floor more than this many nats below the smallest y has no visible effect: E = 0.
PURE_FLOOR_NATS = 8.0


def is_pure(form: Form, design: Design, theta: np.ndarray) -> bool:
    """True when the form's additive floor sits far below the data: a pure power law (E = 0)."""
    if form.floor_param is None:
        return False
    e = float(theta[form.params.index(form.floor_param)])
    return e <= float(design.logy.min()) - PURE_FLOOR_NATS


def bootstrap_fit(form: Form, design: Design, theta: np.ndarray, delta: float, *, n: int,
                  seed: int = 42, ci: float = 0.9, show: bool | None = None) -> Bootstrap:
    """Refit `n` resamples (drawn with replacement) from theta, all at once."""
    rng = np.random.default_rng(seed)
    npts = design.n
    idx = rng.integers(0, npts, (n, npts))
    counts = np.zeros((n, npts))
    np.add.at(counts, (np.repeat(np.arange(n), npts), idx.ravel()), 1.0)
    dtype = _fast_dtype(delta)
    obj = _objective(form, design, delta, dtype, weights=counts)
    starts = np.repeat(np.atleast_2d(theta), n, axis=0)
    loose = dtype == np.float32
    lo, hi = form.bounds(design)
    with bar(f"{form.name}: {n} bootstrap refits", n, show) as progress:
        res = optim.lbfgs(obj, starts, ftol=1e-7 if loose else 1e-12,
                          xtol=1e-6 if loose else 1e-15, box=(lo, hi), progress=progress)
    ok = (np.isfinite(res.f) & (res.status != optim.MAX_ITER)
          & np.all((res.x > lo) & (res.x < hi), axis=1))
    samples = {k: np.asarray(v, dtype=float) for k, v in form.natural(res.x, design).items()}
    intervals = percentile_intervals({k: v[ok] for k, v in samples.items()}, ci)
    return Bootstrap(n, seed, ci, res.x, ok, samples, intervals)


#: Log residuals more than this many robust standard deviations above the fit are outliers.
OUTLIER_SIGMAS = 5.0


def outlier_warning(result: FitResult) -> list[str]:
    """A warning naming points far above the fitted law (at most one line).

    The published Chinchilla procedure (Hoffmann et al. 2022, as re-run by Besiroglu et al.
    2024) drops the five highest-loss points before fitting; this says when a file has such
    points and how to do the same.
    """
    if result.n_points < 10:
        return []
    mu = result.form.predict_log(result.theta, result.design)[0]
    r = result.design.logy - mu
    sigma = 1.4826 * float(np.median(np.abs(r - np.median(r))))
    if not sigma > 0:
        return []
    far = np.flatnonzero(r > np.median(r) + OUTLIER_SIGMAS * sigma)
    if far.size == 0:
        return []
    rows = ", ".join(str(int(result.rows[i])) for i in far[np.argsort(-r[far])][:8])
    return [f"{result.source}: {far.size} point(s) lie more than {OUTLIER_SIGMAS:g} robust "
            f"standard deviations above the fitted {result.form.name} law (rows {rows}); "
            "the published Chinchilla procedure drops the 5 highest-loss points "
            "(--exclude-worst 5)"]


def percentile_intervals(samples: dict[str, np.ndarray],
                         ci: float) -> dict[str, tuple[float, float]]:
    """Equal-tailed percentile interval of each sampled quantity."""
    q = [50.0 * (1.0 - ci), 50.0 * (1.0 + ci)]
    out = {}
    for k, v in samples.items():
        v = v[np.isfinite(v)]
        out[k] = (float("nan"), float("nan")) if v.size == 0 else tuple(
            float(x) for x in np.percentile(v, q))
    return out


def fit(
    runs: Runs,
    form: str | Form = "chinchilla",
    *,
    delta: float = 1e-3,
    bootstrap: int = 0,
    seed: int = 42,
    ci: float = 0.9,
    exclude_worst: int = 0,
    starts: np.ndarray | None = None,
    show_progress: bool | None = None,
    allow_degenerate: bool = False,
    **form_options: Any,
) -> FitResult:
    """Fit `form` to runs; raise DegenerateFit unless allow_degenerate."""
    if delta <= 0:
        raise ConvergentError(f"the Huber δ must be positive, got {delta}")
    if bootstrap < 0:
        raise ConvergentError(f"the number of bootstrap refits must be ≥ 0, got {bootstrap}")
    if not 0.0 < ci < 1.0:
        raise ConvergentError(f"the interval level must be in (0, 1), got {ci}")
    frm = form if isinstance(form, Form) else get_form(form, **form_options)
    if exclude_worst:
        runs = runs.drop_worst(exclude_worst, frm.target)
    cols = runs.require((*frm.inputs, frm.target), n_params=frm.n_params, form=frm.name)
    if frm.target == "pass_at_k" and frm.name == "testtime":
        ones = cols["pass_at_k"] >= 1.0
        if ones.any():
            r = runs.rows[ones]
            raise ConvergentError(
                f"pass@k = 1 in rows {', '.join(map(str, r[:8]))}: −log pass@k is 0 there; "
                "use the coverage form or drop those rows",
                where=runs.where("pass_at_k", int(r[0])))
    design = frm.design(cols)
    t0 = time.perf_counter()
    solve = getattr(frm, "solve", None)
    if solve is not None:
        if bootstrap:
            raise ConvergentError(f"form {frm.name} has no bootstrap; use `scaling predict` "
                                  "for intervals")
        theta, f, problems = solve(design)
        n_starts, status = 9, "converged"
    else:
        grid = frm.starts(design) if starts is None else np.atleast_2d(np.asarray(starts, float))
        fine, b = multistart(frm, design, grid, delta, show=show_progress)
        theta = fine.x[b]
        f = float(fine.f[b])
        problems = diagnose(frm, design, theta, f, int(fine.status[b]))
        n_starts, status = len(grid), optim.STATUS_TEXT[int(fine.status[b])]
    seconds = {"grid": time.perf_counter() - t0}
    params = {k: float(v[0]) for k, v in frm.natural(theta, design).items()}
    pure = is_pure(frm, design, theta)
    if pure:
        params["E"] = 0.0
    result = FitResult(frm, design, theta, params, f, delta, runs.rows.copy(), n_starts,
                       status, problems, runs.source, seconds=seconds,
                       warnings=list(runs.warnings), pure=pure)
    if not exclude_worst and not result.degenerate:
        result.warnings += outlier_warning(result)
    if result.degenerate:
        if allow_degenerate:
            return result
        raise DegenerateFit(result)
    if bootstrap:
        t0 = time.perf_counter()
        result.bootstrap = bootstrap_fit(frm, design, theta, delta, n=bootstrap, seed=seed,
                                         ci=ci, show=show_progress)
        seconds["bootstrap"] = time.perf_counter() - t0
        if result.bootstrap.failed > 0.1 * bootstrap:
            result.warnings.append(
                f"{result.bootstrap.failed} of {bootstrap} bootstrap refits failed or left the "
                "plausible range; intervals use the rest")
    return result
