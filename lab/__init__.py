"""AuthLab's lab: replicas of both servers behind HAProxy, a private Redis, faults on demand.

    from lab import Lab
    with Lab(replicas=3, session_store="memory", lb_policy="roundrobin") as lab:
        ...  # lab.session_url, lab.jwt_url, lab.kill_replica("session", 2), lab.redis_stop(), ...

The command line (`python -m lab`) is a thin layer over the same class.
"""

from .api import Lab, Replica
from .engine.state import LabConfig, LabError

__all__ = ["Lab", "LabConfig", "LabError", "Replica"]
