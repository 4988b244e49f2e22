"""A network partition: the Sentinel primary cut off from the sentinels and the other node,
while the servers' connections to it keep working (they write to it, it acknowledges).

The sentinels stop hearing from it, agree it is down and promote the replica; the servers
learn the new primary only when they reconnect, so for a while some write to each. When the
partition heals, the sentinels turn the old primary into a replica of the new one, and what it
acknowledged meanwhile is thrown away: a logout it stored is gone. That is split brain, and
why a revocation confirmed by one node alone is a promise the store may not keep.
"""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

from ..api import Lab
from ..engine.state import LabError
from ..engine.supervisor import alive
from ..store import topology as store

#: Seconds to wait for the sentinels to name a new primary before healing anyway.
PROMOTION_WAIT = 15.0


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
    return {
        "isolated": primary,
        "promoted": promoted,
        "seconds": round(time.monotonic() - began, 2),
    }
