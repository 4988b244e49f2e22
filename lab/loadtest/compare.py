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
import statistics
from collections.abc import Callable
from copy import copy
from datetime import datetime
from pathlib import Path
from typing import Any

from ..api import Lab
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


def per_server(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each server's medians over its trials, its failures, and what saturated."""
    table = {}
    for server in SERVERS:
        mine = [r for r in rows if r["server"] == server]
        table[server] = {
            "trials": len(mine),
            **{metric: median_of(mine, metric) for metric in METRICS},
            "failures": sum(r["failures"] for r in mine),
            "all_trustworthy": all(r["trustworthy"] for r in mine),
            "saturation": sorted({r["saturation"] for r in mine}),
        }
    return table


def ratios(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """jwt/session per trial for each metric, with the median and the spread (min, max)."""
    by_trial: dict[int, dict[str, dict[str, Any]]] = {}
    for row in rows:
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


def markdown(comparison: dict[str, Any]) -> str:
    """The comparison as a Markdown table, stamped with what ran where."""
    head = "| server | trials | req/s | p50 ms | p95 ms | p99 ms | failures | saturation |"
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for server, row in comparison["servers"].items():
        cells = [_fmt(row[m]) for m in METRICS]
        lines.append(
            f"| {server} | {row['trials']} | {' | '.join(cells)} | {row['failures']} | "
            f"{'; '.join(row['saturation'])} |"
        )
    ratio = comparison["ratios"]
    lines.append("")
    for metric in METRICS:
        r = ratio[metric]
        if not r["per_trial"]:
            lines.append(f"- jwt/session {metric}: no trial had a steady state on both servers")
            continue
        lines.append(
            f"- jwt/session {metric}: median {_fmt(r['median'])} "
            f"(trials {', '.join(_fmt(v) for v in r['per_trial'])}; spread "
            f"{_fmt(r['min'])}-{_fmt(r['max'])})"
        )
    stamp = comparison["run"]
    lines.append("")
    lines.append(
        f"Steady-state medians over trials. `{stamp['command']}`; commit {stamp['commit']}, "
        f"{stamp['date']}, {stamp['machine']}."
    )
    return "\n".join(lines) + "\n"


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if isinstance(value, float) and value < 10 else f"{value:.0f}"


def plot(rows: list[dict[str, Any]], path: Path, scenario: str) -> None:
    """req/s and p95 per trial, a line per server."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    left, right = fig.subplots(1, 2)
    for server in SERVERS:
        mine = [r for r in rows if r["server"] == server]
        trials = [r["trial"] for r in mine]
        left.plot(trials, [r["rps"] or 0 for r in mine], marker="o", label=server)
        right.plot(trials, [r["p95_ms"] or 0 for r in mine], marker="o", label=server)
    left.set(title=f"{scenario}: steady-state req/s", xlabel="trial", ylabel="req/s")
    right.set(title="steady-state p95", xlabel="trial", ylabel="ms")
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
    plot(rows, folder / "comparison.png", args.scenario)
    print(markdown(comparison))
    say(f"comparison: {folder}")
    return worst


def stamp(command: str) -> dict[str, str]:
    """What ran, and when, at which commit, on which machine (lab.engine.stamp)."""
    return {"command": command, **lab_stamp()}


def build(args: argparse.Namespace, lab: Lab, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """comparison.json."""
    return {
        "scenario": args.scenario,
        "run": stamp(
            f"python -m lab loadtest {args.scenario} --server both --trials "
            f"{args.trials} -u {args.users} -t {args.time or '30s'}"
        ),  # fmt: skip
        "lab": {
            k: getattr(lab.config, k)
            for k in (
                "replicas",
                "workers",
                "threads",
                "bcrypt_rounds",
                "jwt_mode",
                "session_store",
            )
        },  # fmt: skip
        "servers": per_server(rows),
        "ratios": ratios(rows),
        "trials": rows,
    }
