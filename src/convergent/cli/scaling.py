"""`convergent scaling` commands: fit, predict, plan compute, compare forms by extrapolation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from convergent.cli.common import CsvOpt, JsonOpt

app = typer.Typer(help="Fit scaling laws, predict, plan compute, compare forms.",
                  no_args_is_help=True)

RunsArg = Annotated[Path, typer.Argument(help="CSV of runs: N/params, D/tokens, C/compute, "
                                         "steps, examples, loss (or accuracy, k and pass@k), "
                                         "optional group.")]
FormOpt = Annotated[str, typer.Option("--form", help="chinchilla, kaplan, power, broken (bnsl), "
                                      "m4, sigmoid, testtime, coverage, constant "
                                      "(power-N, broken2-C … set the variable and breaks).")]
XOpt = Annotated[str | None, typer.Option("--x", help="x of single-variable forms: N, D, C, S "
                                          "(steps), X (examples), k, or any column name "
                                          "(default: the file's first size column).")]
BreaksOpt = Annotated[int, typer.Option("--breaks", min=1, help="Breaks of a broken power law.")]
SmoothOpt = Annotated[float, typer.Option("--smooth", help="Smoothness of each break (log x).")]
FloorOpt = Annotated[float | None, typer.Option("--floor", help="Fixed sigmoid floor "
                                                "(e.g. chance accuracy); free if omitted.")]
BootOpt = Annotated[int, typer.Option("--bootstrap", min=0, help="Bootstrap refits (0: none).")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the bootstrap resampling.")]
DeltaOpt = Annotated[float, typer.Option("--delta", help="Huber δ on log residuals.")]
CiOpt = Annotated[float, typer.Option("--ci", help="Level of the percentile intervals.")]
WorstOpt = Annotated[int, typer.Option("--exclude-worst", min=0,
                                       help="Drop the K points with the highest loss first.")]
ProgressOpt = Annotated[bool | None, typer.Option("--progress/--no-progress",
                                                  help="Progress bars on stderr "
                                                  "(default: when stderr is a terminal).")]


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        sys.stderr.write(f"warning: {w}\n")


def _form_options(x: str, breaks: int, smooth: float, floor: float | None) -> dict[str, Any]:
    return {"x": x, "breaks": breaks, "smooth": smooth, "floor": floor}


def _param_rows(params: dict[str, float],
                intervals: dict[str, tuple[float, float]] | None) -> list[dict[str, Any]]:
    rows = []
    for k, v in params.items():
        lo, hi = (intervals or {}).get(k, (None, None))
        rows.append({"parameter": k, "value": v, "ci_low": lo, "ci_high": hi})
    return rows


@app.command("fit")
def fit_cmd(
    runs: RunsArg,
    form: FormOpt = "chinchilla",
    x: XOpt = None,
    breaks: BreaksOpt = 1,
    smooth: SmoothOpt = 0.25,
    floor: FloorOpt = None,
    bootstrap: BootOpt = 0,
    seed: SeedOpt = 42,
    delta: DeltaOpt = 1e-3,
    ci: CiOpt = 0.9,
    exclude_worst: WorstOpt = 0,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    progress: ProgressOpt = None,
) -> None:
    """Fit a scaling-law form (Huber on log residuals, grid of starts, L-BFGS, bootstrap).

    Example: convergent scaling fit runs.csv --form chinchilla --bootstrap 200
    """
    from convergent.cli.render import emit
    from convergent.scaling.fit import fit
    from convergent.scaling.optimal import ALLOCATORS, compute_optimal
    from convergent.scaling.runs import read_runs, x_variable

    data = read_runs(runs, x=x)
    result = fit(data, form, delta=delta, bootstrap=bootstrap, seed=seed, ci=ci,
                 exclude_worst=exclude_worst, show_progress=progress,
                 **_form_options(x_variable(x, data) or "C", breaks, smooth, floor))
    _warn(result.warnings)
    out = result.to_dict()
    tpp = ""
    if result.form.name in ALLOCATORS:
        samples = None
        if result.bootstrap is not None:
            ok = result.bootstrap.ok
            samples = {k: v[ok] for k, v in result.bootstrap.samples.items()}
        budgets = [float(data.columns["C"].max()), 1e24] if "C" in data.columns else [1e24]
        opt = compute_optimal(result.form.name, result.params, budgets, samples=samples, ci=ci)
        out["allocation"] = opt["exponents"]
        out["tokens_per_param"] = [{"C": r["C"], "tokens_per_param": r["tokens_per_param"]}
                                   for r in opt["budgets"]]
        tpp = "; compute-optimal tokens/param " + ", ".join(
            f"{r['tokens_per_param']:.3g} at C={r['C']:.3g}" for r in opt["budgets"])
    rows = _param_rows(result.params, result.intervals)
    pure = " (pure power law, E = 0)" if result.pure else ""
    title = (f"{result.form.name}{pure}: objective {result.objective:.10g} on "
             f"{result.n_points} points, {result.n_starts} starts, δ={delta:g}{tpp}")
    emit(rows, as_json=as_json, as_csv=as_csv, title=title, data=out,
         columns=[("parameter", "parameter"), ("value", "value"),
                  ("ci_low", f"{ci:.0%} low"), ("ci_high", f"{ci:.0%} high")])


@app.command("optimal")
def optimal_cmd(
    compute: Annotated[list[float], typer.Option("--compute", help="Compute budget in FLOP "
                                                 "(repeat for several).")],
    runs: Annotated[Path | None, typer.Option("--runs", help="Fit these runs first.")] = None,
    form: Annotated[str, typer.Option("--form", help="chinchilla or kaplan.")] = "chinchilla",
    a_: Annotated[float | None, typer.Option("--A", help="Chinchilla A.")] = None,
    b_: Annotated[float | None, typer.Option("--B", help="Chinchilla B.")] = None,
    e_: Annotated[float | None, typer.Option("--E", help="Chinchilla E.")] = None,
    alpha: Annotated[float | None, typer.Option("--alpha", help="Chinchilla α.")] = None,
    beta: Annotated[float | None, typer.Option("--beta", help="Chinchilla β.")] = None,
    bootstrap: BootOpt = 0,
    seed: SeedOpt = 42,
    delta: DeltaOpt = 1e-3,
    ci: CiOpt = 0.9,
    exclude_worst: WorstOpt = 0,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    progress: ProgressOpt = None,
) -> None:
    """Compute-optimal N*, D*, tokens per parameter (default: the reference Chinchilla fit).

    Example: convergent scaling optimal --compute 1e24
    """
    from convergent.cli.render import emit
    from convergent.errors import ConvergentError
    from convergent.scaling.optimal import REFERENCE, compute_optimal, isoflop_analysis

    explicit = {"A": a_, "B": b_, "E": e_, "alpha": alpha, "beta": beta}
    given = {k: v for k, v in explicit.items() if v is not None}
    warnings: list[str] = []
    extra: dict[str, Any] = {}
    samples = None
    if runs is not None:
        if given:
            raise ConvergentError("give either --runs or explicit parameters, not both")
        from convergent.scaling.fit import fit
        from convergent.scaling.runs import read_runs

        data = read_runs(runs)
        result = fit(data, form, delta=delta, bootstrap=bootstrap, seed=seed, ci=ci,
                     exclude_worst=exclude_worst, show_progress=progress)
        warnings += result.warnings
        params = result.params
        if result.bootstrap is not None:
            ok = result.bootstrap.ok
            samples = {k: v[ok] for k, v in result.bootstrap.samples.items()}
        extra["fit"] = result.to_dict()
        used = data.drop_worst(exclude_worst) if exclude_worst else data
        extra["isoflop"] = isoflop_analysis(used, compute, bootstrap=bootstrap, seed=seed, ci=ci)
        source = str(runs)
    else:
        if form != "chinchilla":
            raise ConvergentError("explicit parameters are Chinchilla's (A, B, E, α, β); "
                                  "use --runs for other forms")
        params = {**REFERENCE, **given}
        source = "reference Chinchilla fit" if not given else "given parameters"
    out = compute_optimal(form, params, compute, samples=samples, ci=ci)
    out["source"] = source
    out.update(extra)
    _warn(warnings)
    rows = []
    for r in out["budgets"]:
        row = {k: v for k, v in r.items() if not k.endswith("_ci")}
        for k in ("N", "D", "tokens_per_param"):
            if f"{k}_ci" in r:
                row[f"{k}_ci"] = r[f"{k}_ci"]
        rows.append(row)
    exps = out["exponents"]
    title = (f"compute-optimal ({form}, {source}): N* ∝ C^{exps['a']:.4f}, "
             f"D* ∝ C^{exps['b']:.4f}")
    emit(rows, as_json=as_json, as_csv=as_csv, title=title, data=out,
         columns=[("C", "C (FLOP)"), ("N", "N*"), ("N_ci", "N* interval"), ("D", "D*"),
                  ("D_ci", "D* interval"), ("tokens_per_param", "tokens/param"),
                  ("loss", "loss")])
    iso = out.get("isoflop")
    if iso and not as_json and not as_csv:
        if iso.get("isoflop"):
            for name in ("approach1", "approach2"):
                r = iso.get(name, {})
                if "a" in r:
                    sys.stdout.write(f"isoFLOP {name}: a = {r['a']:.4f}, b = {r['b']:.4f} "
                                     f"({r['budgets_used']} budgets)\n")
        else:
            sys.stdout.write(f"isoFLOP analysis: not available ({iso.get('reason')})\n")


@app.command("compare")
def compare_cmd(
    runs: RunsArg,
    forms: Annotated[str | None, typer.Option("--form", "--forms",
                                              help="Comma-separated forms (default: all that "
                                              "fit the columns).")] = None,
    holdout: Annotated[float, typer.Option("--holdout", help="Largest runs held out: a "
                                           "fraction below 1, else a count.")] = 0.1,
    delta: DeltaOpt = 1e-3,
    exclude_worst: WorstOpt = 0,
    breaks: BreaksOpt = 1,
    smooth: SmoothOpt = 0.25,
    floor: FloorOpt = None,
    x: XOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    progress: ProgressOpt = None,
) -> None:
    """Rank forms by error on the held-out largest runs; say if a power law is supported.

    Example: convergent scaling compare runs.csv --holdout 3
    """
    from convergent.cli.render import emit
    from convergent.scaling.runs import read_runs
    from convergent.scaling.validate import compare

    data = read_runs(runs, x=x)
    names = [f.strip() for f in forms.split(",") if f.strip()] if forms else None
    out = compare(data, names, holdout=holdout, delta=delta, exclude_worst=exclude_worst,
                  show_progress=progress, breaks=breaks, smooth=smooth, floor=floor)
    _warn(data.warnings)
    rows = [{"rank": r["rank"], "form": r["form"],
             "mean_error": (r.get("error") or {}).get("mean"),
             "max_error": (r.get("error") or {}).get("max"),
             "log_rmse": (r.get("error") or {}).get("log_rmse"),
             "objective": r.get("objective"),
             "note": "; ".join(r["problems"]) if r["degenerate"] else ""}
            for r in out["forms"]]
    v = out["verdict"]
    title = (f"held-out: {out['holdout']} largest runs by {out['scale']}; power law "
             f"{'supported' if v['power_law_supported'] else 'NOT supported'}: {v['reason']}")
    emit(rows, as_json=as_json, as_csv=as_csv, title=title, data=out,
         columns=[("rank", "rank"), ("form", "form"), ("mean_error", "mean |rel err|"),
                  ("max_error", "max |rel err|"), ("log_rmse", "log RMSE"),
                  ("objective", "train objective"),
                  ("note", "note")])


@app.command("predict")
def predict_cmd(
    runs: RunsArg,
    at: Annotated[list[float], typer.Option("--at", help="x at which to predict (repeat for "
                                            "several), in the units of the x column.")],
    x: XOpt = None,
    form: Annotated[str, typer.Option("--form", help="auto (BNSL and M4 averaged when both "
                                      "fit, else forms weighted by how well they extrapolate "
                                      "inside the data), or one of power, broken, m4, "
                                      "m4chance, flat.")] = "auto",
    level: Annotated[float, typer.Option("--level", help="Level of the predictive "
                                         "interval.")] = 0.9,
    delta: DeltaOpt = 1e-3,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
) -> None:
    """Predict the loss at sizes not trained yet, with a predictive interval.

    Example: convergent scaling predict runs.csv --x tokens --at 1e12 --at 4e12
    """
    from convergent.cli.render import emit
    from convergent.errors import ConvergentError
    from convergent.scaling.runs import read_runs, x_variable
    from convergent.scaling.select import CANDIDATES, estimate

    data = read_runs(runs, x=x)
    var = x_variable(x, data)
    if var is None:
        raise ConvergentError("no size column to predict along; name one with --x",
                              where=str(runs))
    name = form.strip().lower()
    forms = CANDIDATES if name == "auto" else (name,)
    if any(f not in CANDIDATES for f in forms):
        raise ConvergentError(f"--form must be auto or one of {', '.join(CANDIDATES)}, "
                              f"got {form!r}")
    if any(not 0 < v < float("inf") for v in at):
        raise ConvergentError(f"--at values must be positive finite numbers, got {at}")
    est = estimate(data, var, target=data.target(), forms=forms, delta=delta)
    _warn(est.warnings)
    got = est.predict(at, level)
    rows = [{"x": float(a), "predicted": float(p), "low": float(lo), "high": float(hi)}
            for a, p, lo, hi in zip(at, got["predicted"], got["low"], got["high"],
                                    strict=True)]
    weights = ", ".join(f"{m.name} {m.weight:.2f}" for m in est.members if m.weight > 0)
    how = ("BNSL and M4 averaged" if est.rule == "prior" else "weights from inner validation")
    title = (f"{est.target} at {var}: {weights} ({how}); back-test inside the data: log RMSE "
             f"{est.validation_error:.3g} over {est.n_validation} predictions of the "
             f"largest points from fits on the smaller ones ({est.n_points} points); "
             f"{level:.0%} intervals")
    emit(rows, as_json=as_json, as_csv=as_csv, title=title,
         data={**est.to_dict(), "level": level, "predictions": rows},
         columns=[("x", var), ("predicted", "predicted"), ("low", f"{level:.0%} low"),
                  ("high", f"{level:.0%} high")])
