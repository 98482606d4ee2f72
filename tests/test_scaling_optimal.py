"""Compute-optimal allocation against hand-worked cases, numeric minimisation and isoFLOP data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from convergent.errors import ConvergentError
from convergent.scaling.optimal import (
    REFERENCE,
    chinchilla_allocation,
    compute_optimal,
    isoflop_analysis,
    isoflop_groups,
    kaplan_allocation,
)
from convergent.scaling.runs import read_runs

FIX = Path(__file__).parent / "fixtures" / "scaling"
FIG4 = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / \
    "chinchilla-figure4-points.csv"


def test_symmetric_law_splits_compute_evenly() -> None:
    # A = B and α = β: G = 1, a = b = 1/2, so N* = D* = sqrt(C/6)
    p = {"A": 400.0, "B": 400.0, "E": 1.7, "alpha": 0.3, "beta": 0.3}
    out = chinchilla_allocation(p, np.array([6e20]))
    assert out["a"] == pytest.approx(0.5) and out["b"] == pytest.approx(0.5)
    assert out["N"][0] == pytest.approx(1e10) and out["D"][0] == pytest.approx(1e10)
    assert out["tokens_per_param"][0] == pytest.approx(1.0)
    assert out["loss"][0] == pytest.approx(1.7 + 2 * 400.0 * 1e10**-0.3)


def test_exponents_by_hand() -> None:
    # α = 0.2, β = 0.6: a = β/(α+β) = 0.75, b = α/(α+β) = 0.25
    p = {"A": 100.0, "B": 300.0, "E": 1.0, "alpha": 0.2, "beta": 0.6}
    out = chinchilla_allocation(p, np.array([1e20, 1e22]))
    assert out["a"] == pytest.approx(0.75) and out["b"] == pytest.approx(0.25)
    assert np.log(out["N"][1] / out["N"][0]) / np.log(100) == pytest.approx(0.75)
    # G = (αA/(βB))^(1/(α+β)) = (20/180)^(1/0.8)
    g = (20.0 / 180.0) ** (1 / 0.8)
    assert out["N"][0] == pytest.approx(g * (1e20 / 6) ** 0.75)


def test_reference_fit_gives_about_twenty_tokens_per_parameter() -> None:
    out = compute_optimal("chinchilla", REFERENCE, [5.76e23])
    row = out["budgets"][0]
    assert 15 < row["tokens_per_param"] < 25
    assert row["N"] * row["D"] * 6 == pytest.approx(5.76e23)
    assert out["exponents"]["a"] == pytest.approx(0.3672 / (0.3473 + 0.3672), rel=1e-3)


@settings(max_examples=40, deadline=None)
@given(st.floats(50, 5000), st.floats(50, 5000), st.floats(0.1, 0.8), st.floats(0.1, 0.8),
       st.floats(1e18, 1e26))
def test_closed_form_is_the_minimum(a: float, b: float, al: float, be: float, c: float) -> None:
    p = {"A": a, "B": b, "E": 1.5, "alpha": al, "beta": be}
    out = chinchilla_allocation(p, np.array([c]))
    n_star = out["N"][0]
    assert 6 * n_star * out["D"][0] == pytest.approx(c, rel=1e-9)

    def loss(ln: float) -> float:
        n = np.exp(ln)
        return a * n**-al + b * (c / (6 * n)) ** -be

    res = minimize_scalar(loss, bracket=(np.log(n_star) - 1, np.log(n_star) + 1), tol=1e-12)
    assert res.x == pytest.approx(np.log(n_star), abs=1e-4)


def test_kaplan_closed_form_matches_numeric_minimum() -> None:
    p = {"Nc": 8.8e13, "Dc": 5.4e13, "alpha_N": 0.076, "alpha_D": 0.095}
    c = 1e23
    out = kaplan_allocation(p, np.array([c]))

    def loss(ln: float) -> float:
        n = np.exp(ln)
        d = c / (6 * n)
        return ((p["Nc"] / n) ** (p["alpha_N"] / p["alpha_D"]) + p["Dc"] / d) ** p["alpha_D"]

    res = minimize_scalar(loss, bounds=(5, 40), method="bounded", options={"xatol": 1e-10})
    assert np.log(out["N"][0]) == pytest.approx(res.x, abs=1e-4)
    r = 0.076 / 0.095
    assert out["a"] == pytest.approx(1 / (1 + r)) and out["b"] == pytest.approx(r / (1 + r))
    assert out["loss"][0] == pytest.approx(res.fun, rel=1e-8)


def test_intervals_from_samples() -> None:
    rng = np.random.default_rng(0)
    samples = {k: v * np.exp(rng.normal(0, 0.01, 500)) for k, v in REFERENCE.items()}
    out = compute_optimal("chinchilla", REFERENCE, [1e24], samples=samples, ci=0.9)
    row = out["budgets"][0]
    assert row["N_ci"][0] < row["N"] < row["N_ci"][1]
    lo, hi = out["exponents"]["a_ci"]
    assert lo < out["exponents"]["a"] < hi


def test_bad_budgets_and_forms() -> None:
    with pytest.raises(ConvergentError, match="positive"):
        compute_optimal("chinchilla", REFERENCE, [-1.0])
    with pytest.raises(ConvergentError, match="L\\(N, D\\)"):
        compute_optimal("power-C", REFERENCE, [1e24])


def test_isoflop_approaches_recover_planted_exponent() -> None:
    runs = read_runs(FIX / "isoflop.csv")
    groups, reason = isoflop_groups(runs)
    assert len(groups) == 5 and reason == ""
    out = isoflop_analysis(runs, [1e23], bootstrap=100, seed=1)
    true_a = 0.28 / (0.34 + 0.28)
    assert out["approach2"]["a"] == pytest.approx(true_a, abs=0.02)
    assert out["approach1"]["a"] == pytest.approx(true_a, abs=0.08)
    assert out["approach2"]["a"] + out["approach2"]["b"] == pytest.approx(1.0)
    lo, hi = out["approach2"]["a_ci"]
    assert lo <= out["approach2"]["a"] <= hi


@pytest.mark.skipif(not FIG4.exists(), reason="../shared/data is not available")
def test_figure4_points_are_not_isoflop_profiles() -> None:
    out = isoflop_analysis(read_runs(FIG4))
    assert out["isoflop"] is False and "group column" in out["reason"]
