"""Extrapolation checks: hold out the largest runs, fit the rest, measure the error; rank forms."""

from __future__ import annotations

from typing import Any

import numpy as np

from convergent.errors import ConvergentError
from convergent.scaling.fit import DegenerateFit, FitResult, fit
from convergent.scaling.forms import Form, get_form
from convergent.scaling.runs import Runs


def scale_column(runs: Runs, form: Form | None = None) -> str:
    """The column that orders runs by size: compute when known, else the form's variable.

    A form without inputs (the constant) takes the first size column the file has.
    """
    if form is not None and form.target == "pass_at_k":
        return "k"
    if "C" in runs.columns:
        return "C"
    if form is not None and form.inputs:
        return form.inputs[-1]
    xs = runs.x_columns()
    if not xs:
        have = ", ".join(sorted(runs.headers.values())) or "none"
        raise ConvergentError("no size column to order the runs by (N/params, D/tokens, "
                              f"C/compute, steps, examples, k); recognised columns: {have}",
                              where=runs.source)
    return xs[0]


def holdout_split(runs: Runs, scale: str, holdout: float = 0.1, *,
                  n_params: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (train, test): test holds the largest runs by `scale`.

    `holdout` below 1 is a fraction of the runs (at least one), otherwise a count; the
    runs kept must outnumber the parameters of the form by at least one.
    """
    n = len(runs)
    if not holdout > 0 or not np.isfinite(holdout):
        raise ConvergentError(f"the hold-out must be positive, got {holdout}")
    if holdout >= 1 and holdout != int(holdout):
        raise ConvergentError(f"a hold-out of 1 or more is a count of runs, got {holdout}")
    k = max(1, round(holdout * n)) if holdout < 1 else int(holdout)
    most = n - (n_params + 1)
    if k > most:
        raise ConvergentError(
            f"holding out {k} of {n} runs leaves {n - k} to fit {n_params} parameters; "
            f"hold out at most {max(most, 0)} (the fit needs parameters + 1 runs)",
            where=runs.source)
    v = runs.require([scale], several_scales=False)[scale]
    order = np.argsort(-v, kind="stable")
    test = np.zeros(n, dtype=bool)
    test[order[:k]] = True
    return ~test, test


def _errors(pred: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    rel = np.abs(pred - actual) / np.abs(actual)
    with np.errstate(all="ignore"):
        lr = float(np.sqrt(np.mean(np.log(pred / actual) ** 2)))
    return {"mean": float(np.mean(rel)), "median": float(np.median(rel)),
            "max": float(np.max(rel)), "log_rmse": lr}


def holdout(runs: Runs, form: str | Form = "chinchilla", *, holdout: float = 0.1,
            delta: float = 1e-3, exclude_worst: int = 0, show_progress: bool | None = None,
            **form_options: Any) -> dict[str, Any]:
    """Fit on all but the largest runs and report the absolute relative error on those."""
    frm = form if isinstance(form, Form) else get_form(form, **form_options)
    if exclude_worst:
        runs = runs.drop_worst(exclude_worst, frm.target)
    scale = scale_column(runs, frm)
    train, test = holdout_split(runs, scale, holdout, n_params=frm.n_params)
    result = fit(runs.subset(train), frm, delta=delta, show_progress=show_progress,
                 allow_degenerate=True)
    return _evaluate(result, runs.subset(test), scale)


def _evaluate(result: FitResult, test: Runs, scale: str) -> dict[str, Any]:
    frm = result.form
    out: dict[str, Any] = {
        "form": frm.name, "scale": scale, "train_points": result.n_points,
        "test_points": len(test), "test_rows": [int(r) for r in test.rows],
        "train_rows": [int(r) for r in result.rows],
        "params": result.params, "objective": result.objective,
        "degenerate": result.degenerate, "problems": result.problems,
    }
    cols = test.require((*frm.inputs, frm.target), several_scales=False)
    pred = result.predict({k: cols[k] for k in frm.inputs}, n=len(test))
    out["predicted"] = [float(v) for v in pred]
    out["actual"] = [float(v) for v in cols[frm.target]]
    out["error"] = _errors(pred, cols[frm.target])
    return out


def candidate_forms(runs: Runs) -> list[str]:
    """Forms worth comparing on these columns (the default estimator first for a loss)."""
    cols = runs.columns
    if "loss" in cols:
        forms = []
        if "N" in cols and "D" in cols:
            forms += ["chinchilla", "kaplan"]
        x = runs.x_columns()
        if x:
            forms += [f"auto-{x[0]}", f"m4-{x[0]}", f"power-{x[0]}", f"broken-{x[0]}"]
        forms += [f"power-{v}" for v in x[1:] if v in ("N", "D")]
        return [*forms, "constant"]
    if "accuracy" in cols:
        return ["sigmoid-C", "power-C", "constant"] if "C" in cols else [
            *(f"sigmoid-{v}" for v in runs.x_columns()[:1]), "constant"]
    if "pass_at_k" in cols:
        return ["testtime", "coverage", "constant"]
    raise ConvergentError("no loss, accuracy or pass@k column to compare forms on",
                          where=runs.source)


def _form_for(runs: Runs, name: str, options: dict[str, Any]) -> Form | str:
    """The form of a name; the default estimator stays a name (`auto-X`)."""
    if name.split("-")[0].strip().lower() == "auto":
        return name.strip().lower()
    frm = get_form(name, **options)
    if frm.name == "constant" or frm.name.startswith("power-"):
        frm.target = runs.target()
    return frm


def _auto_row(name: str, train: Runs, test: Runs, scale: str, delta: float) -> dict[str, Any]:
    """Held-out result of the default estimator, in the layout of `_evaluate`."""
    from convergent.scaling.select import estimate

    x = name.partition("-")[2] or scale
    x = {"n": "N", "d": "D", "c": "C", "s": "S", "x": "X"}.get(x.lower(), x)
    est = estimate(train, x, target="loss", delta=delta)
    cols = test.require((x, "loss"), several_scales=False)
    pred = est.predict(cols[x])["predicted"]
    return {"form": f"auto-{x}", "scale": scale, "train_points": len(train),
            "test_points": len(test), "test_rows": [int(r) for r in test.rows],
            "train_rows": [int(r) for r in train.rows],
            "params": {m.name: m.weight for m in est.members if m.weight},
            "objective": None, "degenerate": False, "problems": [],
            "predicted": [float(v) for v in pred], "actual": [float(v) for v in cols["loss"]],
            "error": _errors(pred, cols["loss"]), "power_law": False}


def compare(runs: Runs, forms: list[str] | None = None, *, holdout: float = 0.1,
            delta: float = 1e-3, exclude_worst: int = 0, show_progress: bool | None = None,
            **form_options: Any) -> dict[str, Any]:
    """Rank forms by held-out error and say whether a power law is supported at all."""
    names = forms or candidate_forms(runs)
    frms = [_form_for(runs, n, form_options) for n in names]
    real = [f for f in frms if isinstance(f, Form)]
    if exclude_worst:
        runs = runs.drop_worst(exclude_worst, real[0].target if real else runs.target())
    scale = scale_column(runs, real[0] if real else None)
    fewest = min((f.n_params for f in real), default=3)
    train, test = holdout_split(runs, scale, holdout, n_params=fewest)
    train_runs, test_runs = runs.subset(train), runs.subset(test)
    results = []
    for frm in frms:
        if isinstance(frm, str):
            try:
                results.append(_auto_row(frm, train_runs, test_runs, scale, delta))
            except ConvergentError as exc:
                results.append({"form": frm, "degenerate": True, "problems": [str(exc)],
                                "power_law": False, "error": None})
            continue
        if len(train_runs) < frm.n_params + 1:
            results.append({"form": frm.name, "degenerate": True, "power_law": frm.power_law,
                            "error": None, "problems": [
                                f"{len(train_runs)} runs left to fit {frm.n_params} "
                                "parameters (needs parameters + 1)"]})
            continue
        try:
            res = fit(train_runs, frm, delta=delta, show_progress=show_progress,
                      allow_degenerate=True)
        except DegenerateFit as exc:
            res = exc.result
        except ConvergentError as exc:
            results.append({"form": frm.name, "degenerate": True, "problems": [str(exc)],
                            "power_law": frm.power_law, "error": None})
            continue
        row = _evaluate(res, test_runs, scale)
        row["power_law"] = frm.power_law
        results.append(row)

    def key(r: dict[str, Any]) -> tuple[int, float]:
        err = r["error"]["mean"] if r.get("error") else np.inf
        return (1 if r["degenerate"] else 0, err)

    results.sort(key=key)
    for i, r in enumerate(results, 1):
        r["rank"] = i
    return {"scale": scale, "holdout": int(test.sum()), "train": int(train.sum()),
            "test_rows": [int(r) for r in test_runs.rows],
            "forms": results, "verdict": verdict(results)}


#: A power law is supported when its held-out error is at most this fraction of a constant's.
SUPPORT_RATIO = 0.5


def verdict(results: list[dict[str, Any]], ratio_max: float = SUPPORT_RATIO) -> dict[str, Any]:
    """Whether a sound power-law form extrapolates clearly better than no scaling at all.

    Beating a constant by a little is what a power law fitted to noise does (its steep
    part sits on the smallest runs and it predicts a constant beyond them), so the
    held-out error must be at most `ratio_max` times the constant's.
    """
    base = next((r for r in results if r["form"] == "constant" and r.get("error")), None)
    laws = [r for r in results if r.get("power_law") and not r["degenerate"] and r.get("error")]
    if not laws:
        return {"power_law_supported": False,
                "reason": "every power-law form is degenerate on these runs"}
    best = min(laws, key=lambda r: r["error"]["mean"])
    if base is None:
        return {"power_law_supported": True, "best": best["form"],
                "reason": f"{best['form']} fits without degeneracy (no baseline to compare)"}
    ratio = best["error"]["mean"] / max(base["error"]["mean"], 1e-300)
    ok = ratio <= ratio_max
    reason = (f"{best['form']} held-out error {best['error']['mean']:.3%} vs "
              f"{base['error']['mean']:.3%} for a constant (ratio {ratio:.2f}; "
              f"support needs ≤ {ratio_max:g})")
    return {"power_law_supported": bool(ok), "best": best["form"],
            "error_ratio_to_constant": float(ratio), "reason": reason}
