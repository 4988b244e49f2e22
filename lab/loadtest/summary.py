"""summary.json: what a run measured, whether to trust it, who saturated, and its headline.

The headline is the steady state (every user logged in, the load constant); register and login
have their own rows (phase `setup`). `requests` and `failures` are the sums of the rows.
`trustworthy` is false, with reasons in words, when a replica left HAProxy's rotation, Locust
said its CPU was saturated, anything failed, or the steady state was too short to mean much.
Saturation is reported separately, and is no error: it says which number a team is looking at.
"""

from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..api import Lab
from ..engine import configuration
from . import phases
from .locust_csv import read_stats
from .locust_process import CSV_PREFIX, Say
from .revocation_result import revocation_summary
from .watch import RunWatch

#: A steady state shorter than this (seconds) is too short to trust its percentiles.
MIN_STEADY_SECONDS = 10.0

#: Rows of answers a replica gave on purpose when its hashing slots were all busy.
BUSY_SUFFIX = "(busy, retried)"


@dataclass
class Run:
    """What the runner knows about one finished Locust run."""

    args: argparse.Namespace
    lab: Lab
    out: Path
    command: list[str]
    exit_code: int
    cpu_warnings: list[str]
    started: datetime
    finished: datetime
    watch: RunWatch


def trust(
    run: Run, measured: dict[str, Any], rotation: dict[str, Any], ramp_s: float | None
) -> list[str]:
    """Every reason not to trust the run, in words a person understands (empty: trust it)."""
    reasons = []
    for replica, seen in rotation.items():
        if isinstance(seen, dict) and seen["left_rotation"]:
            reasons.append(
                f"{replica} left HAProxy's rotation during the run (statuses "
                f"{', '.join(seen['statuses_seen']) or '-'}; marked DOWN {seen['marked_down']} "
                f"time(s); last check {seen['last_check']}): fewer replicas served part of it."
            )
    if run.cpu_warnings:
        reasons.append(
            "Locust hit its own CPU limit: it could not send the load it was asked for, and its "
            "response times include its own queueing. Use fewer users, --processes, or another "
            "machine."
        )
    if measured["failures"]:
        top = "; ".join(f"{n} x {e}" for e, n in list(measured["errors"].items())[:3])
        reasons.append(f"{measured['failures']} request(s) failed: {top}")
    if measured["requests"] == 0:
        reasons.append("No requests were made: see locust.log.")
    steady = measured["steady_seconds"]
    if run.args.scenario != "scaling" and steady < MIN_STEADY_SECONDS:
        ramp = (
            f"ramp-up took {ramp_s:.1f} s; "
            if ramp_s is not None
            else "users were still logging in at the end; "
        )
        reasons.append(
            f"The steady state lasted {steady:.1f} s, less than the {MIN_STEADY_SECONDS:.0f} s "
            f"a headline needs ({ramp}run longer with -t)."
        )
    return reasons


def steady_windows(out: Path) -> list[tuple[float, float]]:
    """Every process's steady windows (wall-clock seconds)."""
    return [tuple(w) for rec in phases.read_recordings(out) for w in rec["steady_windows"]]


def ramp_seconds(run: Run, windows: list[tuple[float, float]]) -> float | None:
    """From the start of the run to the first steady moment (users registered, logged in)."""
    if not windows:
        return None
    return max(0.0, min(start for start, _ in windows) - run.started.timestamp())


def headline(measured: dict[str, Any]) -> dict[str, Any]:
    """The steady state's aggregate: the numbers a run is quoted by."""
    steady = measured["phases"]["steady"]
    return {
        "steady_requests": steady["requests"],
        "steady_failures": steady["failures"],
        **{k: steady[k] for k in ("rps", "p50_ms", "p95_ms", "p99_ms")},
    }


def build_summary(run: Run) -> dict[str, Any]:
    """Everything summary.json holds."""
    args, lab = run.args, run.lab
    measured = phases.summarise(run.out)
    windows = steady_windows(run.out)
    rotation = run.watch.rotation()
    ramp_s = ramp_seconds(run, windows)
    reasons = trust(run, measured, rotation, ramp_s)
    busy = [r for r in measured["rows"] if r["name"].endswith(BUSY_SUFFIX)]
    return {
        "scenario": args.scenario,
        "server": args.server,
        "host": lab.url(args.server),
        "started": run.started.isoformat(),
        "finished": run.finished.isoformat(),
        "duration_s": round((run.finished - run.started).total_seconds(), 1),
        "headline_is": "the steady state: every user logged in, after the ramp-up",
        **headline(measured),
        "steady_seconds": measured["steady_seconds"],
        "ramp_up_s": None if ramp_s is None else round(ramp_s, 1),
        "requests": measured["requests"],
        "failures": measured["failures"],
        "failure_ratio": measured["failures"] / measured["requests"]
        if measured["requests"]
        else None,
        "phases": measured["phases"],
        "busy_retries": sum(r["requests"] for r in busy),
        "trustworthy": not reasons,
        "untrustworthy_because": reasons,
        "saturation": run.watch.saturation(windows),
        "rotation": rotation,
        "locust_cpu_limit_hit": bool(run.cpu_warnings),
        "cpu_warnings": run.cpu_warnings,
        "revocation": revocation_summary(
            run.out / "revocation.jsonl",
            read_stats(run.out / f"{CSV_PREFIX}_stats.csv"),
            lab,
            args.server,
        ),  # fmt: skip
        "endpoints": measured["rows"],
        "locust": locust_settings(run),
        "lab": lab_settings(lab),
    }


def locust_settings(run: Run) -> dict[str, Any]:
    """How Locust was asked to run."""
    args = run.args
    return {
        "users": None if args.scenario == "scaling" else args.users,
        "spawn_rate": args.rate,
        "run_time": args.time,
        "processes": args.processes,
        "think_time": args.think_time,
        "action": args.action if args.scenario == "revocation" else None,
        "exit_code": run.exit_code,
        "command": run.command,
        # The command typed, every flag kept: what reproduces this run.
        "lab_command": "python -m lab loadtest " + shlex.join(args.argv)
        if getattr(args, "argv", None) is not None
        else None,
    }


def lab_settings(lab: Lab) -> dict[str, Any]:
    """The lab settings a load test depends on."""
    return configuration.lab_settings(lab.config)


def ms(value: Any) -> str:
    """'12 ms', or '-' when there is no value."""
    return "-" if value is None else f"{value:.0f} ms"


def headline_line(summary: dict[str, Any]) -> str:
    """The steady state in one line, or why there was none."""
    measured = configuration.describe(summary["lab"], summary["server"])
    where = f"{summary['scenario']} on {summary['server']} ({measured})"
    if not summary["steady_requests"]:
        return (
            f"{where}: no steady state: users were still registering and logging in when the "
            "run ended (the ramp-up took longer than the run; run longer with -t)"
        )
    return (
        f"{where}, steady state ({summary['steady_seconds']:.0f} s after a "
        f"{summary['ramp_up_s'] or 0:.0f} s ramp-up): {summary['steady_requests']} requests, "
        f"{(summary['rps'] or 0):.1f} req/s, p50 {ms(summary['p50_ms'])}, "
        f"p95 {ms(summary['p95_ms'])}, p99 {ms(summary['p99_ms'])}"
    )


def print_summary(summary: dict[str, Any], out: Path, say: Say) -> None:
    """The headline numbers, trust and saturation, for people."""
    say(headline_line(summary))
    setup = [r for r in summary["endpoints"] if r["phase"] == "setup"]
    rows = ", ".join(
        f"{r['name']} {r['requests']} (p50 {ms(r['p50_ms'])}, p95 {ms(r['p95_ms'])})"
        for r in setup
        if not r["name"].endswith(BUSY_SUFFIX)
    )
    say(f"setup: {rows or 'none'}; busy answers (503 hashing_busy) retried: "
        f"{summary['busy_retries']}")  # fmt: skip
    say(f"all phases: {summary['requests']} requests, {summary['failures']} failures")
    revocation = summary.get("revocation")
    if revocation:
        per = ", ".join(
            f"{name} max {ms(v['max_ms'])}" for name, v in revocation["per_replica"].items()
        )
        say(f"revocation window ({revocation['samples']} samples): max {ms(revocation['max_ms'])}"
            f"; {per}")  # fmt: skip
    saturation = summary["saturation"]
    why = f" ({'; '.join(saturation.get('reasons', []))})" if saturation.get("reasons") else ""
    say(f"saturation: {saturation['verdict']}{why}")
    if summary["trustworthy"]:
        say("trustworthy: yes (no failures, replicas stayed in rotation, Locust had CPU to spare)")
    for reason in summary["untrustworthy_because"]:
        say(f"NOT trustworthy: {reason}")
    say(f"results: {out}")
