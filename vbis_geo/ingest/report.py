"""The load report: every rejected or repaired row, with its row number, field, problem and the
expected form, as a CSV file and as a summary on screen.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

#: What happened to a row because of an issue.
REJECTED = "rejected"
REPAIRED = "repaired"
WARNING = "warning"
ACTIONS = (REJECTED, REPAIRED, WARNING)

REPORT_COLUMNS = ("row", "field", "action", "problem", "expected", "value")


@dataclass(frozen=True)
class Issue:
    """One problem found in the input.

    ``row`` is the 1-based row (feature) number as the user sees it in the source: the feature
    index in a vector file, the line number of a CSV file (header = line 1). ``row`` is None for
    a problem of the whole file.
    """

    row: int | None
    field: str
    action: str
    problem: str
    expected: str = ""
    value: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "field": self.field,
            "action": self.action,
            "problem": self.problem,
            "expected": self.expected,
            "value": self.value,
        }


@dataclass
class Report:
    """What a load (or a dry run) did: counts, the issues, and where it went."""

    layer: str
    source: str
    n_read: int = 0
    n_inserted: int = 0
    n_updated: int = 0
    n_unchanged: int = 0
    dry_run: bool = False
    written: bool = False
    source_crs: str | None = None
    encoding: str | None = None
    dataset_code: str | None = None
    #: which source column fed each field (so that a user can check the mapping)
    columns: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def add(
        self,
        row: int | None,
        field_name: str,
        action: str,
        problem: str,
        expected: str = "",
        value: object = "",
    ) -> None:
        missing = value is None or value is pd.NA or (isinstance(value, float) and value != value)
        self.issues.append(
            Issue(row, field_name, action, problem, expected, "" if missing else str(value))
        )

    def rows_with(self, action: str) -> set[int]:
        """The row numbers with at least one issue of ``action``."""
        return {i.row for i in self.issues if i.action == action and i.row is not None}

    @property
    def file_errors(self) -> list[Issue]:
        """Rejections of the whole file (no row number): nothing can be loaded."""
        return [i for i in self.issues if i.action == REJECTED and i.row is None]

    @property
    def n_rejected(self) -> int:
        return len(self.rows_with(REJECTED))

    @property
    def n_repaired(self) -> int:
        return len(self.rows_with(REPAIRED) - self.rows_with(REJECTED))

    @property
    def n_loaded(self) -> int:
        return self.n_inserted + self.n_updated + self.n_unchanged

    @property
    def ok(self) -> bool:
        """True when nothing was rejected."""
        return not any(i.action == REJECTED for i in self.issues)

    def write_csv(self, path: Path) -> None:
        """Write the issues, one per line, sorted by row, to ``path`` (UTF-8 with BOM for Excel)."""
        path.write_text(self.csv_text(), encoding="utf-8-sig")

    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for issue in sorted(self.issues, key=lambda i: (i.row or 0, i.field)):
            writer.writerow(issue.as_dict())
        return out.getvalue()

    def summary(self, max_lines: int = 20) -> str:
        """A few lines for the screen: the counts, then the commonest problems."""
        if self.dry_run:
            verb = "dry run, nothing written" + ("" if self.ok else " (and a load would fail)")
        else:
            verb = "loaded" if self.written else "nothing loaded"
        lines = [
            f"{self.source} -> {self.layer}: {self.n_read:,} rows read, {self.n_rejected:,} "
            f"rejected, {self.n_repaired:,} repaired; {verb}"
            + (
                f": {self.n_inserted:,} new, {self.n_updated:,} updated, "
                f"{self.n_unchanged:,} unchanged"
                if self.written
                else ""
            )
        ]
        if self.source_crs:
            lines.append(f"  CRS: {self.source_crs}")
        if self.encoding:
            lines.append(f"  text encoding: {self.encoding}")
        if self.columns:
            mapped = ", ".join(
                name if name == column else f"{name} <- {column}"
                for name, column in self.columns.items()
            )
            lines.append(f"  fields: {mapped}")
        for issue in self.file_errors:
            expected = f" (expected {issue.expected})" if issue.expected else ""
            lines.append(f"  error: {issue.problem}{expected}")
        for issue in self.issues:
            if issue.row is None and issue.action == WARNING:
                lines.append(f"  note: {issue.problem}")
        common = Counter((i.action, i.field, i.problem) for i in self.issues if i.row is not None)
        for (action, field_name, problem), n in common.most_common(max_lines):
            lines.append(f"  {n:>7,} x {action} {field_name}: {problem}")
        return "\n".join(lines)

    def as_dict(self, max_issues: int = 1000) -> dict[str, object]:
        """JSON-ready form for the API; ``issues`` is cut at ``max_issues`` (see ``n_issues``)."""
        ordered = sorted(self.issues, key=lambda i: (i.row or 0, i.field))
        return {
            "layer": self.layer,
            "source": self.source,
            "dry_run": self.dry_run,
            "written": self.written,
            "ok": self.ok,
            "source_crs": self.source_crs,
            "encoding": self.encoding,
            "dataset": self.dataset_code,
            "columns": self.columns,
            "counts": {
                "read": self.n_read,
                "rejected": self.n_rejected,
                "repaired": self.n_repaired,
                "inserted": self.n_inserted,
                "updated": self.n_updated,
                "unchanged": self.n_unchanged,
            },
            "n_issues": len(self.issues),
            "issues": [i.as_dict() for i in ordered[:max_issues]],
        }
