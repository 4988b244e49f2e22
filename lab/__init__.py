"""AuthLab's lab: replicas of both servers behind HAProxy, a private Redis, faults on demand.

    from lab import Lab
    with Lab(replicas=3, session_store="memory", lb_policy="roundrobin") as lab:
        ...  # lab.session_url, lab.jwt_url, lab.kill_replica("session", 2), lab.redis_stop(), ...

The command line (`python -m lab`) is a thin layer over the same class. The names below are
imported when first used, so `import lab.store.latency_proxy` (a standard-library process)
does not pull in the whole lab.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import Lab, Replica
    from .engine.state import LabConfig, LabError

__all__ = ["Lab", "LabConfig", "LabError", "Replica"]

#: Where each public name is defined.
_HOMES = {
    "Lab": ".api",
    "Replica": ".api",
    "LabConfig": ".engine.state",
    "LabError": ".engine.state",
}


def __getattr__(name: str) -> Any:
    """The public names, imported on first use (PEP 562)."""
    if name not in _HOMES:
        raise AttributeError(f"module 'lab' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name], __name__), name)
