"""`python -m lab loadtest scaling --sweep-replicas 1,2,3`: the same step shape at several
replica counts, one Locust run each, then throughput and p95 per stage side by side.

Each run keeps its own folder (`results/<time>-scaling-<server>-r<N>/`, with Locust's files and
summary.json); the sweep adds `results/<time>-scaling-<server>-sweep/` with `curves.json` (one
point per replica count and stage, from Locust's per-second history) and `curves.png`.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
from collections.abc import Callable
from copy import copy
from datetime import datetime
from pathlib import Path
from typing import Any

from ..api import Lab
from .locust_csv import number

#: Seconds at the start of each stage left out of its point: users are still arriving.
SETTLE_SECONDS = 3


def stage_points(history: Path) -> list[dict[str, Any]]:
    """One point per stage (user count): median req/s and median p95 over its settled seconds."""
    by_users: dict[int, list[dict[str, str]]] = {}
    with open(history, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            users = int(number(row.get("User Count")) or 0)
            if row.get("Name") == "Aggregated" and users > 0:
                by_users.setdefault(users, []).append(row)
    points = []
    for users, rows in sorted(by_users.items()):
        settled = rows[SETTLE_SECONDS:] or rows
        rps = [v for v in (number(r.get("Requests/s")) for r in settled) if v is not None]
        p95 = [v for v in (number(r.get("95%")) for r in settled) if v is not None]
        points.append(
            {
                "users": users,
                "rps": statistics.median(rps) if rps else None,
                "p95_ms": statistics.median(p95) if p95 else None,
                "seconds": len(settled),
            }
        )
    return points


def plot_curves(curves: list[dict[str, Any]], server: str, path: Path) -> None:
    """Throughput and p95 against users, a line per replica count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for curve in curves:
        users = [p["users"] for p in curve["points"]]
        label = f"{curve['replicas']} replica(s)"
        left.plot(users, [p["rps"] for p in curve["points"]], marker="o", label=label)
        right.plot(users, [p["p95_ms"] for p in curve["points"]], marker="o", label=label)
    left.set(
        xlabel="concurrent users (no think time)",
        ylabel="requests/s (median per stage)",
        title=f"{server}: throughput",
    )
    right.set(
        xlabel="concurrent users (no think time)",
        ylabel="p95 latency, ms",
        title=f"{server}: p95 latency",
    )
    for axis in (left, right):
        axis.grid(alpha=0.3)
        axis.legend()
    fig.suptitle("Locust runs on this machine; the load generator shares its cores", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sweep_replicas(
    args: argparse.Namespace,
    run_once: Callable[[argparse.Namespace, Callable[[str], None]], tuple[int, Path | None]],
    say: Callable[[str], None],
) -> int:
    """Run the scenario once per replica count on one lab, reconfigured between runs."""
    started_here = Lab.attach() is None
    curves, worst = [], 0
    for i, replicas in enumerate(args.sweep_replicas):
        run = copy(args)
        run.replicas = replicas
        # Keep the lab between runs; stop it after the last one if the sweep started it.
        last = i == len(args.sweep_replicas) - 1
        run.keep_lab = args.keep_lab or not last or not started_here
        say(f"sweep: {replicas} replica(s) ({i + 1} of {len(args.sweep_replicas)})")
        code, out = run_once(run, say)
        worst = max(worst, code)
        if out is None:
            return code or 1
        summary = json.loads((out / "summary.json").read_text())
        curves.append(
            {
                "replicas": replicas,
                "results": str(out),
                "trustworthy": summary["trustworthy"],
                "points": stage_points(out / "locust_stats_history.csv"),
            }
        )
    if started_here and not args.keep_lab:
        lab = Lab.attach()
        if lab is not None:
            lab.down()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = args.results / f"{stamp}-{args.scenario}-{args.server}-sweep"
    folder.mkdir(parents=True, exist_ok=False)
    (folder / "curves.json").write_text(json.dumps(curves, indent=2) + "\n")
    plot_curves(curves, args.server, folder / "curves.png")
    say(f"sweep of {args.server}: median req/s and p95 per stage")
    say("  replicas  users    req/s     p95")
    for curve in curves:
        flag = "" if curve["trustworthy"] else "  (Locust hit its CPU limit: untrustworthy)"
        for p in curve["points"]:
            rps = "-" if p["rps"] is None else f"{p['rps']:.0f}"
            p95 = "-" if p["p95_ms"] is None else f"{p['p95_ms']:.0f} ms"
            say(f"  {curve['replicas']:>8}  {p['users']:>5}  {rps:>7}  {p95:>6}{flag}")
    say(f"curves: {folder / 'curves.png'}")
    return worst
