"""Scaling: throughput and p95 at 1, 2 and 3 replicas; the memory store behind a balancer.

Two questions. Does adding replicas add throughput (on a 2-core machine, mostly not: the
replicas, HAProxy, Redis and the load generator all share the same cores, and the curve says
so)? And what happens to sessions kept in a replica's memory when a round-robin balancer sends
the next request elsewhere (refused), with a sticky balancer (fine, until that replica dies),
and with Redis (fine)?
"""

from __future__ import annotations

import time
from typing import Any

from .actors import Client, logged_in_cookies, register
from .labs import LabPool, mode_of
from .load import Target, run_load, summarize

SERVERS = ("session", "jwt")

#: (session store, balancing policy): the three setups of the memory-store lesson.
MEMORY_SETUPS = (("memory", "roundrobin"), ("memory", "sticky"), ("redis", "roundrobin"))


def throughput_by_replicas(
    pool: LabPool,
    replicas: tuple[int, ...] = (1, 2, 3),
    servers: tuple[str, ...] = SERVERS,
    *,
    seconds: float = 5.0,
    threads: int = 8,
    users: int = 8,
    path: str = "/auth/me",
    access_ttl: int | None = None,
    redis_persist: bool = False,
    progress=None,
) -> list[dict[str, Any]]:
    """Closed-loop load on each server at each replica count: requests/s, p50, p95, errors.

    `generator_cpu` is the load generator's own CPU time over the wall time (1.0 = one core
    busy): near or above 1 the generator, not the servers, sets the ceiling. `access_ttl`
    is the JWT lifetime during the runs: None, the server's default, so that no token expires
    in the middle of one.
    """
    progress = progress or (lambda message: None)
    rows = []
    for n in replicas:
        lab = pool.get(replicas=n, access_ttl=access_ttl, redis_persist=redis_persist)
        for server in servers:
            progress(f"scaling: {server} with {n} replica(s), {seconds:g} s")
            url = lab.url(server)
            cookies = logged_in_cookies(url, users)
            cpu = time.process_time()
            samples = run_load([Target(server, url, cookies, path)], seconds, threads)
            cpu = time.process_time() - cpu
            rows.append(
                {
                    "replicas": n,
                    "server": server,
                    "mode": mode_of(lab, server),
                    "threads": threads,
                    "seconds": seconds,
                    "generator_cpu": cpu / seconds,
                    **summarize(samples, seconds),
                }
            )
    return rows


def refusals(lab, server: str, *, clients: int = 4, probes: int = 12) -> dict[str, Any]:
    """Each client logs in through the balancer and asks `probes` times; count the 401s."""
    url = lab.url(server)
    requests_made = refused = 0
    replicas_seen: set[str] = set()
    for _ in range(clients):
        client = Client(url, "user")
        client.login(register(url, "probe"))
        for _ in range(probes):
            response = client.get("/auth/me")
            requests_made += 1
            refused += response.status_code == 401
            if response.headers.get("X-Replica"):
                replicas_seen.add(response.headers["X-Replica"])
        client.close()
    return {
        "requests": requests_made,
        "refused": refused,
        "failure_rate": refused / requests_made if requests_made else None,
        "replicas_seen": sorted(replicas_seen),
    }


def memory_store_refusals(
    pool: LabPool,
    setups: tuple[tuple[str, str], ...] = MEMORY_SETUPS,
    *,
    replicas: int | None = None,
    clients: int = 4,
    probes: int = 12,
    progress=None,
) -> list[dict[str, Any]]:
    """The share of a logged-in client's requests refused, per store and balancing policy.

    The JWT server runs behind the same balancer in the same lab, as a control: it keeps no
    session state, so the policy should not matter to it.
    """
    progress = progress or (lambda message: None)
    rows = []
    for store, policy in setups:
        progress(f"memory store: session store {store}, balancer {policy}")
        config: dict[str, Any] = {"session_store": store, "lb_policy": policy}
        if replicas is not None:
            config["replicas"] = replicas
        # The JWT server is the control here: whatever mode it runs in, it keeps no sessions.
        lab = pool.get("session", **config)
        for server in SERVERS:
            rows.append(
                {
                    # The JWT row is the control, measured in the same lab.
                    "setup": f"{store} + {policy}"
                    if server == "session"
                    else f"jwt ({policy}, beside {store})",
                    "server": server,
                    "store": store if server == "session" else lab.config.jwt_mode,
                    "policy": policy,
                    "replica_count": lab.config.replicas,
                    **refusals(lab, server, clients=clients, probes=probes),
                }
            )
    return rows
