"""`convergent capability`: benchmark spreads and gaps over time, and observational scaling."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from convergent.cli.common import AsOfOpt, ConfigOpt, CsvOpt, DbOpt, JsonOpt

app = typer.Typer(
    help="Capability convergence: spreads and gaps of the top models per benchmark.\n\n"
         "Example: convergent capability --benchmark mmlu_pro --k 5",
    no_args_is_help=False,
)

_HISTORY_COLUMNS = [
    ("benchmark", "benchmark"), ("as_of", "as of"), ("n", "n"), ("leader", "leader"),
    ("top", "top"), ("spread_pts", "spread"), ("spread_pct", "spread %"),
    ("edge_pp", "Elo edge pp"), ("gap_pts", "top-vs-k gap"),
    ("open_closed_gap_pts", "closed-open"), ("us_china_gap_pts", "US-China"),
    ("saturated", "saturated"), ("level", "level"), ("stars", "★"),
]


@app.callback(invoke_without_command=True)
def capability(
    ctx: typer.Context,
    benchmark: Annotated[str | None, typer.Option(
        "--benchmark", "-b", help="Benchmark name or area id (default: all).")] = None,
    k: Annotated[int | None, typer.Option(
        "--k", help="Top-k models (default from config).")] = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """History of spreads and gaps per benchmark, and a verdict on the seed's MMLU claim."""
    if ctx.invoked_subcommand is not None:
        return
    from convergent.capability import default_config
    from convergent.capability.spreads import claim_mmlu, history
    from convergent.cli.common import open_cli_store
    from convergent.cli.render import emit

    cfg = default_config(config)
    store = open_cli_store(db)
    points = history(store, benchmark, k=k, as_of=as_of, cfg=cfg)
    rows = [p.row() for p in points]
    claim = claim_mmlu(store, as_of, cfg, k=k)
    if as_json:
        emit(rows, as_json=True, data={"history": rows, "claim": claim})
        return
    if not as_csv:
        from convergent.levels import stars_text

        rows = [{**r, "stars": stars_text(r.get("stars"))} for r in rows]
    emit(rows, as_csv=as_csv, columns=_HISTORY_COLUMNS,
         title=f"Capability spreads and gaps of the top {claim['k']}, as of {claim['as_of']}")
    if not as_csv:
        typer.echo(claim["verdict"])


@app.command("observe")
def observe_cmd(
    table: Annotated[Path, typer.Argument(
        help="CSV: Model, Model Family, compute, then one column per benchmark.")],
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option(
        "--csv", help="Print CSV (one row per benchmark).")] = False,
    no_loo: Annotated[bool, typer.Option(
        "--no-loo", help="Skip leave-one-family-out prediction.")] = False,
) -> None:
    """Observational scaling: PCA of benchmark scores, sigmoid fits, held-out prediction.

    Example: convergent capability observe benchmark-table.csv --rank 3
    """
    from convergent.capability.observe import observe
    from convergent.cli.render import emit

    res = observe(table, loo=not no_loo)
    loo = {r["benchmark"]: r for r in res.loo}
    rows = []
    for f in res.fits:
        a, b, lo = f["vs_pc1"] or {}, f["vs_log_compute"] or {}, loo.get(f["benchmark"], {})
        rows.append({
            "benchmark": f["benchmark"], "n": f["n"], "missing": res.missing[f["benchmark"]],
            "loading": f["loading"], "r2_pc1": a.get("r2"), "rmse_pc1_pp": a.get("rmse_pp"),
            "r2_log_compute": b.get("r2"), "rmse_log_compute_pp": b.get("rmse_pp"),
            "loo_mae_pc1_pp": lo.get("mae_pc1_pp"), "loo_mae_compute_pp": lo.get("mae_compute_pp"),
            "loo_mae_mean_pp": lo.get("mae_mean_pp"),
        })
    if "all" in loo:
        a = loo["all"]
        rows.append({"benchmark": "all", "n": a["n"], "loo_mae_pc1_pp": a["mae_pc1_pp"],
                     "loo_mae_compute_pp": a["mae_compute_pp"],
                     "loo_mae_mean_pp": a["mae_mean_pp"]})
    if as_json:
        emit(rows, as_json=True, data=res.as_dict())
        return
    emit(rows, as_csv=as_csv, columns=[
        ("benchmark", "benchmark"), ("n", "n"), ("missing", "missing"), ("loading", "PC1 loading"),
        ("r2_pc1", "R² vs PC1"), ("r2_log_compute", "R² vs log C"),
        ("loo_mae_pc1_pp", "LOFO MAE PC1 pp"), ("loo_mae_compute_pp", "LOFO MAE log C pp"),
        ("loo_mae_mean_pp", "LOFO MAE mean pp"),
    ], title=f"Observational scaling: {res.n_models} models, {res.n_families} families")
    if not as_csv:
        pair = ("" if res.pc1_share_pairwise is None
                else f" (pairwise correlations: {res.pc1_share_pairwise:.1%})")
        typer.echo(f"PC1 explains {res.pc1_share:.1%} of the variance{pair}.")
    for note in res.notes:
        typer.echo(f"note: {note}", err=True)
