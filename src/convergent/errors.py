"""Errors users see as one line: what is wrong and where."""

from __future__ import annotations


class ConvergentError(Exception):
    """A problem with the user's input or request; the CLI prints it and exits 2."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class ValidationProblems(ConvergentError):
    """Several problems found at once (e.g. catalog validation); each names its place."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        head = problems[0] if problems else "invalid input"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(head + more)
