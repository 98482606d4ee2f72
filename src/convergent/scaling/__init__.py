"""Scaling laws: fit forms to training runs, plan compute, compare forms by extrapolation.

Modules: `runs` (read and check a runs CSV), `forms` (the laws), `optim` (batched
Huber objective and L-BFGS), `fit` (multi-start fit and bootstrap), `optimal`
(compute-optimal allocation, isoFLOP approaches), `validate` (hold-out and compare).
Import them directly; this package imports nothing heavy.
"""

from typing import Any


def fit_store_runs(store: Any, cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fit the runs held in the store, one fit per group (see `store_runs`)."""
    from convergent.scaling.store_runs import fit_store_runs as _fit

    return _fit(store, cfg)
