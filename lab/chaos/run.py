"""One target (a server, its mode, a store topology): the lab set up for it, the clients and the
fault schedule run side by side, the lab healed, every stolen copy read once more, and the
history checked."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..api import Lab
from . import schedule
from .checker import check
from .clients import Budget, Client, drive
from .faults import available, inject
from .history import History
from .partition import wait_whole

#: Every server and mode the checker knows promises of (the memory store splits by design).
TARGETS = (
    ("session", "redis"),
    ("session", "cached"),
    ("jwt", "stateless"),
    ("jwt", "denylist"),
    ("jwt", "refresh"),
    ("jwt", "push"),
)
TOPOLOGIES = ("single", "sentinel")
#: The modes whose revocations a store-loss guard protects; `--naive` turns it off
#: (JWT_REVOCATION_GUARD=off: the naive denylist, the "before" of docs/chaos.md).
GUARDED = (("jwt", "denylist"), ("jwt", "refresh"), ("jwt", "push"))
#: The server setting `--naive` sets to "off".
GUARD_ENV = "JWT_REVOCATION_GUARD"


@dataclass(frozen=True)
class Target:
    """What one part of a run attacks."""

    server: str
    mode: str
    topology: str
    #: The store-loss guard off (GUARDED modes only): what a naive denylist promises.
    naive: bool = False

    @property
    def name(self) -> str:
        """`jwt-denylist-single` (`jwt-denylist-naive-single` with the guard off): the history
        file's name and the table's row."""
        return f"{self.server}-{self.mode}{'-naive' if self.naive else ''}-{self.topology}"

    def lab_changes(self, env: dict[str, str]) -> dict[str, Any]:
        """The lab settings this target needs, given the lab's extra server environment `env`
        (the proxy sits in front of Sentinel's nodes, so a partition can cut them apart; the
        guard is off for a naive target and as the servers default for any other, so a row's
        label always says what ran)."""
        mode_key = "session_store" if self.server == "session" else "jwt_mode"
        sentinel = self.topology == "sentinel"
        env = {k: v for k, v in env.items() if k != GUARD_ENV}
        if self.naive:
            env[GUARD_ENV] = "off"
        return {
            mode_key: self.mode,
            "redis_topology": self.topology,
            "store_latency": "0ms" if sentinel else "off",
            "replication_lag": "off",
            "env": env,
        }


@dataclass(frozen=True)
class Plan:
    """How big a run is: per target, `seconds` of faults and load, at most `ops` operations."""

    seed: int
    seconds: float
    ops: int | None
    clients: int
    pace: float
    faults: list[str] | None
    max_faults: int | None


def _faults_here(target: Target, plan: Plan) -> list[str]:
    """The faults this target's topology allows, and this machine can inject."""
    return [
        name
        for name in schedule.applicable(target.topology, plan.faults)
        if available(name) is None
    ]


def run_target(
    lab: Lab, target: Target, plan: Plan, say: Callable[[str], None]
) -> tuple[History, dict[str, Any]]:
    """Run one target on `lab` (reconfigured as it needs); its history and its report."""
    wanted = target.lab_changes(lab.config.env)
    changes = {k: v for k, v in wanted.items() if getattr(lab.config, k) != v}
    if changes:
        say("  lab: " + ", ".join(f"{k}={v}" for k, v in changes.items()))
    lab.reconfigure(**changes)  # also restarts whatever a previous target left stopped
    # Not on the split brain a partition of the target before may still leave (partition.py).
    settled = wait_whole(lab)
    if settled > 1:
        say(f"  the store became whole again after {settled:.0f}s")
    faults = schedule.plan(
        plan.seed, plan.seconds, target.topology, target.server, lab.config.replicas,
        faults=_faults_here(target, plan), limit=plan.max_faults,
    )  # fmt: skip
    say(f"  schedule: {'; '.join(f.describe() for f in faults) or 'no fault'}")
    history = History(
        {
            "seed": plan.seed,
            "target": target.name,
            "server": target.server,
            "mode": target.mode,
            "topology": target.topology,
            "naive": target.naive,
            "schedule": [f.to_json() for f in faults],
            "plan": {"seconds": plan.seconds, "ops": plan.ops, "clients": plan.clients},
            "replicas": lab.config.replicas,
            "store_settled_s": settled,
        }
    )
    clients = [
        Client(
            n, lab.url(target.server), history,
            # The guarded target's name: with --naive, the same seed makes the same workload.
            random.Random(f"{plan.seed}:{replace(target, naive=False).name}:{n}"),  # noqa: S311
            refresh_mode=target.mode == "refresh",
        )
        for n in range(1, plan.clients + 1)
    ]  # fmt: skip
    for client in clients:
        client.register()
    _load_and_faults(lab, clients, faults, history, plan)
    lab.up()  # every fault healed (a failed heal is repaired here), HAProxy sees all up
    for client in clients:
        client.final_reads()
    return history, check(history.header, history.records)


def _load_and_faults(
    lab: Lab, clients: list[Client], faults: list[schedule.Fault], history: History, plan: Plan
) -> None:
    """The clients in threads; the faults, one after the other, in this one."""
    stop = threading.Event()
    budget = Budget(plan.ops)
    threads = [
        threading.Thread(target=drive, args=(c, stop, budget, plan.pace), daemon=True)
        for c in clients
    ]
    for thread in threads:
        thread.start()
    try:
        for fault in faults:
            while history.now() < fault.at and any(t.is_alive() for t in threads):
                time.sleep(0.05)
            if not any(t.is_alive() for t in threads):
                break  # out of operations: the rest of the schedule has no one to hurt
            if history.now() + fault.hold > plan.seconds:
                break  # slow restarts ate the time: the run stays as long as it was planned
            inject(lab, fault, history)
        while history.now() < plan.seconds and any(t.is_alive() for t in threads):
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def save(history: History, out: Path, name: str) -> Path:
    """The history as `<out>/<name>.history.jsonl`."""
    return history.write(out / f"{name}.history.jsonl")
