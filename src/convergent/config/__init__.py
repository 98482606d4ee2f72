"""Thresholds and settings: the packaged defaults, overlaid by a user's --config file.

The merged settings are validated by the pydantic models in `convergent.config.model`
(ordered thresholds, ordered non-overlapping degree bands, bounded counts); the first
problem is reported as one line naming the key.
"""

from __future__ import annotations

import copy
import re
import reprlib
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from convergent.errors import ConvergentError
from convergent.levels import LEVELS

MAX_CONFIG_BYTES = 1 << 20      # a settings file is a few hundred bytes; refuse megabytes
MAX_ALIASES = 100               # YAML aliases a settings file may use ...
MAX_NODES = 10_000              # ... and the values it may expand to (billion laughs)
MAX_DEPTH = 20                  # nesting depth of a settings file

__all__ = ["LEVELS", "load_config", "parse_yaml", "validate"]


@cache
def _defaults() -> dict[str, Any]:
    text = resources.files("convergent.config").joinpath("defaults.yaml").read_text("utf-8")
    return parse_yaml(text, "defaults")


def parse_yaml(text: str, where: str) -> Any:
    """Safe YAML with bounded aliases and depth; dates stay text for the validators."""
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader without timestamp resolution, counting aliases and depth."""

        aliases = 0
        depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_ALIASES:
                    raise ConvergentError(f"more than {MAX_ALIASES} YAML aliases", where=where)
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ConvergentError(f"nested deeper than {MAX_DEPTH} levels", where=where)
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}) > MAX_NODES:
            raise ConvergentError(f"expands to more than {MAX_NODES} values", where=where)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "syntax error"
        loc = f"{where}:{mark.line + 1}" if mark else where
        raise ConvergentError(f"not valid YAML ({problem})", where=loc) from None
    finally:
        loader.dispose()


def _expanded_size(node: Any, memo: dict[int, int]) -> int:
    """Values a YAML node stands for once its aliases are expanded (memoised, so linear)."""
    key = id(node)
    if key not in memo:
        memo[key] = 1
        value = node.value
        if isinstance(value, list):
            items = [x for pair in value for x in (pair if isinstance(pair, tuple) else (pair,))]
            memo[key] = 1 + sum(min(_expanded_size(x, memo), MAX_NODES + 1) for x in items)
    return memo[key]


def _read(path: Path) -> str:
    """The text of a settings file: a regular file, at most 1 MiB, UTF-8."""
    from convergent.userfiles import read_text

    return read_text(path, "config file", max_bytes=MAX_CONFIG_BYTES)


def _merge(base: dict[str, Any], over: dict[Any, Any], path: str, where: str) -> None:
    for key, value in over.items():
        if key not in base:
            raise ConvergentError(f"unknown setting {path}{key}", where=where)
        if isinstance(base[key], dict) and base[key] and isinstance(value, dict):
            _merge(base[key], value, f"{path}{key}.", where)
        else:
            base[key] = value


def validate(cfg: dict[str, Any], where: str) -> dict[str, Any]:
    """The settings checked by the pydantic models, as plain data; one line on error."""
    from pydantic import ValidationError

    from convergent.config.model import Settings

    try:
        return Settings.model_validate(cfg).model_dump()
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        key = ".".join(str(p) for p in err["loc"])
        got = reprlib.repr(err.get("input"))
        msg = re.sub(r" or instance of \w+", "", err["msg"].removeprefix("Value error, "))
        text = f"{key}: {msg}" if key else msg
        if err["type"] not in ("missing",) and "ordered" not in msg:
            text += f" (got {got})"
        raise ConvergentError(text, where=where) from None


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """Return the settings: defaults, overlaid by the YAML file at `path` when given."""
    cfg = copy.deepcopy(_defaults())
    where = "defaults"
    if path is not None:
        where = str(path)
        over = parse_yaml(_read(Path(path)), where)
        if over is None:
            over = {}
        if not isinstance(over, dict):
            raise ConvergentError("a config file must be a mapping", where=where)
        _merge(cfg, over, "", where)
    return validate(cfg, where)
