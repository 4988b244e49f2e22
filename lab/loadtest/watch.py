"""What happened around a load test while it ran: HAProxy's rotation, and who used the CPU.

Once a second the runner asks HAProxy (its runtime API, `show stat`) how it sees each replica of
the server under test, and psutil how much CPU each replica (gunicorn's master and workers) and
Locust (all its processes) used. After the run, `rotation()` says whether a replica left the
rotation, read from HAProxy, not guessed; `saturation()` says who ran out of CPU in the steady
state: the servers, the load generator, or neither.
"""

from __future__ import annotations

import csv
import io
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from ..api import Lab
from ..engine import haproxy
from ..engine.state import LabError

#: A process at or above this share of one core (percent) is saturated.
SATURATED_PERCENT = 85.0
#: The machine at or above this share of all its cores (percent) is saturated.
MACHINE_SATURATED_PERCENT = 90.0
#: Seconds between samples.
INTERVAL = 1.0


def backend_stats(lab: Lab, backend: str) -> dict[str, dict[str, str]]:
    """HAProxy's `show stat` rows of one backend's servers: {"s1": {"status": "UP", ...}}."""
    text = haproxy.command(lab.admin_socket, "show stat").lstrip("# ")
    return {
        row["svname"]: row
        for row in csv.DictReader(io.StringIO(text))
        if row.get("pxname") == backend and row.get("svname") not in ("FRONTEND", "BACKEND")
    }


class ProcessTree:
    """A process and its children, sampled with psutil's cpu_percent (per call, since the last)."""

    def __init__(self, pid: int):
        self.pid = pid
        self._procs: dict[int, psutil.Process] = {}
        self.busiest = 0.0

    def cpu_percent(self) -> float:
        """CPU used by the tree since the last call, in percent of one core."""
        try:
            root = psutil.Process(self.pid)
            members = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0.0
        used = []
        for proc in members:
            known = self._procs.setdefault(proc.pid, proc)
            try:
                used.append(known.cpu_percent(None))  # 0.0 on the first call: primes the counter
            except psutil.Error:
                continue
        #: The busiest single process of this sample (a Locust process is bound to one core).
        self.busiest = max(used, default=0.0)
        return sum(used)


@dataclass
class Sample:
    """One second of the run."""

    t: float
    cpu: dict[str, float]
    machine: float
    lb: dict[str, str]


@dataclass
class RunWatch:
    """Samples HAProxy and CPU once a second while Locust runs (call `tick` often)."""

    lab: Lab
    server: str
    samples: list[Sample] = field(default_factory=list)
    before: dict[str, dict[str, str]] = field(default_factory=dict)
    after: dict[str, dict[str, str]] = field(default_factory=dict)
    trees: dict[str, ProcessTree] = field(default_factory=dict)
    locust_busiest: list[tuple[float, float]] = field(default_factory=list)
    _next: float = 0.0

    def start(self) -> None:
        """The rotation before the run, and CPU counters primed."""
        self.before = self._stats()
        for replica in self.lab.replicas(self.server):
            if replica.pid:
                self.trees[replica.replica_id] = ProcessTree(replica.pid)
        psutil.cpu_percent(None)
        for tree in self.trees.values():
            tree.cpu_percent()

    def tick(self, locust_pid: int) -> None:
        """Take a sample when a second has passed since the last one."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + INTERVAL
        if "locust" not in self.trees:
            self.trees["locust"] = ProcessTree(locust_pid)
        cpu = {name: tree.cpu_percent() for name, tree in self.trees.items()}
        self.locust_busiest.append((time.time(), self.trees["locust"].busiest))
        lb = {name: row.get("status", "?") for name, row in self._stats().items()}
        self.samples.append(Sample(time.time(), cpu, psutil.cpu_percent(None), lb))

    def finish(self) -> None:
        """The rotation after the run."""
        self.after = self._stats()

    def _stats(self) -> dict[str, dict[str, str]]:
        try:
            return backend_stats(self.lab, self.server)
        except LabError:
            return {}

    # -- what it says --------------------------------------------------------------------------

    def rotation(self) -> dict[str, Any]:
        """Whether each replica stayed in HAProxy's rotation: statuses seen and DOWN transitions."""
        servers = {}
        for name in sorted(set(self.before) | set(self.after)):
            before, after = self.before.get(name, {}), self.after.get(name, {})
            seen = sorted({s.lb[name] for s in self.samples if name in s.lb})
            went_down = _int(after.get("chkdown")) - _int(before.get("chkdown"))
            servers[f"{self.server}-{name.lstrip('s')}"] = {
                "statuses_seen": seen,
                "marked_down": max(went_down, 0),
                "last_check": after.get("check_status") or None,
                "left_rotation": went_down > 0 or any(_out(status) for status in seen),
            }
        return {"source": "HAProxy runtime API (show stat), sampled each second", **servers}

    def saturation(self, windows: list[tuple[float, float]]) -> dict[str, Any]:
        """Who ran out of CPU during the steady windows (all samples when there are none)."""
        chosen = [s for s in self.samples if _inside(s.t, windows)] or self.samples
        if not chosen:
            return {"verdict": "unknown: no CPU samples", "samples": 0}
        means = {
            name: statistics.fmean(s.cpu.get(name, 0.0) for s in chosen) for name in self.trees
        }
        replicas = {name: round(v, 1) for name, v in means.items() if name != "locust"}
        busiest = [v for t, v in self.locust_busiest if _inside(t, windows)] or [
            v for _, v in self.locust_busiest
        ]
        locust_core = statistics.fmean(busiest) if busiest else 0.0
        machine = statistics.fmean(s.machine for s in chosen)
        return {
            "samples": len(chosen),
            "replicas_cpu_percent": replicas,
            "locust_cpu_percent": round(means.get("locust", 0.0), 1),
            "locust_busiest_process_percent": round(locust_core, 1),
            "machine_cpu_percent": round(machine, 1),
            "cpus": psutil.cpu_count(),
            **verdict(replicas, means.get("locust", 0.0), locust_core, machine, self.lab),
        }


def verdict(
    replicas: dict[str, float], locust: float, locust_core: float, machine: float, lab: Lab
) -> dict[str, Any]:
    """'servers saturated', 'load generator saturated', both, or neither, with the reasons.

    All figures are percent of one core; `machine` is percent of all cores. When the machine's
    cores are full, the biggest user of them (the replicas, Locust, or other processes) is named.
    """
    cores = psutil.cpu_count() or 1
    used = {"the replicas": sum(replicas.values()), "Locust": locust}
    used["other processes"] = max(0.0, machine * cores - sum(used.values()))
    biggest = max(used, key=lambda k: used[k])
    full = machine >= MACHINE_SATURATED_PERCENT
    reasons = []
    servers = bool(replicas) and all(
        v >= SATURATED_PERCENT * lab.config.workers for v in replicas.values()
    )
    if servers:
        reasons.append(f"every replica used at least {SATURATED_PERCENT:.0f}% of its cores")
    generator = locust_core >= SATURATED_PERCENT
    if generator:
        reasons.append(f"a Locust process used {locust_core:.0f}% of a core")
    if full:
        servers = servers or biggest == "the replicas"
        generator = generator or biggest == "Locust"
        reasons.append(
            f"the machine's {cores} cores were {machine:.0f}% busy, most of it {biggest} "
            f"({used[biggest]:.0f}% of one core)"
        )
    words = [w for w, on in (("servers", servers), ("load generator", generator)) if on]
    text = " and ".join(words) + " saturated" if words else "neither saturated"
    if full and biggest == "other processes":
        text += " (machine busy with other work)"
        reasons.append("other processes took most of the CPU: the lab and Locust competed for it")
    return {
        "servers_saturated": servers,
        "load_generator_saturated": generator,
        "machine_contended": full and biggest == "other processes",
        "verdict": text,
        "reasons": reasons,
    }


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _out(status: str) -> bool:
    """A status that means out of the rotation (DOWN, going down counts as still in)."""
    return status.startswith(("DOWN", "MAINT", "DRAIN", "NOLB"))


def _inside(t: float, windows: list[tuple[float, float]]) -> bool:
    return any(start <= t <= end for start, end in windows)
