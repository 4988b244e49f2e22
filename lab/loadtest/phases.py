"""The phase rows Locust's processes wrote (loadtests/phases.py), added up and summarised.

Rows are kept by (phase, method, name): `setup` (register and login in `on_start`), `ramp` (tasks
while users were still arriving or logging in) and `steady` (every user running its tasks). The
headline of a run is the steady state; `requests` is the sum of every row, by construction.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from loadtests.phases import Row

#: The phases in the order a run goes through them.
PHASES = ("setup", "ramp", "steady")


def percentile(times: Counter[int], fraction: float) -> float | None:
    """The response time below which `fraction` of the requests fell (Locust's method)."""
    total = sum(times.values())
    if not total:
        return None
    wanted = total * fraction
    seen = 0
    for ms in sorted(times):
        seen += times[ms]
        if seen >= wanted:
            return float(ms)
    return float(max(times))


class Merged(Row):
    """One row merged over the processes that recorded it (a recorder's Row, plus its key)."""

    def __init__(self, phase: str, method: str, name: str):
        super().__init__()
        self.phase, self.method, self.name = phase, method, name

    def merge(self, row: dict[str, Any]) -> None:
        """Add one process's row (as `Row.to_json` wrote it)."""
        self.requests += row["requests"]
        self.failures += row["failures"]
        self.total_ms += row["total_ms"]
        self.max_ms = max(self.max_ms, row["max_ms"])
        self.times.update({int(float(k)): v for k, v in row["times"].items()})
        self.errors.update(row["errors"])

    def to_json(self, seconds: float | None = None) -> dict[str, Any]:  # type: ignore[override]
        """The row as summary.json shows it (req/s only where the window is known)."""
        return {
            "phase": self.phase,
            "type": self.method,
            "name": self.name,
            "requests": self.requests,
            "failures": self.failures,
            "rps": self.requests / seconds if seconds else None,
            "avg_ms": self.total_ms / self.requests if self.requests else None,
            "p50_ms": percentile(self.times, 0.50),
            "p95_ms": percentile(self.times, 0.95),
            "p99_ms": percentile(self.times, 0.99),
            "max_ms": self.max_ms if self.requests else None,
            "errors": dict(self.errors.most_common(5)),
        }


def read_recordings(directory: Path) -> list[dict[str, Any]]:
    """Every phases-<pid>.json the Locust processes wrote."""
    return [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("phases-*.json"))
    ]


def steady_seconds(recordings: list[dict[str, Any]]) -> float:
    """How long the steady state lasted (the median over processes: they ran side by side)."""
    per_process = [sum(end - start for start, end in rec["steady_windows"]) for rec in recordings]
    return statistics.median(per_process) if per_process else 0.0


def merge(recordings: list[dict[str, Any]]) -> dict[tuple[str, str, str], Merged]:
    """Rows merged over processes, by (phase, method, name)."""
    rows: dict[tuple[str, str, str], Merged] = {}
    for rec in recordings:
        for row in rec["rows"]:
            key = (row["phase"], row["method"], row["name"])
            rows.setdefault(key, Merged(*key)).merge(row)
    return rows


def total(rows: list[Merged], phase: str) -> Merged:
    """All rows of a list as one (the phase's aggregate)."""
    merged = Merged(phase, "", "Aggregated")
    for row in rows:
        merged.merge(Row.to_json(row))
    return merged


def summarise(directory: Path) -> dict[str, Any]:
    """Rows by phase, the steady aggregate (the headline) and the steady window's length."""
    recordings = read_recordings(directory)
    rows = merge(recordings)
    seconds = steady_seconds(recordings)
    ordered = sorted(rows.values(), key=lambda r: (PHASES.index(r.phase), r.name, r.method))
    by_phase = {phase: [r for r in ordered if r.phase == phase] for phase in PHASES}
    everything = total(ordered, "all")
    return {
        "processes": len(recordings),
        "steady_seconds": round(seconds, 1),
        "rows": [r.to_json(seconds if r.phase == "steady" else None) for r in ordered],
        "phases": {
            phase: total(found, phase).to_json(seconds if phase == "steady" else None)
            for phase, found in by_phase.items()
        },
        "requests": everything.requests,
        "failures": everything.failures,
        "errors": dict(everything.errors.most_common(10)),
    }
