"""Locust's CSV files read as numbers (the final stats, and the per-second history)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any


def number(value: str | None) -> float | None:
    """A CSV cell as a number (None for empty or N/A)."""
    try:
        return float(value) if value not in (None, "", "N/A") else None
    except ValueError:
        return None


def read_stats(path: Path) -> list[dict[str, Any]]:
    """Locust's final stats CSV as rows of numbers."""
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [
        {
            "type": row.get("Type") or "",
            "name": row["Name"],
            "requests": int(number(row.get("Request Count")) or 0),
            "failures": int(number(row.get("Failure Count")) or 0),
            "rps": number(row.get("Requests/s")),
            "avg_ms": number(row.get("Average Response Time")),
            "p50_ms": number(row.get("50%")),
            "p95_ms": number(row.get("95%")),
            "p99_ms": number(row.get("99%")),
            "max_ms": number(row.get("Max Response Time")),
        }
        for row in rows
    ]
