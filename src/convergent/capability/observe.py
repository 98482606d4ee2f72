"""Observational scaling on a table of benchmark scores: how one-dimensional capability is.

The table has one row per model: a model name, optionally a family, training compute (or
parameters and tokens, giving C = 6 N D), and one column per benchmark. Scores may be fractions
(0-1) or percents (0-100), decided per column; internally they are fractions and errors are
reported in percentage points.

- PCA of the standardized scores. Missing scores are imputed by regularized iterative PCA
  (fill, fit rank r with shrunk singular values, refill the missing cells, repeat), so a model
  with one missing benchmark keeps its other scores. The share of variance of the first
  component measures how one-dimensional capability is; the same share from the pairwise
  correlation matrix (no imputation) is reported as a check.
- A sigmoid y = floor + (top - floor) / (1 + exp(-slope (x - mid))) of each benchmark
  against PC1 and against log10 compute.
- Leave-one-family-out prediction: for each family and each benchmark, PCA on the other
  benchmarks and the sigmoid are fitted on the other families only; the held-out models' PC1
  comes from projecting their own other scores. Baselines: a sigmoid in log-compute fitted on
  the same rows, and the training mean.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convergent.errors import ConvergentError
from convergent.scoreunits import score_column, strip_unit
from convergent.stats import slope_fit

if TYPE_CHECKING:
    import numpy as np

_MISSING = {"", "nan", "na", "n/a", "none", "null", "-", "?"}
_MODEL = {"model", "modelname", "name"}
_FAMILY = {"modelfamily", "family"}
_COMPUTE = {"flops1e21": 1e21, "flops": 1.0, "flop": 1.0, "compute": 1.0,
            "trainingcomputeflop": 1.0, "trainingflop": 1.0, "computeflop": 1.0}
_PARAMS = {"modelsizeb": 1e9, "paramsb": 1e9, "params": 1.0, "parameters": 1.0}
_TOKENS = {"pretrainingdatasizet": 1e12, "tokenst": 1e12, "tokens": 1.0,
           "datasettokens": 1.0}


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass
class ScoreTable:
    """Benchmark scores of models (fractions, NaN when missing) with family and compute."""

    path: str
    models: list[str]
    families: list[str]
    benchmarks: list[str]
    scores: np.ndarray
    log10_compute: np.ndarray
    percent_columns: list[str] = field(default_factory=list)
    has_family: bool = True


def _number(cell: str, where: str, what: str) -> float:
    if cell.strip().lower() in _MISSING:
        return math.nan
    try:
        value = float(cell)
    except ValueError:
        raise ConvergentError(f"{what} = {cell!r} is not a number", where=where) from None
    if math.isinf(value):
        raise ConvergentError(f"{what} = {cell!r} is not a finite number", where=where)
    return value


def read_table(path: str | Path) -> ScoreTable:
    """Read a CSV score table; every bad cell or duplicate model is named with file:line:col."""
    import io

    import numpy as np

    from convergent.userfiles import read_text

    path = Path(path)
    text = read_text(path, "score table")
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        rows = [(reader.line_num, r) for r in reader]
    except csv.Error as exc:
        raise ConvergentError(f"not a readable CSV file: {exc}", where=str(path)) from None
    if not header:
        raise ConvergentError("empty table: no header row", where=str(path))
    keys = [_key(h) for h in header]
    roles: dict[str, int] = {}
    scales: dict[str, float] = {}
    bench_cols: list[int] = []
    for i, k in enumerate(keys):
        for role, names in (("model", _MODEL), ("family", _FAMILY), ("compute", _COMPUTE),
                            ("params", _PARAMS), ("tokens", _TOKENS)):
            if k in names and role not in roles:
                roles[role] = i
                if isinstance(names, dict):
                    scales[role] = names[k]
                break
        else:
            if not header[i].strip():
                raise ConvergentError(f"column {i + 1} has no name", where=f"{path}:1:{i + 1}")
            bench_cols.append(i)
    if "model" not in roles:
        raise ConvergentError("no model column (expected a header named 'Model')",
                              where=f"{path}:1")
    if len(bench_cols) < 2:
        raise ConvergentError(f"need at least two benchmark columns, found {len(bench_cols)}",
                              where=f"{path}:1")
    models: list[str] = []
    families: list[str] = []
    seen: dict[str, int] = {}
    scores = []
    compute = []
    for line, r in rows:
        if not any(c.strip() for c in r):
            continue
        if len(r) != len(header):
            raise ConvergentError(f"row has {len(r)} cells, the header has {len(header)}",
                                  where=f"{path}:{line}")
        name = r[roles["model"]].strip()
        if not name:
            raise ConvergentError("empty model name", where=f"{path}:{line}:{roles['model'] + 1}")
        if name in seen:
            raise ConvergentError(f"model {name!r} appears twice (lines {seen[name]} and {line})",
                                  where=f"{path}:{line}:{roles['model'] + 1}")
        seen[name] = line
        fam = r[roles["family"]].strip() if "family" in roles else ""
        models.append(name)
        families.append(fam or name)
        scores.append([
            _number(r[i], f"{path}:{line}:{i + 1}", f"model {name!r}: {header[i].strip()}")
            for i in bench_cols
        ])
        vals = {role: _number(r[roles[role]], f"{path}:{line}:{roles[role] + 1}",
                              f"model {name!r}: {header[roles[role]].strip()}") * scales[role]
                for role in ("compute", "params", "tokens") if role in roles}
        c = vals.get("compute", math.nan)
        if math.isnan(c):
            c = 6.0 * vals.get("params", math.nan) * vals.get("tokens", math.nan)
        compute.append(math.log10(c) if c > 0 else math.nan)
    if len(models) < 5:
        raise ConvergentError(f"need at least 5 models, found {len(models)}", where=str(path))
    x = np.array(scores, dtype=float)
    names = [header[i].strip() for i in bench_cols]
    percent = []
    lines = [_row_line(rows, i) for i in range(len(models))]
    for j, name in enumerate(names):
        col = x[:, j]
        ok = ~np.isnan(col)
        if ok.sum() < 3:
            raise ConvergentError(f"column {name!r} has fewer than 3 scores",
                                  where=f"{path}:1:{bench_cols[j] + 1}")
        to_percent, bad = score_column(name, list(zip(lines, col.tolist(), strict=True)),
                                       f"{path}:1:{bench_cols[j] + 1}")
        if bad:
            line, why = bad[0]
            i = lines.index(line)
            raise ConvergentError(f"model {models[i]!r}: {name}: {why}",
                                  where=f"{path}:{line}:{bench_cols[j] + 1}")
        x[:, j] = col * to_percent / 100.0
        if to_percent == 1.0:
            percent.append(name)
    names = [strip_unit(n) for n in names]
    return ScoreTable(str(path), models, families, names, x, np.array(compute, dtype=float),
                      percent, "family" in roles)


def _row_line(rows: list[tuple[int, list[str]]], index: int) -> int:
    """The file line of the index-th non-blank data row."""
    nonblank = [line for line, r in rows if any(c.strip() for c in r)]
    return nonblank[index]


@dataclass
class PCAFit:
    """Principal components of standardized scores (after imputing missing cells)."""

    center: np.ndarray
    scale: np.ndarray
    components: np.ndarray
    explained: np.ndarray
    scores: np.ndarray
    iterations: int
    converged: bool = True
    filled: np.ndarray | None = None


def _auto_rank(x: np.ndarray) -> int:
    """Components with a pairwise-correlation eigenvalue above 1 (Kaiser's rule), at least 1."""
    import numpy as np
    import pandas as pd

    corr = pd.DataFrame(x).corr(min_periods=3).to_numpy()
    if np.isnan(corr).any():
        return 1
    return max(1, int(np.sum(np.linalg.eigvalsh(corr) > 1.0)))


#: Iteration cap of the imputation, and the PC1-share gap (imputed vs pairwise) worth a note.
IMPUTE_MAX_ITER = 1000
SHARE_DISAGREE = 0.05


def pca(x: np.ndarray, rank: int | None = None, max_iter: int = IMPUTE_MAX_ITER,
        tol: float = 1e-7, start: np.ndarray | None = None) -> PCAFit:
    """PCA of the standardized columns of x; missing cells imputed by regularized iterative PCA.

    Each iteration refills the missing cells from a rank-r reconstruction whose singular values
    are shrunk by the noise variance (the mean of the discarded eigenvalues), which keeps weak
    components from fitting the imputed cells themselves. r defaults to Kaiser's rule.
    `start` (same shape as x) gives first guesses of the missing cells instead of the column
    means; the table with its cells imputed is kept in `filled`.
    """
    import numpy as np

    n, m = x.shape
    miss = np.isnan(x)
    if (n - miss.sum(axis=0) < 2).any():
        raise ConvergentError("every benchmark needs at least two scores for PCA")
    mu0 = np.nanmean(x, axis=0)
    sd0 = np.nanstd(x, axis=0, ddof=1)
    sd0 = np.where(sd0 > 0, sd0, 1.0)
    z = np.where(miss, 0.0 if start is None else (start - mu0) / sd0, (x - mu0) / sd0)
    r = max(1, min(_auto_rank(x) if rank is None else rank, m - 1, n - 1))
    it = 0
    if miss.any():
        for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
            mu = z.mean(axis=0)
            u, s, vt = np.linalg.svd(z - mu, full_matrices=False)
            noise = float(np.sum(s[r:] ** 2)) / max(1, (n - 1) * (m - r))
            shrunk = s[:r] - noise * (n - 1) / np.maximum(s[:r], 1e-12)
            recon = mu + (u[:, :r] * np.maximum(shrunk, 0.0)) @ vt[:r]
            delta = float(np.max(np.abs(recon[miss] - z[miss])))
            z[miss] = recon[miss]
            if delta < tol:
                break
    converged = not miss.any() or it < max_iter
    xc = z * sd0 + mu0
    center = xc.mean(axis=0)
    scale = xc.std(axis=0, ddof=1)
    scale = np.where(scale > 0, scale, 1.0)
    u, s, vt = np.linalg.svd((xc - center) / scale, full_matrices=False)
    signs = np.where(vt.sum(axis=1) < 0, -1.0, 1.0)
    vt = vt * signs[:, None]
    u = u * signs[None, :]
    var = s**2
    return PCAFit(center, scale, vt, var / var.sum(), u * s, it, converged, xc)


def project(fit: PCAFit, x: np.ndarray) -> np.ndarray:
    """PC1 score of each row of x from its observed cells (NaN for a row with none)."""
    import numpy as np

    z = (x - fit.center) / fit.scale
    ok = ~np.isnan(z)
    v = np.where(ok, fit.components[0][None, :], 0.0)
    num = np.sum(np.where(ok, z, 0.0) * v, axis=1)
    den = np.sum(v * v, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def pairwise_pc1_share(x: np.ndarray) -> float | None:
    """PC1 share from the pairwise-complete correlation matrix (no imputation)."""
    import numpy as np
    import pandas as pd

    corr = pd.DataFrame(x).corr(min_periods=3).to_numpy()
    if np.isnan(corr).any():
        return None
    eig = np.linalg.eigvalsh(corr)
    return float(eig[-1] / eig.sum())


@dataclass
class SigmoidFit:
    """y = floor + (top - floor) / (1 + exp(-slope (x - mid))), fitted by least squares."""

    floor: float
    top: float
    slope: float
    mid: float
    rmse_pp: float
    r2: float | None
    n: int

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted fraction at x."""
        return sigmoid(x, self.floor, self.top, self.slope, self.mid)


def sigmoid(x: np.ndarray, floor: float, top: float, slope: float, mid: float) -> np.ndarray:
    """The four-parameter logistic curve."""
    import numpy as np

    return floor + (top - floor) / (1.0 + np.exp(np.clip(-slope * (x - mid), -60, 60)))


_LOWER = (0.0, 0.0, 0.0, -6.0)
_UPPER = (1.0, 1.0, 30.0, 6.0)


def _sigmoid_rows(q: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The sigmoid at inputs u (rows x points) for parameter rows q = (floor, top, slope, mid)."""
    import numpy as np

    z = np.clip(-q[:, 2:3] * (u - q[:, 3:4]), -60, 60)
    return q[:, 0:1] + (q[:, 1:2] - q[:, 0:1]) / (1.0 + np.exp(z))


def _sigmoid_jac(q: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Derivatives of `_sigmoid_rows` by floor, top, slope and mid (rows x 4 x points)."""
    import numpy as np

    d = u - q[:, 3:4]
    s = 1.0 / (1.0 + np.exp(np.clip(-q[:, 2:3] * d, -60, 60)))
    h = (q[:, 1:2] - q[:, 0:1]) * s * (1.0 - s)
    return np.stack([1.0 - s, s, h * d, -h * q[:, 2:3]], axis=1)


_STARTS = [(mid, slope) for mid in (-1.0, 0.0, 1.0) for slope in (1.0, 3.0)]


def fit_sigmoids(x: np.ndarray, y: np.ndarray, min_n: int = 5) -> list[SigmoidFit | None]:
    """Fit one sigmoid per row of x (B x n) to y (n or B x n), using only finite pairs.

    Each problem's x is standardized before fitting; six starts are refined together by
    the shared batched Levenberg-Marquardt, and after three iterations only the best start
    of each problem goes on. The bounds keep the floor and top in [0, 1] and the curve
    increasing. A problem with fewer than `min_n` finite pairs gets None.
    """
    import numpy as np

    from convergent.scaling.lm import levenberg_marquardt

    x = np.atleast_2d(np.asarray(x, dtype=float))
    y = np.broadcast_to(np.asarray(y, dtype=float), x.shape)
    ok = np.isfinite(x) & np.isfinite(y)
    cnt = ok.sum(axis=1)
    todo = np.flatnonzero(cnt >= min_n)
    out: list[SigmoidFit | None] = [None] * x.shape[0]
    if todo.size == 0:
        return out
    xo, yo, wo = x[todo], y[todo], ok[todo].astype(float)
    nb = wo.sum(axis=1)
    xm = np.sum(np.where(wo > 0, xo, 0.0), axis=1) / nb
    xs = np.sqrt(np.sum(np.where(wo > 0, (xo - xm[:, None]) ** 2, 0.0), axis=1) / nb)
    xs = np.where(xs > 0, xs, 1.0)
    u = np.where(wo > 0, (xo - xm[:, None]) / xs[:, None], 0.0)
    yv = np.where(wo > 0, yo, 0.0)
    lo = np.clip(np.where(wo > 0, yo, np.inf).min(axis=1), 0.0, 1.0)
    hi = np.clip(np.where(wo > 0, yo, -np.inf).max(axis=1), lo, 1.0)
    ns = len(_STARTS)
    starts = np.array([[max(a - 0.01, 0.0), min(b + 0.01, 1.0), slope, mid]
                       for a, b in zip(lo, hi, strict=True) for mid, slope in _STARTS])
    res = levenberg_marquardt(_sigmoid_rows, _sigmoid_jac, np.repeat(yv, ns, axis=0),
                              np.repeat(wo, ns, axis=0), starts, np.array(_LOWER),
                              np.array(_UPPER), (np.repeat(u, ns, axis=0),),
                              groups=np.repeat(np.arange(todo.size), ns), prune_at=3)
    params, cost = res.x, res.cost
    cost = cost.reshape(todo.size, ns)
    params = params.reshape(todo.size, ns, 4)
    for b, i in enumerate(todo):
        best = int(np.argmin(cost[b]))
        f, top, a, mid = (float(v) for v in params[b, best])
        rss = float(cost[b, best])
        yy = yo[b][wo[b] > 0]
        tss = float(np.sum((yy - yy.mean()) ** 2))
        out[i] = SigmoidFit(floor=f, top=top, slope=a / xs[b], mid=xm[b] + mid * xs[b],
                            rmse_pp=100.0 * math.sqrt(rss / yy.size),
                            r2=1.0 - rss / tss if tss > 0 else None, n=int(yy.size))
    return out


def fit_sigmoid(x: np.ndarray, y: np.ndarray, min_n: int = 5) -> SigmoidFit | None:
    """Fit the sigmoid to the finite (x, y) pairs; None when fewer than `min_n`."""
    return fit_sigmoids(x, y, min_n)[0]


def family_folds(families: list[str]) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(family, training rows, held-out rows) for each family; the two never share a row."""
    import numpy as np

    fam = np.array(families, dtype=object)
    out = []
    for f in dict.fromkeys(families):
        out.append((f, np.flatnonzero(fam != f), np.flatnonzero(fam == f)))
    return out


def leave_family_out(table: ScoreTable, rank: int | None = None,
                     start: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Held-out predictions (n x m) of every score by each method, one family out at a time.

    For the fold of family F, the standardization and the PCA (imputing missing cells) are
    fitted on the rows of the other families only. For target benchmark j, every model's
    PC1 is then projected from its scores on the other benchmarks (column j hidden), the
    sigmoids and the mean are fitted on the other families' rows, and F's rows enter only
    as inputs to the fitted curves: no score of F, and no score on j, predicts itself.
    `start` (the whole table with its missing cells imputed) seeds each fold's imputation;
    it holds no observed score of F, only the fold's starting guesses, and the fold's
    imputation iterates to its own fixed point from there.
    """
    import numpy as np

    x, lc = table.scores, table.log10_compute
    n, m = x.shape
    folds = family_folds(table.families)
    nf = len(folds)
    preds = {k: np.full((n, m), np.nan) for k in ("pc1", "compute", "mean")}
    pc_train = np.full((nf, m, n), np.nan)
    pc_test = np.full((nf, m, n), np.nan)
    for f, (_, train, test) in enumerate(folds):
        usable = (~np.isnan(x[train])).sum(axis=0) >= 3
        if train.size < 5 or usable.sum() < 2:
            continue
        cols = np.flatnonzero(usable)
        fit = pca(x[np.ix_(train, cols)], rank=rank,
                  start=None if start is None else start[np.ix_(train, cols)])
        for j in range(m):
            hidden = x[:, cols].copy()
            if j in cols:
                hidden[:, int(np.flatnonzero(cols == j)[0])] = np.nan
            pc = project(fit, hidden)
            pc_train[f, j, train] = pc[train]
            pc_test[f, j, test] = pc[test]
        for j in range(m):
            y = x[train, j]
            if np.isfinite(y).any():
                preds["mean"][test, j] = float(np.nanmean(y))
    ys = np.broadcast_to(x.T[None, :, :], (nf, m, n))
    got_pc = fit_sigmoids(pc_train.reshape(nf * m, n), ys.reshape(nf * m, n))
    lc_train = np.full((nf, m, n), np.nan)
    for f, (_, train, _) in enumerate(folds):
        lc_train[f, :, train] = lc[train][:, None]
    got_lc = fit_sigmoids(lc_train.reshape(nf * m, n), ys.reshape(nf * m, n))
    for f, (_, _, test) in enumerate(folds):
        for j in range(m):
            a, b = got_pc[f * m + j], got_lc[f * m + j]
            if a is not None:
                preds["pc1"][test, j] = a.predict(pc_test[f, j, test])
            if b is not None:
                preds["compute"][test, j] = b.predict(lc[test])
    return preds


@dataclass
class ObserveResult:
    """Everything `capability observe` reports about one table."""

    path: str
    n_models: int
    n_families: int
    benchmarks: list[str]
    missing: dict[str, int]
    percent_columns: list[str]
    explained: list[float]
    pc1_share: float
    pc1_share_pairwise: float | None
    loadings: dict[str, float]
    imputation_iterations: int
    pc1_vs_log_compute: dict[str, Any] | None
    fits: list[dict[str, Any]]
    loo: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain nested data for JSON."""
        return asdict(self)


def _mae(pred: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float | None:
    import numpy as np

    if not mask.any():
        return None
    return float(100.0 * np.mean(np.abs(pred[mask] - truth[mask])))


def _loo_rows(table: ScoreTable, preds: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    import numpy as np

    truth = table.scores
    with_compute = bool(np.isfinite(table.log10_compute).any())
    rows = []
    names = [*table.benchmarks, "all"]
    for j, name in enumerate(names):
        sl = slice(None) if name == "all" else slice(j, j + 1)
        t = truth[:, sl]
        p = {k: v[:, sl] for k, v in preds.items()}
        has = ~np.isnan(t)
        common = has & ~np.isnan(p["pc1"]) & ~np.isnan(p["mean"])
        if with_compute:
            common &= ~np.isnan(p["compute"])
        with_pc1 = has & ~np.isnan(p["pc1"])
        mae_pc1 = _mae(p["pc1"], t, common)
        mae_mean = _mae(p["mean"], t, common)
        mae_comp = _mae(p["compute"], t, common) if with_compute else None
        rows.append({
            "benchmark": name, "n": int(common.sum()),
            "mae_pc1_pp": mae_pc1, "mae_compute_pp": mae_comp, "mae_mean_pp": mae_mean,
            "ratio_pc1_to_compute": (mae_pc1 / mae_comp if mae_pc1 is not None and mae_comp
                                     else None),
            "n_pc1_all": int(with_pc1.sum()), "mae_pc1_all_pp": _mae(p["pc1"], t, with_pc1),
        })
    return rows


def observe(path: str | Path, rank: int | None = None, loo: bool = True) -> ObserveResult:
    """Read a score table and run PCA, the sigmoid fits and leave-one-family-out prediction.

    The matrices are small (models x benchmarks), so BLAS runs on one thread: several
    threads gain nothing here and, on a busy machine, make each SVD tens of times slower.
    """
    from threadpoolctl import threadpool_limits

    table = read_table(path)
    with threadpool_limits(limits=1, user_api="blas"):
        return _observe(table, rank, loo)


def _observe(table: ScoreTable, rank: int | None, loo: bool) -> ObserveResult:
    import numpy as np

    x, lc = table.scores, table.log10_compute
    fit = pca(x, rank=rank)
    pc1 = fit.scores[:, 0]
    loadings = dict(zip(table.benchmarks, (float(v) for v in fit.components[0]), strict=True))
    ok = np.isfinite(lc)
    lin = None
    line = slope_fit(lc[ok], pc1[ok])
    if line is not None:
        slope, icpt = line["slope"], line["intercept"]
        resid = pc1[ok] - (slope * lc[ok] + icpt)
        tss = float(np.sum((pc1[ok] - pc1[ok].mean()) ** 2))
        lin = {"slope": float(slope), "intercept": float(icpt), "n": int(ok.sum()),
               "r2": 1.0 - float(np.sum(resid**2)) / tss if tss > 0 else None}
    fits = []
    m = len(table.benchmarks)
    vs_pc1 = fit_sigmoids(np.tile(pc1, (m, 1)), x.T)
    vs_lc = fit_sigmoids(np.tile(lc, (m, 1)), x.T)
    for j, name in enumerate(table.benchmarks):
        a, b = vs_pc1[j], vs_lc[j]
        fits.append({"benchmark": name, "n": int(np.isfinite(x[:, j]).sum()),
                     "loading": loadings[name],
                     "vs_pc1": asdict(a) if a else None,
                     "vs_log_compute": asdict(b) if b else None})
    loo_rows = _loo_rows(table, leave_family_out(table, rank, fit.filled)) if loo else []
    pairwise = pairwise_pc1_share(x)
    notes = []
    if not ok.any():
        notes.append("no compute column (FLOPs, or parameters and tokens): the log-compute "
                     "baseline is not available; leave-one-family-out compares PC1 with the "
                     "training mean only")
    if not table.has_family:
        notes.append("no family column: every model is its own family, so held-out "
                     "prediction leaves out one model at a time")
    if not fit.converged:
        notes.append(f"imputation of missing scores stopped at its cap of {IMPUTE_MAX_ITER} "
                     "iterations without converging: PC1 shares are approximate")
    if pairwise is not None and abs(pairwise - float(fit.explained[0])) > SHARE_DISAGREE:
        notes.append(f"PC1 share with imputation ({float(fit.explained[0]):.1%}) and from "
                     f"pairwise correlations ({pairwise:.1%}) differ by more than "
                     f"{SHARE_DISAGREE:.0%}: the missing cells matter, read both")
    return ObserveResult(
        path=table.path, n_models=len(table.models), n_families=len(set(table.families)),
        benchmarks=table.benchmarks,
        missing={b: int(np.isnan(x[:, j]).sum()) for j, b in enumerate(table.benchmarks)},
        percent_columns=table.percent_columns,
        explained=[float(v) for v in fit.explained], pc1_share=float(fit.explained[0]),
        pc1_share_pairwise=pairwise, loadings=loadings,
        imputation_iterations=fit.iterations, pc1_vs_log_compute=lin, fits=fits, loo=loo_rows,
        notes=notes)
