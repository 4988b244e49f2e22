"""Store commands per authenticated request, counted by Redis itself (INFO commandstats), with
the background traffic of an equally long idle period subtracted."""

from __future__ import annotations

import statistics
import time
from typing import Any

import redis

from ...api import Lab
from ..actors import Client, probe, register
from ..labs import LabPool
from .configs import CONFIGS, long_lived


def _commands(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {k.removeprefix("cmdstat_"): v["calls"] for k, v in stats.items()}


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    delta = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    delta.pop("info", None)
    return delta


def round_trips(lab: Lab, server: str, requests_per_replica: int = 100) -> dict[str, Any]:
    """Redis commands per accepted authenticated request (each replica asked directly), minus
    what Redis saw in an idle period as long (push-fed replicas read and acknowledge anyway).

    Redis counts the commands a script runs too (the refresh rotation's one EVALSHA shows with
    the commands inside it); the session store's read is one GET, plus a PEXPIRE once per
    renewal step per process. `by_command` keeps them apart."""
    url = lab.url(server)
    client = Client(url, "user")
    client.login(register(url, "trips"))
    client.get("/auth/me")
    bases = [r.url for r in lab.replicas(server) if r.running]
    for base in bases:  # the first request on a replica may open its connection
        client.get("/auth/me", base=base)
    counter = redis.Redis(port=lab.redis_port, decode_responses=True, socket_timeout=2)
    before, started = _commands(counter), time.perf_counter()
    answers = []
    for _ in range(requests_per_replica):
        for base in bases:
            answers.append(probe(client, base=base))
    busy, elapsed = _delta(before, _commands(counter)), time.perf_counter() - started
    before = _commands(counter)
    time.sleep(elapsed)
    idle = _delta(before, _commands(counter))
    client.close()
    ok = [a for a in answers if a["status"] == 200]
    if not ok:
        raise RuntimeError(f"round trips on {server}: no request was accepted")
    n = len(ok)
    per_request = {
        name: round((busy.get(name, 0) - idle.get(name, 0)) / n, 3)
        for name in sorted(set(busy) | set(idle))
    }
    # Below zero: the idle period happened to read its feed more often than the busy one
    # (background, not the requests); `while_idle` keeps the raw counts.
    by_command = {k: v for k, v in per_request.items() if v > 0}
    return {
        "accepted": n,
        "commands_per_request": round(sum(by_command.values()), 3),
        "by_command": by_command,
        "while_idle": idle,
        "server_timing_store": round(statistics.mean(a["store"] or 0 for a in ok), 3),
    }


def round_trip_table(pool: LabPool, progress=print) -> list[dict[str, Any]]:
    """`round_trips` for every configuration."""
    rows = []
    for name, server, settings in CONFIGS:
        progress(f"push: {name}: round trips")
        lab = pool.get(server, **long_lived(server, settings))
        rows.append({"config": name, **round_trips(lab, server)})
    return rows
