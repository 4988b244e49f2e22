"""The fault schedule: which fault, when, for how long, on what, drawn from one seed.

The same seed, topology and duration give the same schedule, so a failure replays: run again
with `--seed S` and the same faults come at the same moments (the clients' interleaving may
differ: their operations are drawn from the seed too, but the machine decides who goes first).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

#: Every fault, with the topologies it applies to (see faults.py for what each one does).
FAULTS: dict[str, tuple[str, ...]] = {
    "flush": ("single", "sentinel"),
    "restart-empty": ("single",),
    "kill-primary": ("sentinel",),
    "replica-restart": ("single", "sentinel"),
    "clock-skew": ("single", "sentinel"),
    "partition": ("sentinel",),
}

#: Seconds of calm before the first fault: clients log in and hold credentials worth breaking.
WARMUP = (1.5, 3.0)
#: Seconds between a fault's healing and the next one.
GAP = (1.5, 4.0)
#: How long each fault lasts (0: instantaneous).
HOLD: dict[str, tuple[float, float]] = {
    "flush": (0.0, 0.0),
    "restart-empty": (1.0, 3.0),
    "kill-primary": (3.0, 5.0),
    "replica-restart": (0.3, 1.0),
    "clock-skew": (3.0, 6.0),
    "partition": (4.0, 7.0),
}
#: A skewed clock is this many seconds ahead or behind (either sign, drawn).
SKEW = (30, 300)


@dataclass(frozen=True)
class Fault:
    """One planned fault: at `at` seconds (after the previous one healed, at the earliest)."""

    at: float
    name: str
    hold: float
    target: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """As the history's header and the report show it."""
        return asdict(self)

    def describe(self) -> str:
        """`12.3s clock-skew jwt-2 +120s (4.0s)`."""
        what = " ".join(f"{v}" for v in self.target.values())
        return f"{self.at:.1f}s {self.name}{' ' + what if what else ''} ({self.hold:.1f}s)"


def applicable(topology: str, wanted: list[str] | None = None) -> list[str]:
    """The faults that apply to `topology`, in declaration order (optionally only `wanted`)."""
    names = [name for name, where in FAULTS.items() if topology in where]
    return [n for n in names if n in wanted] if wanted else names


def _target(rng: random.Random, name: str, server: str, replicas: int) -> dict[str, Any]:
    if name in ("replica-restart", "clock-skew"):
        target: dict[str, Any] = {"replica": f"{server}-{rng.randint(1, replicas)}"}
        if name == "clock-skew":
            target["offset"] = rng.choice((-1, 1)) * rng.randint(*SKEW)
        return target
    return {}


def plan(
    seed: int,
    seconds: float,
    topology: str,
    server: str,
    replicas: int,
    *,
    faults: list[str] | None = None,
    limit: int | None = None,
) -> list[Fault]:
    """A schedule that fits in `seconds` (at most `limit` faults), drawn from `seed`."""
    rng = random.Random(f"{seed}:{topology}:{server}")  # noqa: S311 (a schedule, not a secret)
    names = applicable(topology, faults)
    if not names:
        return []
    schedule: list[Fault] = []
    at = rng.uniform(*WARMUP)
    while limit is None or len(schedule) < limit:
        name = rng.choice(names)
        hold = round(rng.uniform(*HOLD[name]), 1)
        if at + hold > seconds:
            break
        schedule.append(Fault(round(at, 1), name, hold, _target(rng, name, server, replicas)))
        at += hold + rng.uniform(*GAP)
    return schedule
