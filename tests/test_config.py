"""The config file: defaults, overlays and impossible thresholds."""

from __future__ import annotations

from pathlib import Path

import pytest

from convergent.config import load_config
from convergent.errors import ConvergentError


def test_defaults_load() -> None:
    cfg = load_config()
    assert cfg["classify"]["l4_share"] == 0.95
    assert cfg["certainty"]["stars"] == [0.95, 0.80, 0.60, 0.40]


def test_overlay_keeps_other_defaults(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("classify:\n  min_n: 25\n")
    cfg = load_config(p)
    assert cfg["classify"]["min_n"] == 25
    assert cfg["classify"]["l2_share"] == 0.5


@pytest.mark.parametrize("text, needle", [
    ("classify:\n  l4_share: 1.5\n", "l4_share"),
    ("classify:\n  min_n: 0\n", "min_n"),
    ("classify:\n  nonsense: 1\n", "unknown setting classify.nonsense"),
    ("certainty:\n  stars: [0.4, 0.6, 0.8, 0.95]\n", "certainty.stars"),
    ("degree:\n  bands:\n    L3: [95, 99]\n", "degree.bands"),
    ("classify: [1, 2\n", "not valid YAML"),
    ("- just a list\n", "must be a mapping"),
])
def test_bad_configs_name_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(ConvergentError, match=needle.replace(".", r"\.")) as exc:
        load_config(p)
    assert str(p) in str(exc.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConvergentError, match="cannot read config"):
        load_config(tmp_path / "absent.yaml")
