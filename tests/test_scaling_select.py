"""M4, the default estimator chosen by inner extrapolation, and its predictive intervals."""

from __future__ import annotations

import numpy as np
import pytest

from convergent.errors import ConvergentError
from convergent.scaling.fit import fit
from convergent.scaling.forms import M4, Design, get_form
from convergent.scaling.runs import Runs
from convergent.scaling.select import estimate, inner_split


def _design(x: np.ndarray, ref: float = 0.0) -> Design:
    return Design({"X": np.log(x)}, np.zeros(len(x)), {"X": ref})


def test_m4_prediction_matches_closed_forms() -> None:
    frm = M4("X")
    x = np.array([1e3, 1e5, 1e7])
    # α = 0: y = E + β x^-c
    theta = np.array([np.log(2.0), 0.3, 0.0, 0.1, 1.0])
    got = np.exp(frm.predict_log(theta, _design(x))[0])
    assert got == pytest.approx(0.1 + 2.0 * x**-0.3, rel=1e-9)
    # α = 1: w = f (b - w), so w = f b / (1 + f), y = E + w
    theta = np.array([np.log(5.0), 0.25, 1.0, 0.2, 0.9])
    f = 5.0 * x**-0.25
    got = np.exp(frm.predict_log(theta, _design(x))[0])
    assert got == pytest.approx(0.2 + f * 0.7 / (1.0 + f), rel=1e-9)


def test_m4_recovers_planted_parameters() -> None:
    frm = M4("X")
    x = np.geomspace(1e4, 1e8, 25)
    truth = np.array([np.log(40.0), 0.4, 0.6, 0.15, 0.95])
    ref = float(np.mean(np.log(x)))
    centred = truth.copy()
    centred[0] -= truth[1] * ref  # β is quoted in the units of x; internally x is centred
    y = np.exp(frm.predict_log(centred, _design(x, ref))[0])
    res = fit(Runs.from_columns({"X": x, "loss": y}), frm, show_progress=False)
    assert not res.degenerate
    assert res.params["c"] == pytest.approx(0.4, rel=1e-2)
    assert res.params["alpha"] == pytest.approx(0.6, rel=2e-2)
    assert res.params["E"] == pytest.approx(0.15, rel=1e-2)
    assert res.params["E0"] == pytest.approx(0.95, rel=1e-2)
    far = np.array([1e9, 1e10])
    yf = np.exp(frm.predict_log(centred, _design(far, ref))[0])
    assert res.predict({"X": far}) == pytest.approx(yf, rel=1e-3)


def test_forms_by_name() -> None:
    assert get_form("m4-D").name == "m4-D"
    assert get_form("bnsl-S").name == "broken-S"
    assert get_form("power", x="x").inputs == ("X",)
    with pytest.raises(ConvergentError, match="unknown variable"):
        get_form("power-Q")


def test_inner_split_holds_out_the_largest_and_keeps_enough() -> None:
    xs = np.array([5.0, 1.0, 4.0, 2.0, 3.0, 8.0, 7.0, 6.0])
    val = inner_split(xs, 0.25)
    assert sorted(xs[val]) == [7.0, 8.0]
    # 6 points: a quarter would be 2, but 5 must stay to fit on
    val6 = inner_split(xs[:6], 0.25)
    assert val6.sum() == 1 and xs[:6][val6][0] == 8.0
    assert inner_split(xs[:3], 0.25).sum() == 1


def test_default_estimator_on_a_pure_power_law() -> None:
    x = np.geomspace(1e6, 1e9, 12)
    runs = Runs.from_columns({"D": x, "loss": 30.0 * x**-0.12})
    est = estimate(runs, "D")
    got = est.predict(np.array([1e10, 1e11]))
    assert got["predicted"] == pytest.approx(30.0 * np.array([1e10, 1e11]) ** -0.12, rel=2e-3)
    assert sum(m.weight for m in est.members) == pytest.approx(1.0)
    # the flat carry-forward extrapolated badly inside the data, so it weighs little
    flat = next(m for m in est.members if m.name == "flat")
    assert flat.weight < 0.01


def test_intervals_widen_with_distance_and_contain_the_prediction() -> None:
    rng = np.random.default_rng(4)
    x = np.geomspace(1e6, 1e9, 16)
    y = (0.5 + 30.0 * x**-0.2) * np.exp(rng.normal(0.0, 0.01, x.size))
    est = estimate(Runs.from_columns({"X": x, "loss": y}), "X")
    at = np.array([5e8, 1e9, 1e10, 1e12])
    got = est.predict(at, 0.9)
    assert np.all(got["low"] <= got["predicted"]) and np.all(got["predicted"] <= got["high"])
    width = np.log(got["high"] / got["low"])
    assert width[0] == pytest.approx(width[1])  # inside the data: residual spread only
    assert width[1] < width[2] < width[3]
    wider = est.predict(at, 0.99)
    assert np.all(wider["high"] >= got["high"]) and np.all(wider["low"] <= got["low"])
    with pytest.raises(ConvergentError, match="level"):
        est.predict(at, 1.0)


def test_default_estimator_needs_three_points() -> None:
    runs = Runs.from_columns({"X": [1.0, 10.0], "loss": [2.0, 1.0]})
    with pytest.raises(ConvergentError, match="at least 3"):
        estimate(runs, "X")


def _noisy_curve(seed: int = 4, n: int = 16) -> Runs:
    rng = np.random.default_rng(seed)
    x = np.geomspace(1e6, 1e9, n)
    y = (0.5 + 30.0 * x**-0.2) * np.exp(rng.normal(0.0, 0.01, x.size))
    return Runs.from_columns({"X": x, "loss": y})


def test_default_is_the_equal_mean_of_bnsl_and_m4_when_both_fit() -> None:
    est = estimate(_noisy_curve(), "X")
    assert est.rule == "prior"
    weights = {m.name: m.weight for m in est.members}
    assert weights["broken-X"] == pytest.approx(0.5) and weights["m4-X"] == pytest.approx(0.5)
    assert sum(weights.values()) == pytest.approx(1.0)
    at = np.array([2e9, 1e10])
    by = {m.name: m.predict_log("X", at) for m in est.members}
    # the log-scale mean of the two published laws, nothing else
    assert est.predict_log(at) == pytest.approx(0.5 * (by["broken-X"] + by["m4-X"]))
    # every candidate is still scored by inner extrapolation and shown
    assert all(m.score is not None for m in est.members)


def test_without_both_published_laws_validation_weights_decide() -> None:
    est = estimate(_noisy_curve(), "X", forms=("power", "flat"))
    assert est.rule == "validation"
    power, flat = (next(m for m in est.members if m.name == n) for n in ("power-X", "flat"))
    assert power.score < flat.score
    # weights 1/score², normalised
    ratio = (flat.score / power.score) ** 2
    assert power.weight / flat.weight == pytest.approx(ratio, rel=1e-2)


def test_interval_adds_the_validation_error_level_beyond_the_data() -> None:
    est = estimate(_noisy_curve(), "X")
    z = 1.6448536269514722  # 90 %
    x_max = est.x_max
    far = x_max * np.exp(np.array([2.0, 4.0]) * est.validation_nearest)
    got = est.predict(far, 0.9)
    d = np.log(far / x_max)
    sigma = np.sqrt(est.residual**2 + est.validation_error**2 + (est.error_rate * d) ** 2)
    assert np.log(got["high"] / got["predicted"]) == pytest.approx(z * sigma, rel=1e-9)
    # half-way to the nearest validation distance, half of the error level
    near = x_max * np.exp(0.5 * est.validation_nearest)
    got = est.predict(np.array([near]), 0.9)
    d = 0.5 * est.validation_nearest
    sigma = np.sqrt(est.residual**2 + (0.5 * est.validation_error) ** 2
                    + (est.error_rate * d) ** 2)
    assert np.log(got["high"][0] / got["predicted"][0]) == pytest.approx(z * sigma, rel=1e-9)
