"""The shared batched Levenberg-Marquardt: planted optima, bounds, start pruning, scipy check."""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

from convergent.scaling.lm import levenberg_marquardt


def _decay(q: np.ndarray, t: np.ndarray) -> np.ndarray:
    """y = a·exp(−k t) + c for parameter rows (a, k, c)."""
    return q[:, 0:1] * np.exp(-q[:, 1:2] * t) + q[:, 2:3]


def _decay_jac(q: np.ndarray, t: np.ndarray) -> np.ndarray:
    e = np.exp(-q[:, 1:2] * t)
    return np.stack([e, -q[:, 0:1] * t * e, np.ones_like(t)], axis=1)


T = np.linspace(0.0, 4.0, 25)
LO, HI = np.array([0.0, 0.0, -5.0]), np.array([10.0, 5.0, 5.0])


def test_recovers_planted_parameters_of_many_problems_at_once() -> None:
    rng = np.random.default_rng(0)
    truth = np.column_stack([rng.uniform(1, 5, 40), rng.uniform(0.3, 2, 40),
                             rng.uniform(-1, 1, 40)])
    t = np.tile(T, (40, 1))
    y = _decay(truth, t)
    res = levenberg_marquardt(_decay, _decay_jac, y, np.ones_like(y),
                              np.tile([1.0, 1.0, 0.0], (40, 1)), LO, HI, (t,))
    assert np.allclose(res.x, truth, atol=1e-5)
    assert (res.cost < 1e-10).all()
    assert res.converged.all()


def test_zero_weight_points_are_ignored() -> None:
    t = T[None, :]
    y = _decay(np.array([[2.0, 1.0, 0.5]]), t)
    w = np.ones_like(y)
    y[0, 3], w[0, 3] = 100.0, 0.0                      # an outlier with no weight
    res = levenberg_marquardt(_decay, _decay_jac, y, w, np.array([[1.0, 0.5, 0.0]]),
                              LO, HI, (t,))
    assert np.allclose(res.x[0], [2.0, 1.0, 0.5], atol=1e-6)


def test_bound_is_respected_and_matches_scipy_bounded_solution() -> None:
    # the unconstrained optimum has c = -2; with c >= -1 the answer sits on the bound
    t = T[None, :]
    rng = np.random.default_rng(3)
    y = _decay(np.array([[3.0, 0.8, -2.0]]), t) + rng.normal(0, 0.01, t.shape)
    lo = np.array([0.0, 0.0, -1.0])
    res = levenberg_marquardt(_decay, _decay_jac, y, np.ones_like(y),
                              np.array([[1.0, 1.0, 0.0]]), lo, HI, (t,), max_iter=400,
                              rtol=1e-13)
    ref = least_squares(lambda q: _decay(q[None, :], t)[0] - y[0], [1.0, 1.0, 0.0],
                        bounds=(lo, HI), ftol=1e-15, xtol=1e-15, gtol=1e-15)
    assert res.x[0, 2] == -1.0
    assert np.allclose(res.x[0], ref.x, atol=1e-5)
    assert res.cost[0] <= 2 * ref.cost * (1 + 1e-6)


def test_pruning_keeps_the_cheapest_start_of_each_problem() -> None:
    truth = np.array([[2.0, 1.0, 0.0], [4.0, 0.5, 1.0]])
    t = np.tile(T, (6, 1))
    y = _decay(np.repeat(truth, 3, axis=0), t)
    starts = np.array([[9.0, 4.5, 4.0], [2.1, 1.1, 0.0], [0.1, 0.1, -4.0]] * 2)
    groups = np.repeat([0, 1], 3)
    res = levenberg_marquardt(_decay, _decay_jac, y, np.ones_like(y), starts, LO, HI, (t,),
                              groups=groups, prune_at=2)
    best = res.cost.reshape(2, 3).argmin(axis=1)
    assert np.allclose(res.x.reshape(2, 3, 3)[[0, 1], best], truth, atol=1e-5)
    # the starts that left the batch stopped at the pruning iteration
    assert (np.sort(res.n_iter.reshape(2, 3), axis=1)[:, :2] == 2).all()
