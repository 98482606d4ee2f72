"""The decision-area registry and the one place where option aliases are resolved."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import yaml

from convergent.errors import ConvergentError
from convergent.schema import UNKNOWN, Area, Layer, Registry

_UNKNOWN_SPELLINGS = {"unknown", "n/a", "na", "?", "undisclosed", "not disclosed", ""}


def norm_key(text: str) -> str:
    """Normalise a label for alias matching: case, spaces, '-', '_' and '.' do not matter."""
    return re.sub(r"[\s_\-./]+", "", text.strip().lower())


@cache
def registry() -> Registry:
    """Load the packaged area registry (validated)."""
    text = resources.files("convergent.catalog").joinpath("areas.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    groups: dict[str, list[str]] = raw.get("modality_groups", {})
    areas = {}
    for area_id, spec in raw["areas"].items():
        spec = dict(spec)
        applies = spec.get("applies_to", [])
        if isinstance(applies, str):
            applies = groups[applies]
        spec["applies_to"] = applies
        spec["options"] = {k: list(v or []) for k, v in (spec.get("options") or {}).items()}
        areas[area_id] = Area(area_id=area_id, **spec)
    layers = {k: Layer(**v) for k, v in raw["layers"].items()}
    return Registry(layers=layers, areas=areas)


def register_area(area: Area) -> None:
    """Add an area to this process's registry (user-defined areas, synthetic benchmarks)."""
    reg = registry()
    if area.layer not in reg.layers:
        raise ConvergentError(f"area {area.area_id!r}: unknown layer {area.layer!r}")
    reg.areas[area.area_id] = area
    _alias_table.cache_clear()


@cache
def _alias_table(area_id: str) -> dict[str, str]:
    area = registry().areas[area_id]
    table: dict[str, str] = {}
    for option, aliases in area.options.items():
        table[norm_key(option)] = option
        for alias in aliases:
            table[norm_key(alias)] = option
    return table


def get_area(area_id: str) -> Area:
    """Return an area by id, or raise a one-line error listing the known ones."""
    areas = registry().areas
    if area_id in areas:
        return areas[area_id]
    by_key = {norm_key(a): a for a in areas}
    if norm_key(area_id) in by_key:
        return areas[by_key[norm_key(area_id)]]
    raise ConvergentError(f"unknown area {area_id!r}; known areas: {', '.join(sorted(areas))}")


def is_unknown(label: object) -> bool:
    """True for the spellings that mean 'not known'."""
    return label is None or (isinstance(label, str) and label.strip().lower() in _UNKNOWN_SPELLINGS)


def canonical_option(area_id: str, label: str) -> str:
    """Map a user's label to the area's canonical option; unknown stays `unknown`."""
    if is_unknown(label):
        return UNKNOWN
    area = get_area(area_id)
    hit = _alias_table(area.area_id).get(norm_key(str(label)))
    if hit is not None:
        return hit
    if area.open_options:
        return str(label).strip()
    raise ConvergentError(
        f"unknown option {label!r} for area {area.area_id!r}; "
        f"options: {', '.join(area.options)}"
    )


def context_bucket(length: float | None) -> str:
    """The context_window option for a context length in tokens."""
    if length is None:
        return UNKNOWN
    if length < 32_000:
        return "<32K"
    if length < 128_000:
        return "32K-127K"
    if length < 1_000_000:
        return "128K-999K"
    return ">=1M"
