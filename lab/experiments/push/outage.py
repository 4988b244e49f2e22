"""What each replica answers, every 50 ms, across a Redis outage longer than the push bound."""

from __future__ import annotations

import time
from typing import Any

from ...api import Lab
from ..actors import Client, probe, register
from ..labs import LabPool
from .configs import CONFIGS, SLOW, long_lived


def outage(lab: Lab, server: str, down: float, after: float, interval: float = 0.05) -> list:
    """Every replica, asked directly every `interval` s: before, during and after an outage."""
    url = lab.url(server)
    client = Client(url, "user")
    client.login(register(url, "outage"))
    bases = [(r.replica_id, r.url) for r in lab.replicas(server) if r.running]
    timeline = []
    t0 = time.perf_counter()

    def sample(phase: str, until: float) -> None:
        while time.perf_counter() - t0 < until:
            for rid, base in bases:
                status = probe(client, base=base)["status"]
                timeline.append(
                    {
                        "t": time.perf_counter() - t0,
                        "replica": rid,
                        "phase": phase,
                        "status": status,
                    }
                )
            time.sleep(interval)

    sample("before", 0.5)
    lab.redis_stop()
    # Time 0 is when the stop returned (Redis has exited): the bound counts from before it.
    stopped = time.perf_counter() - t0
    sample("down", stopped + down)
    lab.redis_start()
    restarted = time.perf_counter() - t0
    sample("after", restarted + after)
    client.close()
    for row in timeline:
        row["t_since_stop"] = round(row["t"] - stopped, 3)
    return timeline


def outage_table(pool: LabPool, progress=print) -> dict[str, list]:
    """`outage` for the configurations whose answer to a Redis outage differs."""
    out = {}
    scale = pool.scale
    down = max(scale.fault_seconds, 2.5)  # longer than the push bound (2 s by default)
    for name, server, settings in CONFIGS:
        if name in SLOW and name != "jwt stateless":
            continue
        progress(f"push: {name}: Redis outage of {down:g} s")
        lab = pool.get(server, **long_lived(server, settings))
        out[name] = outage(lab, server, down, scale.fault_after)
    return out


def _statuses(statuses: list[int]) -> dict[int, int]:
    """How many of each status."""
    return {s: statuses.count(s) for s in sorted(set(statuses))}


def outage_summary(timelines: dict[str, list]) -> list[dict[str, Any]]:
    """Per configuration: what was answered while Redis was down, and when 200s stopped."""
    rows = []
    for name, timeline in timelines.items():
        down = [r for r in timeline if r["phase"] == "down"]
        served = [r["t_since_stop"] for r in down if r["status"] == 200]
        after = [r["status"] for r in timeline if r["phase"] == "after"]
        rows.append(
            {
                "config": name,
                "while down": _statuses([r["status"] for r in down]),
                "last 200 after stop (s)": max(served, default=None),
                "after restart": _statuses(after),
            }
        )
    return rows
