"""What an ingest did, and the bad cells it found, each named by row and column."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from convergent.errors import ConvergentError


@dataclass
class IngestReport:
    """What one ingest did: row counts, conflicts with existing evidence, skipped rows."""

    source: str
    path: str
    origin: str
    source_id: str
    snapshot: str | None
    rows_read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    matched: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    skipped_rows: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return dict(self.__dict__)


@dataclass
class Problem:
    """One bad cell: data row (1-based record number, header = row 1), column and message."""

    row: int
    column: str | None
    message: str

    def text(self, name: str) -> str:
        """One line naming file, row and column."""
        col = f", column {self.column!r}" if self.column else ""
        return f"{name}: row {self.row}{col}: {self.message}"


class Problems:
    """Collected bad rows; either raise them all as one error or drop their rows."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.items: list[Problem] = []

    def add(self, row: int, column: str | None, message: str) -> None:
        """Record one problem."""
        self.items.append(Problem(row, column, message))

    def bad_rows(self) -> set[int]:
        """Row numbers (header = 1) that have at least one problem."""
        return {p.row for p in self.items}

    def resolve(self, skip_bad_rows: bool, report: IngestReport) -> set[int]:
        """Raise on any problem unless skipping; when skipping, log every skipped row."""
        if not self.items:
            return set()
        items = sorted(self.items, key=lambda p: (p.row, p.column or ""))
        if not skip_bad_rows:
            first = items[0]
            more = len(items) - 1
            tail = f" (and {more} more problem(s); --skip-bad-rows drops bad rows)" if more else ""
            col = f":{first.column}" if first.column else ""
            where = f"row {first.row}" + (f", column {first.column!r}" if first.column else "")
            raise ConvergentError(f"{where}: {first.message}{tail}; nothing was ingested",
                                  where=f"{self.name}:{first.row}{col}")
        report.skipped_rows.extend(p.text(self.name) for p in items)
        rows = self.bad_rows()
        report.skipped = len(rows)
        return rows
