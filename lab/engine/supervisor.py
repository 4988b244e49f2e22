"""The one supervisor: starts a lab process with its record, tells whether it is still alive.

Every process the lab runs (replicas, HAProxy, Redis nodes, sentinels, the latency proxy) is
started through `Supervisor.spawn`, which writes its pid to the state file the moment it exists,
so `down` can stop it even after an `up` that failed half-way. Stopping is `processes.stop`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import processes
from .state import LabState, ProcessRecord, StateStore


def digest(*parts: Any) -> str:
    """A digest of how a process was started: equal digests mean nothing to restart."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def alive(rec: ProcessRecord | None) -> bool:
    """Whether a recorded process still runs (and is still the one the lab started)."""
    return rec is not None and processes.is_running(rec.pid, rec.create_time)


class Supervisor:
    """Starts one lab's processes, recording each pid as soon as it exists."""

    def __init__(
        self,
        store: StateStore,
        state: LabState,
        timeout: float,
        log: Callable[[str], None],
    ):
        self.store = store
        self.state = state
        self.state_dir: Path = store.dir
        self.timeout = timeout
        self._log = log

    def log(self, message: str) -> None:
        """Say what the lab is doing (the caller's `log`)."""
        self._log(message)

    def spawn(
        self,
        state: LabState,
        name: str,
        argv: list[str],
        env: dict[str, str],
        *,
        port: int | None,
        fingerprint: str,
    ) -> ProcessRecord:
        """Start one process and record its pid at once (a failed `up` can still be downed)."""
        log = self.store.logs / f"{name}.log"
        with open(log, "a") as f:
            f.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}\n")
        pid = processes.spawn(argv, env={**processes.base_env(), **env}, log=log)
        started = processes.create_time(pid)
        rec = ProcessRecord(name, pid, port, argv, str(log), started, fingerprint)
        state.processes[name] = rec
        self.store.save(state)
        return rec
