"""Progress bars on stderr for grids and bootstraps, shown only on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def enabled(flag: bool | None) -> bool:
    """Whether to draw bars: as asked, or when stderr is a terminal."""
    return sys.stderr.isatty() if flag is None else bool(flag)


@contextmanager
def bar(label: str, total: int, show: bool | None = None) -> Iterator[Callable[[int], None] | None]:
    """A callback advancing a bar by n finished items, or None when bars are off."""
    if not enabled(show) or total <= 0:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as prog:
        task = prog.add_task(label, total=total)
        yield lambda n: prog.advance(task, n)
