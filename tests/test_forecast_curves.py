"""S-curve fits recover the parameters of noisy synthetic curves; bounds always hold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from convergent.forecast.curves import (
    FORMS,
    bounds,
    fisher_pry_batch,
    fit_bass,
    fit_batch,
    levenberg_marquardt,
    starts,
)

T = np.linspace(-6.0, 0.0, 25)      # quarterly points over six years
N = 200.0                           # adoptions per window


def _noisy(form: str, theta: list[float], seed: int, n: float = N) -> np.ndarray:
    rng = np.random.default_rng(seed)
    s = FORMS[form].f(T[None], np.array([theta]))[0]
    return rng.binomial(int(n), np.clip(s, 0, 1)) / n


@pytest.mark.parametrize("seed", range(5))
def test_logistic_recovers_rate_and_midpoint(seed: int) -> None:
    y = _noisy("logistic", [1.2, -2.5], seed)
    th, _ = fit_batch(FORMS["logistic"], T, y, np.ones_like(y))
    r, t0 = th[0]
    assert r == pytest.approx(1.2, rel=0.15)
    assert t0 == pytest.approx(-2.5, abs=0.2)


@pytest.mark.parametrize("seed", range(5))
def test_logistic_with_ceiling_recovers_ceiling(seed: int) -> None:
    y = _noisy("logistic_ceiling", [1.5, -3.0, 0.8], seed)
    th, _ = fit_batch(FORMS["logistic_ceiling"], T, y, np.ones_like(y))
    r, t0, k = th[0]
    assert k == pytest.approx(0.8, abs=0.03)
    assert r == pytest.approx(1.5, rel=0.25)
    assert t0 == pytest.approx(-3.0, abs=0.3)


@pytest.mark.parametrize("seed", range(5))
def test_gompertz_recovers_parameters(seed: int) -> None:
    y = _noisy("gompertz", [1.0, -3.0, 0.9], seed)
    th, _ = fit_batch(FORMS["gompertz"], T, y, np.ones_like(y))
    c, t0, k = th[0]
    assert c == pytest.approx(1.0, rel=0.25)
    assert t0 == pytest.approx(-3.0, abs=0.35)
    assert k == pytest.approx(0.9, abs=0.05)


def test_decreasing_share_gives_negative_rate() -> None:
    y = _noisy("logistic", [-1.0, -3.0], 11)
    th, _ = fit_batch(FORMS["logistic"], T, y, np.ones_like(y))
    assert th[0, 0] == pytest.approx(-1.0, rel=0.2)


@pytest.mark.parametrize("seed", range(3))
def test_fisher_pry_recovers_substitution_line(seed: int) -> None:
    rng = np.random.default_rng(seed)
    f = expit(0.4 + 0.9 * T)
    npair = np.full_like(T, 300.0)
    obs = rng.binomial(300, f) / 300
    ba, _ = fisher_pry_batch(T, obs, npair)
    assert ba[0, 0] == pytest.approx(0.9, rel=0.15)
    assert ba[0, 1] == pytest.approx(0.4, abs=0.2)


def test_batch_fits_many_rows_independently() -> None:
    thetas = [[0.8, -4.0], [2.0, -1.0], [-1.5, -3.0]]
    y = np.stack([_noisy("logistic", th, 3 + i, n=2000) for i, th in enumerate(thetas)])
    th, _ = fit_batch(FORMS["logistic"], T, y, np.ones_like(y))
    np.testing.assert_allclose(th, thetas, rtol=0.15, atol=0.15)


def test_bass_recovers_market_size() -> None:
    t = np.linspace(0.25, 8.0, 32)
    m, p, q = 400.0, 0.02, 0.9
    e = np.exp(-(p + q) * t)
    cum = m * (1 - e) / (1 + (q / p) * e)
    rng = np.random.default_rng(5)
    noisy = np.maximum.accumulate(cum + rng.normal(0, 2.0, size=t.size))
    fit = fit_bass(t, noisy)
    assert fit.ok
    assert fit.m == pytest.approx(m, rel=0.1)
    assert fit.q == pytest.approx(q, rel=0.25)


def test_bass_no_fit_on_flat_counts() -> None:
    fit = fit_bass(np.arange(8.0), np.full(8, 5.0))
    assert not fit.ok and "no growth" in fit.reason


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=6, max_size=20),
       st.sampled_from(sorted(FORMS)))
def test_fits_stay_in_bounds_and_never_lose_to_their_starts(ys: list[float], name: str) -> None:
    form = FORMS[name]
    t = np.linspace(-5, 0, len(ys))[None]
    y = np.array(ys)[None]
    w = np.ones_like(y)
    th, cost = fit_batch(form, t, y, w)
    lo, hi = bounds(form, t, w)
    assert np.all(th >= lo - 1e-12) and np.all(th <= hi + 1e-12)
    st0 = np.clip(starts(form, t, y, w)[0], lo, hi)
    start_costs = ((form.f(np.repeat(t, len(st0), 0), st0) - y) ** 2).sum(axis=1)
    assert cost[0] <= start_costs.min() + 1e-9


def test_lm_respects_bounds_when_truth_is_outside() -> None:
    y = _noisy("logistic", [3.9, -1.0], 2)[None]
    lo, hi = np.array([[-1.0, -30.0]]), np.array([[1.0, 30.0]])
    th, _ = levenberg_marquardt(FORMS["logistic"].f, np.array([[0.5, -2.0]]), lo, hi,
                                T[None], y, np.ones_like(y))
    assert th[0, 0] == pytest.approx(1.0)
