"""A fault's precondition: is the replica in sync with the primary right now?

A crash of the primary loses what its replica had not received. A study that means to show "a
crash with the replica next door loses almost nothing" must crash only when the replica is in
sync, and say how far behind it was otherwise. Redis tells: INFO replication gives the
primary's `master_repl_offset` (bytes of replication stream it produced) and the replica's
`slave_repl_offset` (bytes it processed). The primary is read first, then the replica: a
replica at or past the primary's offset had everything the primary had when asked.
"""

from __future__ import annotations

import time
from typing import Any

import redis

from ..api import Lab


def _info(port: int) -> dict[str, Any]:
    try:
        with redis.Redis(port=port, socket_timeout=1) as r:
            return r.info("replication")
    except redis.RedisError:
        return {}


def pair(lab: Lab) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(primary, replica) nodes as `lab status` lists them (name, port), if both run."""
    nodes = lab.status()["store"]["nodes"]
    primary = next((n for n in nodes if n["primary"] and n["running"]), None)
    replica = next((n for n in nodes if not n["primary"] and n["running"]), None)
    return (primary, replica) if primary and replica else None


def offsets(primary: dict[str, Any], replica: dict[str, Any]) -> dict[str, Any]:
    """The primary's and the replica's replication offsets, and how far behind the replica is."""
    p = _info(primary["port"])
    r = _info(replica["port"])
    p_off = int(p.get("master_repl_offset", 0))
    r_off = int(r.get("slave_repl_offset", -1))
    linked = r.get("master_link_status") == "up"
    return {
        "primary": primary["name"],
        "replica": replica["name"],
        "primary_offset": p_off,
        "replica_offset": r_off,
        "link": r.get("master_link_status"),
        "behind_bytes": max(0, p_off - r_off) if linked else None,
        "in_sync": linked and r_off >= p_off,
    }


def wait_in_sync(lab: Lab, bound: float, poll: float = 0.01) -> dict[str, Any]:
    """Until the replica has every byte the primary produced, or `bound` s; the last reading,
    with `waited_s`. Under load on loopback the replica catches up within milliseconds; right
    after a failover it may still be loading a full copy."""
    nodes = pair(lab)
    if nodes is None:
        return {"in_sync": False, "behind_bytes": None, "note": "no primary and replica pair"}
    started = time.perf_counter()
    while True:
        found = offsets(*nodes)
        waited = time.perf_counter() - started
        if found["in_sync"] or waited >= bound:
            return {**found, "waited_s": round(waited, 3), "bound_s": bound}
        time.sleep(poll)
