"""The scaling section's honesty: may this run rank the servers (or the replica counts) at all?

Each point of the scaling curve is measured in a few short trials. One run of one second can
put either server ahead, so an order is called only when the trials say it: every trial of one
beat every trial of the other, by more than the trials of either differed among themselves.
Otherwise the report says "not distinguishable at this scale", which is also a result.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

Rows = list[dict[str, Any]]


def aggregate(trials: Rows) -> Rows:
    """One row per replica count and server: the median of its trials and their range."""
    groups: dict[tuple[int, str], Rows] = {}
    for row in trials:
        groups.setdefault((row["replicas"], row["server"]), []).append(row)
    out = []
    for (replicas, server), rows in groups.items():
        rps = [r["rps"] or 0.0 for r in rows]
        out.append(
            {
                **rows[0],
                "replicas": replicas,
                "server": server,
                "trials": len(rows),
                "rps": statistics.median(rps),
                "rps_low": min(rps),
                "rps_high": max(rps),
                "p50_ms": statistics.median(r["p50_ms"] or 0.0 for r in rows),
                "p95_ms": statistics.median(r["p95_ms"] or 0.0 for r in rows),
                "errors": sum(r["errors"] or 0 for r in rows),
                "generator_cpu": statistics.median(r["generator_cpu"] or 0.0 for r in rows),
            }
        )
    out.sort(key=lambda r: (r["replicas"], r["server"]))
    return out


@dataclass(frozen=True)
class Verdict:
    """Two points compared: which is ahead, if the trials allow saying so."""

    ahead: dict[str, Any]
    behind: dict[str, Any]
    #: True when every trial of `ahead` beat every trial of `behind` by more than the spread.
    distinguishable: bool


def spread(row: dict[str, Any]) -> float:
    """How much the trials of one point differed among themselves (requests/s)."""
    return (row.get("rps_high") or 0.0) - (row.get("rps_low") or 0.0)


def compare(a: dict[str, Any], b: dict[str, Any]) -> Verdict:
    """Which of two aggregated points served more requests/s, and whether that is measured."""
    ahead, behind = (a, b) if (a["rps"] or 0) >= (b["rps"] or 0) else (b, a)
    gap = (ahead["rps"] or 0) - (behind["rps"] or 0)
    separated = (ahead.get("rps_low") or 0) > (behind.get("rps_high") or 0)
    distinguishable = (
        ahead.get("trials", 1) > 1 and separated and gap > max(spread(ahead), spread(behind))
    )
    return Verdict(ahead, behind, distinguishable)
