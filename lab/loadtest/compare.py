"""`python -m lab loadtest SCENARIO --server both --trials N`: both servers, one lab, interleaved.

Each trial runs the scenario once on each server, on the same lab, one after the other; the
order alternates (session first in odd trials, jwt first in even ones) so a drift of the machine
(another job starting, a warming cache) falls on both alike. One folder holds it all:

    results/<time>-<scenario>-compare/
        <time>-<scenario>-<server>-t<trial>/   each run, as a single run writes it
        comparison.json    per trial and server: the steady state's req/s, p50/p95/p99,
                           failures, trust and saturation; per server the medians; the jwt/session
                           ratios per trial with their median and spread
        comparison.md      the table, for people
        comparison.png     req/s and p95 per trial, both servers side by side
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
from collections.abc import Callable
from copy import copy
from datetime import datetime
from pathlib import Path
from typing import Any

from ..api import Lab
from ..engine import configuration
from ..engine.stamp import stamp as lab_stamp
from ..engine.state import SERVERS
from .locust_process import Say

Measure = Callable[[argparse.Namespace, Lab, Say], tuple[int, Path, dict[str, Any]]]

#: The steady-state figures compared.
METRICS = ("rps", "p50_ms", "p95_ms", "p99_ms")


def order(trial: int) -> tuple[str, ...]:
    """Session first in odd trials, jwt first in even ones."""
    return SERVERS if trial % 2 else tuple(reversed(SERVERS))


def trial_row(trial: int, server: str, out: Path, summary: dict[str, Any]) -> dict[str, Any]:
    """What the comparison keeps of one run."""
    return {
        "trial": trial,
        "server": server,
        **{metric: summary[metric] for metric in METRICS},
        "steady_seconds": summary["steady_seconds"],
        "requests": summary["requests"],
        "failures": summary["failures"],
        "trustworthy": summary["trustworthy"],
        "untrustworthy_because": summary["untrustworthy_because"],
        "saturation": summary["saturation"]["verdict"],
        "results": str(out),
    }


def median_of(rows: list[dict[str, Any]], metric: str) -> float | None:
    """The median of a metric over trials (None when no trial measured it)."""
    values = [r[metric] for r in rows if r[metric] is not None]
    return statistics.median(values) if values else None


def trusted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs the verdict may use: those the run itself called trustworthy."""
    return [r for r in rows if r["trustworthy"]]


def per_server(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each server's medians over its trustworthy trials, its failures, and what saturated."""
    table = {}
    for server in SERVERS:
        mine = [r for r in rows if r["server"] == server]
        kept = trusted(mine)
        table[server] = {
            "trials": len(mine),
            "trustworthy_trials": len(kept),
            **{metric: median_of(kept, metric) for metric in METRICS},
            "failures": sum(r["failures"] for r in mine),
            "all_trustworthy": len(kept) == len(mine),
            "saturation": sorted({r["saturation"] for r in mine}),
        }
    return table


def ratios(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """jwt/session per trial (both runs trustworthy) for each metric, median and spread."""
    by_trial: dict[int, dict[str, dict[str, Any]]] = {}
    for row in trusted(rows):
        by_trial.setdefault(row["trial"], {})[row["server"]] = row
    result = {}
    for metric in METRICS:
        per_trial = [
            pair["jwt"][metric] / pair["session"][metric]
            for pair in by_trial.values()
            if len(pair) == 2 and pair["session"][metric] and pair["jwt"][metric] is not None
        ]
        result[metric] = {
            "per_trial": [round(r, 3) for r in per_trial],
            "median": round(statistics.median(per_trial), 3) if per_trial else None,
            "min": round(min(per_trial), 3) if per_trial else None,
            "max": round(max(per_trial), 3) if per_trial else None,
        }
    return result


def verdict(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether the comparison can be trusted, and why not: the untrustworthy runs named."""
    left_out = [
        f"trial {r['trial']} {r['server']}: {'; '.join(r['untrustworthy_because'])}"
        for r in rows
        if not r["trustworthy"]
    ]
    pairs = {r["trial"] for r in trusted(rows) if r["server"] == "jwt"} & {
        r["trial"] for r in trusted(rows) if r["server"] == "session"
    }
    if not left_out:
        line = f"All {len(rows)} runs were trustworthy: the medians and ratios use them all."
    elif not pairs:
        line = (
            f"NO VERDICT: {len(left_out)} of {len(rows)} runs were NOT trustworthy, and no "
            "trial has a trustworthy run on both servers: the comparison cannot be trusted."
        )
    else:
        line = (
            f"{len(left_out)} of {len(rows)} runs were NOT trustworthy and are left out: the "
            f"medians use the trustworthy runs, the ratios the {len(pairs)} trial(s) "
            "trustworthy on both servers."
        )
    return {"trustworthy": bool(pairs), "line": line, "left_out": left_out}


def markdown(comparison: dict[str, Any]) -> str:
    """The comparison as a Markdown table, stamped with what ran where and how far to trust it."""
    judged = comparison["verdict"]
    lines = [f"Measured: {comparison['measured']}.", "", f"**{judged['line']}**"]
    lines += [f"- left out: {why}" for why in judged["left_out"]]
    lines += [
        "",
        "| server | trials (trustworthy) | req/s | p50 ms | p95 ms | p99 ms | failures | "
        "saturation |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for server, row in comparison["servers"].items():
        cells = [_fmt(row[m]) for m in METRICS]
        lines.append(
            f"| {server} | {row['trials']} ({row['trustworthy_trials']}) | {' | '.join(cells)} | "
            f"{row['failures']} | {'; '.join(row['saturation'])} |"
        )
    ratio = comparison["ratios"]
    lines.append("")
    for metric in METRICS:
        r = ratio[metric]
        if not r["per_trial"]:
            lines.append(
                f"- jwt/session {metric}: no trial had a trustworthy steady state on both servers"
            )
            continue
        lines.append(
            f"- jwt/session {metric}: median {_fmt(r['median'])} "
            f"(trials {', '.join(_fmt(v) for v in r['per_trial'])}; spread "
            f"{_fmt(r['min'])}-{_fmt(r['max'])})"
        )
    stamp = comparison["run"]
    lines.append("")
    lines.append(
        f"Steady-state medians over trustworthy trials. `{stamp['command']}`; commit "
        f"{stamp['commit']}, {stamp['date']}, {stamp['machine']}."
    )
    return "\n".join(lines) + "\n"


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if isinstance(value, float) and value < 10 else f"{value:.0f}"


def plot(rows: list[dict[str, Any]], path: Path, scenario: str, measured: str = "") -> None:
    """req/s and p95 per trial, a line per server; untrustworthy runs hollow and marked."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.6))
    left, right = fig.subplots(1, 2)
    for server in SERVERS:
        mine = [r for r in rows if r["server"] == server]
        trials = [r["trial"] for r in mine]
        for ax, metric in ((left, "rps"), (right, "p95_ms")):
            (line,) = ax.plot(trials, [r[metric] or 0 for r in mine], label=server)
            for r in mine:
                ax.plot(r["trial"], r[metric] or 0, marker="o", color=line.get_color(),
                        fillstyle="full" if r["trustworthy"] else "none")  # fmt: skip
    left.set(title=f"{scenario}: steady-state req/s", xlabel="trial", ylabel="req/s")
    right.set(title="steady-state p95", xlabel="trial", ylabel="ms")
    judged = verdict(rows)
    fig.suptitle(
        ("" if judged["trustworthy"] else "NOT TRUSTWORTHY: ")
        + f"{len(judged['left_out'])} of {len(rows)} runs untrustworthy (hollow)\n{measured}",
        fontsize=8,
    )
    for ax in (left, right):
        ax.set_ylim(bottom=0)
        ax.set_xticks(sorted({r["trial"] for r in rows}))
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def compare(args: argparse.Namespace, lab: Lab, measure: Measure, say: Say) -> int:
    """Run every trial on both servers and write the comparison; nonzero if a run failed."""
    if args.trials < 1:
        say("--trials must be at least 1")
        return 2
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = args.results / f"{stamp}-{args.scenario}-compare"
    folder.mkdir(parents=True)
    rows, worst = [], 0
    for trial in range(1, args.trials + 1):
        for server in order(trial):
            say(f"trial {trial}/{args.trials}: {server}")
            one = copy(args)
            one.server, one.trial, one.results = server, trial, folder
            code, out, summary = measure(one, lab, say)
            worst = max(worst, code)
            rows.append(trial_row(trial, server, out, summary))
    comparison = build(args, lab, rows)
    (folder / "comparison.json").write_text(json.dumps(comparison, indent=2) + "\n")
    (folder / "comparison.md").write_text(markdown(comparison))
    plot(rows, folder / "comparison.png", args.scenario, comparison["measured"])
    print(markdown(comparison))
    say(f"comparison: {folder}")
    return worst


def stamp(command: str) -> dict[str, str]:
    """What ran, and when, at which commit, on which machine (lab.engine.stamp)."""
    return {"command": command, **lab_stamp()}


def command_of(args: argparse.Namespace) -> str:
    """The command that reproduces the run: the flags as given (main keeps them in args.argv)."""
    argv = getattr(args, "argv", None)
    if argv is not None:
        return "python -m lab loadtest " + shlex.join(argv)
    return (
        f"python -m lab loadtest {args.scenario} --server both --trials {args.trials} "
        f"-u {args.users} -t {args.time or '30s'}"
        + (f" --think-time {args.think_time}" if args.think_time is not None else "")
    )


def build(args: argparse.Namespace, lab: Lab, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """comparison.json."""
    settings = configuration.lab_settings(lab.config)
    return {
        "scenario": args.scenario,
        "run": stamp(command_of(args)),
        "lab": settings,
        "measured": configuration.describe(settings),
        "verdict": verdict(rows),
        "servers": per_server(rows),
        "ratios": ratios(rows),
        "trials": rows,
    }
