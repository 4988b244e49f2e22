"""A network partition: the Sentinel primary cut off from the sentinels and the other node,
while the servers' connections to it keep working (they write to it, it acknowledges).

The sentinels stop hearing from it, agree it is down and promote the replica; the servers
learn the new primary only when they reconnect, so for a while some write to each. When the
partition heals, the sentinels turn the old primary into a replica of the new one, and what it
acknowledged meanwhile is thrown away: a logout it stored is gone. That is split brain, and
why a revocation confirmed by one node alone is a promise the store may not keep.

Healing is not instant: Sentinel waits about 8 s after the old primary answers again before it
demotes it (SENTINEL_PUBLISH_PERIOD x 4, so it has heard any newer configuration), then the node
resyncs. Until then there are two primaries and no replica acknowledges a write: the servers say
`revoked: false` (honest, and no promise to check). So the fault ends only once the old primary
is a replica again (`rejoined`), and each target starts on a whole store, not on the split brain
the one before it left (chaos runs before this waited for neither: every Sentinel target after a
partition in the same seed ran without a confirmed revocation).
"""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

from ..api import Lab
from ..engine import processes
from ..engine.state import LabError, LabState
from ..engine.supervisor import alive
from ..store import sentinel
from ..store import topology as store

#: Seconds to wait for the sentinels to name a new primary before healing anyway.
PROMOTION_WAIT = 15.0
#: Seconds to wait, once healed, for every node but the primary to be its replica again.
REJOIN_WAIT = 40.0


def whole(primary_port: int | None, replicas: list[dict[str, str]]) -> bool:
    """Whether the store is one again: a primary the sentinels name (its announced port), and
    every other node (INFO replication) its replica with the link up."""
    return primary_port is not None and all(
        info.get("role") == "slave"
        and info.get("master_link_status") == "up"
        and info.get("master_port") == str(primary_port)
        for info in replicas
    )


def store_is_whole(state: LabState) -> bool:
    """`whole` of the lab's nodes as they answer now (a single Redis is always whole)."""
    if not store.is_sentinel(state.config):
        return True
    primary = store.primary_node(state)
    if primary is None:
        return False
    others = [sentinel.replication(state.ports[n]) for n in store.nodes(state) if n != primary]
    return whole(store.announced_port(state, primary), others)


def wait_whole(lab: Lab, timeout: float = REJOIN_WAIT) -> float:
    """Seconds until the store was whole (LabError after `timeout`)."""
    state = lab._reload()  # noqa: SLF001 (the lab's own state, fresh)
    began = time.monotonic()
    processes.wait_until(
        lambda: store_is_whole(state), timeout, "the Redis nodes to be one primary and its replica",
        interval=0.25,
    )  # fmt: skip
    return round(time.monotonic() - began, 2)


def _signal_proxy(lab: Lab, rules: list[dict[str, Any]]) -> None:
    """Write the proxy's rules and make it read them (SIGUSR1)."""
    state = lab.state
    rec = state.processes.get(store.PROXY)
    if not alive(rec) or rec is None or rec.pid is None:
        raise LabError("a partition needs the latency proxy: the lab runs it with --redis "
                       "sentinel and --store-latency (0ms will do)")  # fmt: skip
    if "--control" not in rec.argv:
        raise LabError("this lab's latency proxy predates partitions: `python -m lab up` again")
    path = store.control_file(lab.state_dir)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"rules": rules}))
    os.replace(tmp, path)
    os.kill(rec.pid, signal.SIGUSR1)


def isolate_primary(lab: Lab, hold: float) -> dict[str, Any]:
    """Cut the primary off for `hold` seconds (at least until a new primary is named), heal."""
    state = lab._reload()  # noqa: SLF001 (the lab's own state, fresh)
    if not store.is_sentinel(state.config):
        raise LabError("a partition needs --redis sentinel")
    primary = store.primary_node(state)
    if primary is None:
        raise LabError("the sentinels name no primary right now")
    route = store.announced_port(state, primary)
    _signal_proxy(lab, [{"route": route, "kinds": ["sentinel", "replica"], "action": "drop"}])
    began = time.monotonic()
    time.sleep(hold)
    while lab.redis_primary() in (None, primary) and time.monotonic() - began < PROMOTION_WAIT:
        time.sleep(0.2)
    promoted = lab.redis_primary()
    _signal_proxy(lab, [])
    cut = round(time.monotonic() - began, 2)
    return {"isolated": primary, "promoted": promoted, "seconds": cut, "rejoined": wait_whole(lab)}
