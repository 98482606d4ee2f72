"""Thresholds and settings: the packaged defaults, overlaid by a user's --config file."""

from __future__ import annotations

import copy
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from convergent.errors import ConvergentError
from convergent.levels import LEVELS


@cache
def _defaults() -> dict[str, Any]:
    text = resources.files("convergent.config").joinpath("defaults.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _merge(base: dict[str, Any], over: dict[str, Any], path: str, where: str) -> None:
    for key, value in over.items():
        if key not in base:
            raise ConvergentError(f"unknown setting {path}{key}", where=where)
        if isinstance(base[key], dict) and base[key] and isinstance(value, dict):
            _merge(base[key], value, f"{path}{key}.", where)
        else:
            base[key] = value


def _check(cfg: dict[str, Any], where: str) -> None:
    c = cfg["classify"]
    for key in ("l4_share", "l3_share", "l2_share", "duopoly_second_share",
                "l0_segment_leader_share", "l0_min_nmi"):
        v = c[key]
        if not isinstance(v, int | float) or not 0 < v <= 1:
            raise ConvergentError(f"classify.{key} = {v!r} must be in (0, 1]", where=where)
    if not c["l2_share"] < c["l3_share"] <= c["l4_share"]:
        raise ConvergentError(
            "thresholds must satisfy l2_share < l3_share <= l4_share "
            f"(got {c['l2_share']}, {c['l3_share']}, {c['l4_share']})", where=where)
    for key in ("min_n", "min_n_segment"):
        if not isinstance(c[key], int) or c[key] < 1:
            raise ConvergentError(f"classify.{key} = {c[key]!r} must be a positive integer",
                                  where=where)
    stars = cfg["certainty"]["stars"]
    bad = any(not 0 <= s <= 1 for s in stars) or sorted(stars, reverse=True) != stars
    if len(stars) != 4 or bad:
        raise ConvergentError("certainty.stars must be four decreasing numbers in [0, 1]",
                              where=where)
    if int(cfg["certainty"]["resamples"]) < 10:
        raise ConvergentError("certainty.resamples must be at least 10", where=where)
    bands = cfg["degree"]["bands"]
    prev = 0.0
    for level in LEVELS:
        lo, hi = bands[level]
        if not prev <= lo <= hi <= 100:
            raise ConvergentError(f"degree.bands.{level} = {bands[level]} must be increasing "
                                  "within 0-100 and not overlap the band below", where=where)
        prev = lo
    if int(cfg["window"]["months"]) < 1:
        raise ConvergentError("window.months must be at least 1", where=where)


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """Return the settings: defaults, overlaid by the YAML file at `path` when given."""
    cfg = copy.deepcopy(_defaults())
    where = "defaults"
    if path is not None:
        where = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise ConvergentError(f"cannot read config: {exc.strerror}", where=where) from None
        try:
            over = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            loc = f"{where}:{mark.line + 1}" if mark else where
            raise ConvergentError("not valid YAML", where=loc) from None
        if not isinstance(over, dict):
            raise ConvergentError("a config file must be a mapping", where=where)
        _merge(cfg, over, "", where)
    _check(cfg, where)
    return cfg
