"""The built-in catalog's parsed frames are cached by content and rebuilt when damaged."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from convergent.cache import cache_dir
from convergent.catalog.load import builtin_frames, load_catalog


@pytest.fixture
def tmp_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return cache_dir()


def _same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])


def test_cached_frames_equal_a_fresh_parse(tmp_cache: Path) -> None:
    fresh = load_catalog().frames()
    first = builtin_frames()
    assert len(list(tmp_cache.glob("catalog-*.pkl"))) == 1
    _same(first, fresh)
    _same(builtin_frames(), fresh)


def test_damaged_cache_is_rebuilt(tmp_cache: Path) -> None:
    builtin_frames()
    (path,) = tmp_cache.glob("catalog-*.pkl")
    path.write_bytes(b"not a pickle")
    _same(builtin_frames(), load_catalog().frames())
    assert not path.exists() or path.read_bytes() != b"not a pickle"


def test_unwritable_cache_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    _same(builtin_frames(), load_catalog().frames())
