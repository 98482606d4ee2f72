"""The Bass diffusion fit recovers a planted market size and refuses flat counts."""

from __future__ import annotations

import numpy as np
import pytest

from convergent.forecast.curves import fit_bass


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
