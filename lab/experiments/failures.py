"""Failures: Redis stopped for a few seconds, a replica killed; the error rate of each server.

Steady, paced load runs against both servers through HAProxy while the fault is injected and
then repaired; every request is a sample on one clock, binned into an error rate over time.
What to expect: with Redis gone, the session server answers 503 (it fails closed: it cannot tell
a live session from a revoked one) while the stateless JWT server never asks Redis and carries
on. A killed replica costs each server the requests in flight and those HAProxy sends before
its health checks notice (two failed checks a second apart); `retries` and `redispatch`
hide most of them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from ..api import Lab
from .actors import logged_in_cookies
from .load import Target, error_series, replica_series, run_load

SERVERS = ("session", "jwt")
FAULTS = ("redis", "replica", "redis-pause")


def _inject(lab: Lab, fault: str, servers: tuple[str, ...], index: int, seconds: float) -> None:
    if fault == "redis":
        lab.redis_stop()
    elif fault == "replica":
        for server in servers:
            lab.kill_replica(server, index)
    elif fault == "redis-pause":
        lab.redis_pause(seconds)
    else:
        raise ValueError(f"fault must be one of {', '.join(FAULTS)}, not {fault!r}")


def _repair(lab: Lab, fault: str, servers: tuple[str, ...], index: int) -> None:
    if fault == "redis":
        lab.redis_start()
    elif fault == "replica":
        for server in servers:
            lab.start_replica(server, index)


def fault_timeline(
    lab: Lab,
    fault: str = "redis",
    *,
    before: float = 1.0,
    duration: float = 3.0,
    after: float = 3.0,
    servers: tuple[str, ...] = SERVERS,
    threads: int = 2,
    rate_per_thread: float = 25.0,
    users: int = 4,
    replica_index: int = 1,
    bin_seconds: float = 0.25,
) -> dict[str, Any]:
    """Paced load on each server; `fault` at `before` s, repaired `duration` s later, and
    watched for `after` s once the repair is done (a restarted replica takes a few seconds to
    pass its health check, so the run is as long as it needs to be)."""
    targets = [Target(s, lab.url(s), logged_in_cookies(lab.url(s), users)) for s in servers]
    samples: list = []
    stop = threading.Event()
    start = time.perf_counter()
    # An upper bound only: the run ends when `stop` is set.
    bound = before + duration + after + 120
    runner = threading.Thread(
        target=lambda: samples.extend(
            run_load(targets, bound, threads, rate_per_thread, stop=stop, start=start)
        ),
        daemon=True,
    )
    runner.start()
    try:
        time.sleep(before)
        fault_at = time.perf_counter() - start
        _inject(lab, fault, servers, replica_index, duration)
        time.sleep(max(0.0, before + duration - (time.perf_counter() - start)))
        repair_started = time.perf_counter() - start
        _repair(lab, fault, servers, replica_index)
        repaired_at = time.perf_counter() - start
        time.sleep(after)
    finally:
        stop.set()
        runner.join(30)
    total = time.perf_counter() - start

    def phase(t: float) -> str:
        if t < fault_at:
            return "before"
        return "during" if t < repaired_at else "after"

    phases = []
    for server in servers:
        for name in ("before", "during", "after"):
            picked = [s for s in samples if s.target == server and phase(s.t) == name]
            statuses = Counter(s.status for s in picked)
            errors = sum(n for status, n in statuses.items() if status != 200)
            phases.append(
                {
                    "server": server,
                    "phase": name,
                    "requests": len(picked),
                    "errors": errors,
                    "error_rate": errors / len(picked) if picked else None,
                    "statuses": {str(k): v for k, v in sorted(statuses.items())},
                }
            )
    return {
        "fault": fault,
        "servers": list(servers),
        "modes": {"session": lab.config.session_store, "jwt": lab.config.jwt_mode},
        "redis_persist": lab.config.redis_persist,
        "fault_at": fault_at,
        "repair_started": repair_started,
        "repaired_at": repaired_at,
        "end": total,
        "series": error_series(samples, bin_seconds),
        "replica_series": replica_series(samples, bin_seconds),
        "phases": phases,
        "samples": len(samples),
    }
