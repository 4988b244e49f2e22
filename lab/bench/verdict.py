"""What the runs of `python -m lab bench --http` say: each contestant's figures over the rounds,
as ratios of the floor and of its own mechanism's limit, issue 21's targets met or not, and the
reasons to doubt a run."""

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
    """One row per contestant: req/s, p50, p99 (median and range), their ratios to the floor
    and to the contestant's own mechanism's limit (None where it has none)."""
    by_name = {r.contestant.name: r.runs for r in started}
    floor = by_name[FLOOR]
    rows = []
    for running in started:
        runs = running.runs
        limit = running.contestant.limit
        rows.append(
            {
                "name": running.contestant.name,
                "kind": running.contestant.kind,
                "rps": spread([r.rps for r in runs]),
                "p50_ms": spread([r.p50_ms for r in runs]),
                "p99_ms": spread([r.p99_ms for r in runs]),
                "cpu_us": spread([r.cpu_us for r in runs]),
                "ratio_to_floor": ratios(runs, floor),
                "limit": limit if limit in by_name else None,
                "ratio_to_limit": ratios(runs, by_name[limit]) if limit in by_name else None,
                "errors": sum(r.errors for r in runs),
                "runs": [asdict(r) for r in runs],
            }
        )
    return rows


def judged(what: str, rps: tuple[float, float], cpu: tuple[float, float]) -> dict[str, Any]:
    """One target: (measured, goal) by req/s and by CPU per request, met or not."""
    return {
        "target": what,
        "measured": round(rps[0], 3),
        "goal": round(rps[1], 3),
        "met": rps[0] >= rps[1],
        "measured_by_cpu": round(cpu[0], 3),
        "goal_by_cpu": round(cpu[1], 3),
        "met_by_cpu": cpu[0] >= cpu[1],
    }


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Issue 21's targets, from the median ratios of this run: met or not, never hidden. Judged
    on req/s as asked, and shown on CPU per request too (steadier on a shared machine). A share
    of a limit is judged on the ratio to that limit in the same round; a comparison of two
    contestants, on their ratios to the floor."""
    by_name = {row["name"]: row for row in rows}
    found = []

    def of_limit(name: str, share: float) -> None:
        ratio = by_name.get(name, {}).get("ratio_to_limit")
        if ratio is None:
            return
        what = f"{name} >= {share:g} of {by_name[name]['limit']}"
        rps, cpu = ratio["rps"]["median"], ratio["cpu"]["median"]
        found.append(judged(what, (rps, share), (cpu, share)))

    def of_row(name: str, other: str, factor: float = 1.0) -> None:
        if name not in by_name or other not in by_name:
            return
        mine, theirs = by_name[name]["ratio_to_floor"], by_name[other]["ratio_to_floor"]
        what = f"{name} >= the {other}" + (f" x {factor:g}" if factor != 1 else "")
        rps = (mine["rps"]["median"], theirs["rps"]["median"] * factor)
        cpu = (mine["cpu"]["median"], theirs["cpu"]["median"] * factor)
        found.append(judged(what, rps, cpu))

    of_limit(SESSION, 0.9)
    of_limit(jwt_name("stateless"), 0.9)
    of_row(jwt_name("denylist"), SESSION)
    of_row(jwt_name("push"), jwt_name("stateless"), 0.95)
    for row in rows:
        if row["kind"] == "authlab":
            of_row(row["name"], USUAL)
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
