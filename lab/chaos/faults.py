"""The injectors: each fault breaks something for `hold` seconds, then heals it.

- `flush`: FLUSHALL on the primary, the process still running (an operator's mistake, a cache
  eviction policy, a `redis-cli` in the wrong terminal).
- `restart-empty`: Redis stopped and started again without `--redis-persist`, so it comes back
  empty (the lab's default, like many production caches).
- `kill-primary`: SIGKILL the Sentinel primary; the replica is promoted with whatever had
  reached it; the crashed node rejoins as a replica.
- `replica-restart`: SIGKILL one server replica while logouts are in flight (it waits for one,
  up to a second), then start it again.
- `clock-skew`: restart one server replica with its wall clock `offset` seconds ahead or
  behind (lab/chaos/skew/sitecustomize.py), for `hold` seconds; then restart it right.
- `partition`: the latency proxy black-holes the primary's traffic with the sentinels and the
  replica, while the servers' connections to it keep working; the sentinels promote the
  replica, and writes the servers still send to the isolated primary are lost when it heals.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from ..api import Lab
from ..engine import processes
from ..engine.state import LabError
from .history import History
from .schedule import Fault

#: The directory whose `sitecustomize` skews a replica's clock (see its docstring).
SKEW_PATH = Path(__file__).resolve().parent / "skew"
#: Seconds a replica restart waits for a logout or password change to be in flight.
REVOCATION_WAIT = 1.0


def skewed_env(offset: int) -> dict[str, str]:
    """The environment that starts a replica with its wall clock `offset` seconds off."""
    return {"PYTHONPATH": str(SKEW_PATH), "AUTHLAB_CLOCK_SKEW": str(offset)}


def available(name: str) -> str | None:
    """Why fault `name` cannot run on this machine, or None."""
    if name in ("kill-primary", "partition") and shutil.which("redis-sentinel") is None:
        return f"{name} needs redis-sentinel"
    return None


def _replica(fault: Fault) -> tuple[str, int]:
    server, _, index = fault.target["replica"].rpartition("-")
    return server, int(index)


def _flush(lab: Lab, fault: Fault, history: History) -> dict[str, Any]:
    lab.redis_flush()
    return {"primary": lab.redis_primary()}


def _restart_empty(lab: Lab, fault: Fault, history: History) -> dict[str, Any]:
    lab.redis_stop()
    time.sleep(fault.hold)
    lab.redis_start()
    return {}


def _kill_primary(lab: Lab, fault: Fault, history: History) -> dict[str, Any]:
    killed = lab.redis_kill_primary()
    time.sleep(fault.hold)
    deadline = time.monotonic() + 20
    # Restarted before the promotion, it would come back as an empty primary: wait for it.
    while lab.redis_primary() in (None, killed) and time.monotonic() < deadline:
        time.sleep(0.2)
    promoted = lab.redis_primary()
    lab.redis_start()
    return {"killed": killed, "promoted": promoted}


def _kill(lab: Lab, server: str, index: int) -> None:
    """SIGKILL a replica, and wait until its port is free: started again on another port, it
    would make the lab restart HAProxy, and every client would see its frontend refuse."""
    port = lab.replicas(server)[index - 1].port
    lab.kill_replica(server, index)
    deadline = time.monotonic() + 3
    while port and processes.is_listening(port) and time.monotonic() < deadline:
        time.sleep(0.05)


def _replica_restart(lab: Lab, fault: Fault, history: History) -> dict[str, Any]:
    server, index = _replica(fault)
    deadline = time.monotonic() + REVOCATION_WAIT
    while not history.busy_with(("logout", "password")) and time.monotonic() < deadline:
        time.sleep(0.005)
    during = history.busy_with(("logout", "password"))
    _kill(lab, server, index)
    time.sleep(fault.hold)
    lab.start_replica(server, index)
    return {"during_revocation": during}


def _restart_gracefully(lab: Lab, server: str, index: int, env: dict[str, str] | None) -> None:
    """Out of rotation, stopped, started (with `env`), back in: no request meets the restart.
    If it does not start so, it starts as configured (the fault failed; the lab stays whole)."""
    lab.lb_disable(server, index)
    time.sleep(0.3)
    _kill(lab, server, index)
    try:
        lab.start_replica(server, index, env=env)
    except LabError:
        if env is None:
            raise
        lab.start_replica(server, index)
        raise
    finally:
        lab.lb_enable(server, index)


def _clock_skew(lab: Lab, fault: Fault, history: History) -> dict[str, Any]:
    server, index = _replica(fault)
    _restart_gracefully(lab, server, index, skewed_env(int(fault.target["offset"])))
    try:
        time.sleep(fault.hold)
    finally:
        _restart_gracefully(lab, server, index, None)
    return {}


def _partition(lab: Lab, fault: Fault, history: History) -> dict[str, Any]:
    from .partition import isolate_primary

    return isolate_primary(lab, fault.hold)


INJECTORS: dict[str, Callable[[Lab, Fault, History], dict[str, Any]]] = {
    "flush": _flush,
    "restart-empty": _restart_empty,
    "kill-primary": _kill_primary,
    "replica-restart": _replica_restart,
    "clock-skew": _clock_skew,
    "partition": _partition,
}


def inject(lab: Lab, fault: Fault, history: History) -> dict[str, Any]:
    """Run one fault to its end (injected, held, healed); the record for the history."""
    start = history.now()
    record: dict[str, Any] = {"name": fault.name, "planned": fault.to_json(), "start": start}
    try:
        record["detail"] = INJECTORS[fault.name](lab, fault, history)
        record["ok"] = True
    except (LabError, OSError, TimeoutError, redis.RedisError) as exc:
        record.update(ok=False, error=str(exc)[:500])
    record["end"] = round(history.now(), 4)
    record["start"] = round(start, 4)
    history.fault(record)
    return record
