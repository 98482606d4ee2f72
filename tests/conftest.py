"""Shared fixtures: where the real data sets live, and small stores."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data"


def shared_file(name: str) -> Path:
    """Path of a real data set under ../shared/data, or skip the test when it is absent."""
    path = DATA / name
    if not path.exists():
        pytest.skip(f"real data set {name} not found at ../shared/data (clone without shared/)")
    return path


@pytest.fixture
def epoch_csv() -> Path:
    """Epoch AI Notable Models CSV."""
    return shared_file("epoch-notable-ai-models-to-2023.csv")


@pytest.fixture
def chinchilla_csv() -> Path:
    """Chinchilla Figure 4 points."""
    return shared_file("chinchilla-figure4-points.csv")


@pytest.fixture
def obsscaling_csv() -> Path:
    """Observational-scaling benchmark table."""
    return shared_file("obsscaling-base-llm-benchmark-eval.csv")
