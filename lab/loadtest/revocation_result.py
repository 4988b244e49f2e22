"""The revocation scenario's result: how long a stolen copy kept working, per replica."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from ..api import Lab


def revocation_summary(
    jsonl: Path, rows: list[dict[str, Any]], lab: Lab, server: str
) -> dict[str, Any] | None:
    """The window per replica: from the JSON lines, else from Locust's REVOCATION rows."""
    trials: list[dict[str, Any]] = []
    if jsonl.exists():
        for line in jsonl.read_text(encoding="utf-8").splitlines():
            if line.strip():
                trials.append(json.loads(line))
    metric_rows = [r for r in rows if r["type"] == "REVOCATION"]
    if not trials and not metric_rows:
        return None
    summary: dict[str, Any] = {
        "metric": "window_ms: time from the revocation's answer to the last answer that still "
        "let the attacker in, per replica (0: refused at once)",
        "source": "revocation.jsonl" if trials else "locust_stats.csv (REVOCATION rows)",
        "access_ttl_s": lab.config.access_ttl if server == "jwt" else None,
    }
    if trials:
        per_replica: dict[str, list[float]] = {}
        for trial in trials:
            per_replica.setdefault(trial["replica"], []).append(float(trial["window_ms"]))
        windows = [w for values in per_replica.values() for w in values]
        summary.update(
            {
                "actions": sorted({t["action"] for t in trials}),
                "trials": len({(t.get("time"), t.get("host")) for t in trials}),
                "samples": len(trials),
                "max_ms": max(windows),
                "mean_ms": statistics.fmean(windows),
                "median_ms": statistics.median(windows),
                "open_at_end": sum(1 for t in trials if t.get("open_at_end")),
                # > 0: someone was let in after the `valid_until` the server announced.
                "max_past_valid_until_ms": max(
                    (
                        t["past_valid_until_ms"]
                        for t in trials
                        if t.get("past_valid_until_ms") is not None
                    ),
                    default=None,
                ),
                "server_said_revoked": sum(1 for t in trials if t.get("server_revoked") is True),
                "server_said_not_revoked": sum(
                    1 for t in trials if t.get("server_revoked") is False
                ),
                "per_replica": {
                    replica: {
                        "samples": len(values),
                        "max_ms": max(values),
                        "mean_ms": statistics.fmean(values),
                        "median_ms": statistics.median(values),
                    }
                    for replica, values in sorted(per_replica.items())
                },
            }
        )
    else:
        summary.update(
            {
                "samples": sum(r["requests"] for r in metric_rows),
                "max_ms": max(r["max_ms"] or 0 for r in metric_rows),
                "per_replica": {
                    r["name"].removeprefix("window:"): {
                        "samples": r["requests"],
                        "max_ms": r["max_ms"],
                        "mean_ms": r["avg_ms"],
                        "median_ms": r["p50_ms"],
                    }
                    for r in metric_rows
                },
            }
        )
    return summary
