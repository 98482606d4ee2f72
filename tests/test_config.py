"""The config file: defaults, overlays, and every bad file refused with one line naming the key."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from convergent.config import load_config
from convergent.errors import ConvergentError


def test_defaults_load() -> None:
    cfg = load_config()
    assert cfg["classify"]["l4_share"] == 0.95
    assert cfg["certainty"]["stars"] == [0.95, 0.80, 0.60, 0.40]
    assert cfg["degree"]["bands"]["L2"] == [45.0, 75.0]


def test_overlay_keeps_other_defaults(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("classify:\n  min_n: 25\n  l4_share: 1\n")
    cfg = load_config(p)
    assert cfg["classify"]["min_n"] == 25
    assert cfg["classify"]["l4_share"] == 1.0          # an integer is a number
    assert cfg["classify"]["l2_share"] == 0.5


def test_empty_file_is_the_defaults(tmp_path: Path) -> None:
    p = tmp_path / "empty.yaml"
    p.write_text("# nothing here\n")
    assert load_config(p) == load_config()


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    p = tmp_path / "alias.yaml"
    p.write_text("layers:\n  weights:\n    optimizer: &w 2\n    ffn: *w\n")
    assert load_config(p)["layers"]["weights"] == {"optimizer": 2.0, "ffn": 2.0}


LAUGHS = "layers:\n  weights:\n    a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"    {b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n"
    for a, b in zip("abcdefgh", "bcdefghi", strict=True))

BAD = [
    # key named, in the order a reader meets them
    ("classify:\n  l4_share: 1.5\n", "classify.l4_share", "less than or equal to 1"),
    ("classify:\n  l4_share: true\n", "classify.l4_share", "valid number"),
    ("classify:\n  l2_share: .nan\n", "classify.l2_share", "finite"),
    ("classify:\n  min_n: 0\n", "classify.min_n", "greater than or equal to 1"),
    ("classify:\n  min_n: 2.5\n", "classify.min_n", "integer"),
    ("classify:\n  l3_share: 0.4\n", "classify", "l2_share < l3_share < l4_share"),
    ("classify:\n  l3_share: 0.96\n", "classify", "l2_share < l3_share < l4_share"),
    ("classify: null\n", "classify", "valid dictionary"),
    ("classify:\n  nonsense: 1\n", "unknown setting classify.nonsense", ""),
    ("window:\n  months: twelve\n", "window.months", "integer"),
    ("window:\n  months: 1000000000\n", "window.months", "less than or equal to 600"),
    ("window:\n  trend_step_months: 5\n", "window.trend_step_months", "divide 12"),
    ("window:\n  trend_step_months: true\n", "window.trend_step_months", "integer"),
    ("window:\n  trend_span_months: 3\n", "window", "two trend steps"),
    ("certainty:\n  resamples: lots\n", "certainty.resamples", "integer"),
    ("certainty:\n  resamples: 1000000000\n", "certainty.resamples", "100000"),
    ("certainty:\n  resamples: 5\n", "certainty.resamples", "10"),
    ("certainty:\n  normal_min_expected: 2\n", "certainty.normal_min_expected", "5"),
    ("certainty:\n  seed: abc\n", "certainty.seed", "integer"),
    ("certainty:\n  stars: abcd\n", "certainty.stars", "list"),
    ("certainty:\n  stars: [0.4, 0.6, 0.8, 0.95]\n", "certainty.stars", "decreasing"),
    ("certainty:\n  stars: [0.9, 0.8]\n", "certainty.stars", "at least 4"),
    ("certainty:\n  jitter_months: -1\n", "certainty.jitter_months", "greater than"),
    ("degree:\n  bands: []\n", "degree.bands", "dictionary"),
    ("degree:\n  bands:\n    L2: [45, 85]\n", "degree.bands", "must not overlap"),
    ("degree:\n  bands:\n    L3: [95, 99]\n", "degree.bands", "must not overlap"),
    ("degree:\n  bands:\n    L1: [45, 20]\n", "degree.bands", "must rise"),
    ("degree:\n  bands:\n    L5: [0, 1]\n", "unknown setting degree.bands.L5", ""),
    ("degree:\n  bands:\n    L4: [90, 101]\n", "degree.bands.L4.1", "100"),
    ("capability:\n  k: 1\n", "capability.k", "2"),
    ("capability:\n  spread_pct: {L4: 3, L3: 2, L2: 5}\n", "capability.spread_pct", "L4 < L3"),
    ("capability:\n  distinct_organizations: 1\n", "capability.distinct_organizations",
     "boolean"),
    ("capability:\n  window_months: 0\n", "capability.window_months", "1"),
    ("capability:\n  saturated_max_level: L5\n", "capability.saturated_max_level", "L1"),
    ("capability:\n  ceilings: [[MMLU]]\n", "capability.ceilings.0.1", "required"),
    ("capability:\n  items: [[MMLU, -3]]\n", "capability.items.0.1", "greater than"),
    ("advice:\n  adopt_min_stars: 6\n", "advice.adopt_min_stars", "5"),
    ("drivers:\n  compute_since: 2023-02-29\n", "drivers.compute_since", "not a real date"),
    ("drivers:\n  compute_since: 1800-01-01\n", "drivers.compute_since", "1950"),
    ("drivers:\n  confidence: 1\n", "drivers.confidence", "less than 1"),
    ("forecast:\n  bootstrap: 100000000\n", "forecast.bootstrap", "100000"),
    ("forecast:\n  stars_mae: [0.2, 0.1, 0.05, 0.01]\n", "forecast.stars_mae", "increasing"),
    ("layers:\n  weights: {optimizer: -1}\n", "layers.weights.optimizer", "greater than"),
    # files that are not settings at all
    ("classify: [1, 2\n", "not valid YAML", ""),
    ("- just a list\n", "must be a mapping", ""),
    ("a: " + "[" * 10_000 + "]" * 10_000 + "\n", "nested deeper than", ""),
    (LAUGHS, "expands to more than", ""),
]


@pytest.mark.parametrize("text, key, needle", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_configs_name_the_key(tmp_path: Path, text: str, key: str, needle: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(ConvergentError) as exc:
        load_config(p)
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith(str(p))
    assert key in msg
    assert needle in msg


@pytest.mark.parametrize("data, needle", [
    ("classify:\n  min_n: 5  # café\n".encode("latin-1"), "not valid UTF-8 text (byte 27)"),
    (b"\x1f\x8b\x08\x00" + bytes(range(200)), "gzip-compressed"),
    (b"x: 1\n" * 300_000, "more than the 1,048,576 allowed"),
    (b"classify:\n  min_n: 5\x00\n", "NUL"),
])
def test_undecodable_or_huge_files(tmp_path: Path, data: bytes, needle: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_bytes(data)
    with pytest.raises(ConvergentError, match=re.escape(needle)):
        load_config(p)


def test_utf16_with_byte_order_mark_is_read(tmp_path: Path) -> None:
    p = tmp_path / "wide.yaml"
    p.write_bytes("classify:\n  min_n: 5\n".encode("utf-16"))
    assert load_config(p)["classify"]["min_n"] == 5


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConvergentError, match="config file not found"):
        load_config(tmp_path / "absent.yaml")


def test_folder_and_fifo_are_refused_without_hanging(tmp_path: Path) -> None:
    with pytest.raises(ConvergentError, match="is a folder"):
        load_config(tmp_path)
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConvergentError, match="not a regular file"):
        load_config(fifo)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    p = tmp_path / "secret.yaml"
    p.write_text("classify:\n  min_n: 5\n")
    p.chmod(0)
    with pytest.raises(ConvergentError, match="permission denied"):
        load_config(p)


@pytest.mark.parametrize("name, data, needle", [
    ("bands.yaml", b"degree:\n  bands:\n    L2: [45, 85]\n", "degree.bands"),
    ("latin1.yaml", "classify:\n  min_n: 5  # café\n".encode("latin-1"), "UTF-8"),
    ("pipe.yaml", None, "not a regular file"),
])
def test_cli_bad_config_exits_2_with_one_line(tmp_path: Path, name: str, data: bytes | None,
                                              needle: str) -> None:
    p = tmp_path / name
    if data is None:
        os.mkfifo(p)
    else:
        p.write_bytes(data)
    res = subprocess.run([sys.executable, "-c", "from convergent.cli import main; main()",
                          "classify", "--config", str(p)], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert needle in lines[0] and str(p) in lines[0] and res.stdout == ""
