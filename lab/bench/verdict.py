"""What the runs of `python -m lab bench --http` say: each contestant's figures over the rounds
and as ratios of the floor, issue 10's targets met or not, and the reasons to doubt a run."""

from __future__ import annotations

import statistics
from dataclasses import asdict
from typing import Any

from .contestants import FLOOR, SESSION, USUAL, jwt_name
from .contestants.running import Running
from .wrk import WrkRun


def spread(values: list[float]) -> dict[str, float]:
    """Median, min and max of one figure over the rounds."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def ratios(runs: list[WrkRun], floor: list[WrkRun]) -> dict[str, dict[str, float]]:
    """Each figure as a share of the floor's in the same round."""
    return {
        "rps": spread([r.rps / f.rps for r, f in zip(runs, floor, strict=True)]),
        "p50": spread([r.p50_ms / f.p50_ms for r, f in zip(runs, floor, strict=True)]),
        "p99": spread([r.p99_ms / f.p99_ms for r, f in zip(runs, floor, strict=True)]),
        # The floor's CPU per request over this one's: the req/s ratio a quiet machine would give.
        "cpu": spread([f.cpu_us / r.cpu_us for r, f in zip(runs, floor, strict=True)]),
    }


def summarise(started: list[Running]) -> list[dict[str, Any]]:
    """One row per contestant: req/s, p50, p99 (median and range) and their ratios."""
    floor = next(r for r in started if r.contestant.name == FLOOR).runs
    rows = []
    for running in started:
        runs = running.runs
        rows.append(
            {
                "name": running.contestant.name,
                "kind": running.contestant.kind,
                "rps": spread([r.rps for r in runs]),
                "p50_ms": spread([r.p50_ms for r in runs]),
                "p99_ms": spread([r.p99_ms for r in runs]),
                "cpu_us": spread([r.cpu_us for r in runs]),
                "ratio_to_floor": ratios(runs, floor),
                "errors": sum(r.errors for r in runs),
                "runs": [asdict(r) for r in runs],
            }
        )
    return rows


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 10's targets, from the median ratios of this run: met or not, never hidden. Judged
    on req/s as asked, and shown on CPU per request too (steadier on a shared machine)."""
    by_rps = {row["name"]: row["ratio_to_floor"]["rps"]["median"] for row in rows}
    by_cpu = {row["name"]: row["ratio_to_floor"]["cpu"]["median"] for row in rows}
    found = []

    def add(what: str, name: str, goal: float | str) -> None:
        if name not in by_rps or (isinstance(goal, str) and goal not in by_rps):
            return
        goal_rps = by_rps[goal] if isinstance(goal, str) else goal
        goal_cpu = by_cpu[goal] if isinstance(goal, str) else goal
        found.append(
            {
                "target": what,
                "measured": round(by_rps[name], 3),
                "goal": round(goal_rps, 3),
                "met": by_rps[name] >= goal_rps,
                "measured_by_cpu": round(by_cpu[name], 3),
                "goal_by_cpu": round(goal_cpu, 3),
                "met_by_cpu": by_cpu[name] >= goal_cpu,
            }
        )

    add("session server >= 0.56 of the floor", SESSION, 0.56)
    add("jwt stateless >= 0.65 of the floor", jwt_name("stateless"), 0.65)
    add("jwt denylist >= the session server", jwt_name("denylist"), SESSION)
    for row in rows:
        if row["kind"] == "authlab":
            add(f"{row['name']} >= the usual stack", row["name"], USUAL)
    return found


def trust_notes(rows: list[dict[str, Any]], rounds: int, cores: int) -> list[str]:
    """Reasons to doubt this run, in sentences; empty when nothing stood out."""
    notes = []
    if rounds < 3:
        notes.append(f"Only {rounds} round(s): the spread between rounds cannot be judged.")
    for row in rows:
        if row["errors"]:
            notes.append(f"{row['name']}: {row['errors']} error(s); its figures are not valid.")
    floor = next(row for row in rows if row["kind"] == "floor")["rps"]
    if floor["median"] and (floor["max"] - floor["min"]) / floor["median"] > 0.15:
        swing = (floor["max"] - floor["min"]) / floor["median"]
        notes.append(
            f"The floor's req/s moved by {swing:.0%} between rounds: the machine was not steady; "
            "compare ratios (same round), not absolute req/s."
        )
    wide = [
        row["name"]
        for row in rows
        if row["ratio_to_floor"]["rps"]["max"] - row["ratio_to_floor"]["rps"]["min"] > 0.1
    ]
    if wide:
        notes.append(f"Ratios varied by more than 0.10 between rounds for: {', '.join(wide)}.")
    foreign = statistics.median(run["foreign_cores"] for row in rows for run in row["runs"])
    if foreign > 0.25:
        notes.append(
            f"Other processes used {foreign:.2f} of {cores} cores during a typical run: req/s "
            "and its ratios depend on what they did meanwhile; CPU per request (and the "
            "floor's over it) is the steadier comparison."
        )
    return notes
