"""A user-level cache for derived files that are slow to rebuild (never for evidence itself)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def cache_dir() -> Path:
    """`$XDG_CACHE_HOME/convergent`, or `~/.cache/convergent`."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "convergent"


def cached_bytes(name: str, build: Callable[[], bytes]) -> bytes:
    """The cached file `name`, or `build()` written there atomically.

    A missing, unreadable or unwritable cache only costs the rebuild; `name` must change
    whenever the inputs do (put a version or content hash in it).
    """
    path = cache_dir() / name
    try:
        return path.read_bytes()
    except OSError:
        pass
    data = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        pass
    return data
