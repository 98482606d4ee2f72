"""Extrapolation checks: hold out the largest runs, fit the rest, measure the error; rank forms."""

from __future__ import annotations

from typing import Any

import numpy as np

from convergent.errors import ConvergentError
from convergent.scaling.fit import DegenerateFit, FitResult, fit
from convergent.scaling.forms import Form, get_form
from convergent.scaling.runs import Runs


def scale_column(runs: Runs, form: Form) -> str:
    """The column that orders runs by size: compute when known, else the form's variable."""
    if form.target == "pass_at_k":
        return "k"
    if "C" in runs.columns:
        return "C"
    return form.inputs[-1]


def holdout_split(runs: Runs, scale: str, holdout: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (train, test): test holds the largest runs by `scale`.

    `holdout` below 1 is a fraction of the runs, otherwise a count; at least one run is
    held out and at least half are kept.
    """
    n = len(runs)
    if holdout <= 0:
        raise ConvergentError(f"the hold-out must be positive, got {holdout}")
    k = round(holdout * n) if holdout < 1 else int(holdout)
    k = max(1, k)
    if k > n // 2:
        raise ConvergentError(f"holding out {k} of {n} runs leaves too few to fit; "
                              "hold out at most half", where=runs.source)
    v = runs.require([scale])[scale]
    order = np.argsort(-v, kind="stable")
    test = np.zeros(n, dtype=bool)
    test[order[:k]] = True
    return ~test, test


def _errors(pred: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    rel = np.abs(pred - actual) / np.abs(actual)
    return {"mean": float(np.mean(rel)), "median": float(np.median(rel)),
            "max": float(np.max(rel))}


def holdout(runs: Runs, form: str | Form = "chinchilla", *, holdout: float = 0.1,
            delta: float = 1e-3, exclude_worst: int = 0, show_progress: bool | None = None,
            **form_options: Any) -> dict[str, Any]:
    """Fit on all but the largest runs and report the absolute relative error on those."""
    frm = form if isinstance(form, Form) else get_form(form, **form_options)
    if exclude_worst:
        runs = runs.drop_worst(exclude_worst, frm.target)
    scale = scale_column(runs, frm)
    train, test = holdout_split(runs, scale, holdout)
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
    cols = test.require((*frm.inputs, frm.target))
    pred = result.predict({k: cols[k] for k in frm.inputs}, n=len(test))
    out["predicted"] = [float(v) for v in pred]
    out["actual"] = [float(v) for v in cols[frm.target]]
    out["error"] = _errors(pred, cols[frm.target])
    return out


def candidate_forms(runs: Runs) -> list[str]:
    """Forms worth comparing on these columns."""
    cols = runs.columns
    if "loss" in cols:
        forms = []
        if "N" in cols and "D" in cols:
            forms += ["chinchilla", "kaplan", "power-N", "power-D"]
        if "C" in cols:
            forms += ["power-C", "broken-C"]
        return [*forms, "constant"]
    if "accuracy" in cols:
        return ["sigmoid-C", "power-C", "constant"]
    if "pass_at_k" in cols:
        return ["testtime", "coverage", "constant"]
    raise ConvergentError("no loss, accuracy or pass@k column to compare forms on",
                          where=runs.source)


def _form_for(runs: Runs, name: str, options: dict[str, Any]) -> Form:
    frm = get_form(name, **options)
    if frm.name == "constant" or frm.name.startswith("power-"):
        target = next(t for t in ("loss", "accuracy", "pass_at_k") if t in runs.columns)
        frm.target = target
    return frm


def compare(runs: Runs, forms: list[str] | None = None, *, holdout: float = 0.1,
            delta: float = 1e-3, exclude_worst: int = 0, show_progress: bool | None = None,
            **form_options: Any) -> dict[str, Any]:
    """Rank forms by held-out error and say whether a power law is supported at all."""
    names = forms or candidate_forms(runs)
    frms = [_form_for(runs, n, form_options) for n in names]
    if exclude_worst:
        runs = runs.drop_worst(exclude_worst, frms[0].target)
    scale = scale_column(runs, frms[0])
    train, test = holdout_split(runs, scale, holdout)
    train_runs, test_runs = runs.subset(train), runs.subset(test)
    results = []
    for frm in frms:
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
