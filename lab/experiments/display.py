"""Tables of tidy rows, for notebooks (rendered as HTML) and the report (the same HTML).

No pandas: the rows are short, and a notebook that shows a plain table needs nothing more.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any


def fmt(value: Any) -> str:
    """A value as a person reads it: floats rounded, lists and dicts flattened."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if abs(value) >= 1e6:  # timestamps and the like: no thousands separators
            return f"{value:.1f}"
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {fmt(v)}" for k, v in value.items())
    return str(value)


def html_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """An HTML table of tidy rows."""
    if not rows:
        return "<p><em>no rows</em></p>"
    columns = list(columns or rows[0].keys())
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(fmt(row.get(c)))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def text_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """The same table as aligned plain text (for terminals and text-only notebook viewers)."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())
    cells = [[fmt(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(str(c)), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


class Table:
    """Rows that Jupyter shows as an HTML table (and `print` shows as text)."""

    def __init__(self, rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None):
        self.rows = list(rows)
        self.columns = list(columns) if columns else None

    def _repr_html_(self) -> str:
        return html_table(self.rows, self.columns)

    def __repr__(self) -> str:
        return text_table(self.rows, self.columns)


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> Table:
    """Show tidy rows as a table: the last expression of a notebook cell."""
    return Table(rows, columns)
