"""Every measurement of the push lesson, one configuration after the other, stamped."""

from __future__ import annotations

from typing import Any

from ...engine.stamp import stamp as lab_stamp
from ..labs import LabPool
from ..sizes import Scale
from .configs import CONFIGS, long_lived
from .footprint import memory, restart_warmup, warmup
from .outage import outage
from .race import config_windows
from .round_trips import round_trips


def study(pool: LabPool, progress=print) -> dict[str, Any]:
    """Every measurement of the lesson at the pool's scale."""
    scale: Scale = pool.scale
    result: dict[str, Any] = {"run": stamp(scale), "windows": [], "round_trips": [], "outage": {}}
    down = max(scale.fault_seconds, 2.5)  # longer than the push bound (2 s by default)
    for name, server, settings in CONFIGS:
        # One lab configuration after the other: each restarts one server, once or twice.
        result["windows"] += config_windows(pool, name, server, settings, scale.races, progress)
        lab = pool.get(server, **long_lived(server, settings))
        progress(f"push: {name}: round trips, then a Redis outage of {down:g} s")
        result["round_trips"].append({"config": name, **round_trips(lab, server)})
        if name != "jwt refresh":  # its access tokens behave as stateless ones there
            result["outage"][name] = outage(lab, server, down, scale.fault_after)
    result["memory"] = memory(5000 if scale.name == "quick" else 50000)
    result["warmup"] = warmup((0, 1000, 10000) if scale.name == "quick" else (0, 10000, 100000))
    result["restart"] = restart_warmup(pool)
    return result


def stamp(scale: Scale) -> dict[str, Any]:
    """Which commit, when, on what machine (lab.engine.stamp), and at which scale."""
    return {**lab_stamp(), "scale": scale.name, "replicas": scale.replicas}
