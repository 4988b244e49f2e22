"""How big an experiment runs: seconds for tests and CI (`quick`), minutes for a study (`full`).

Every experiment takes its sizes as arguments; a `Scale` is just a named set of them, so the
notebooks, the report and the tests can say "quick" or "full" in one word. The environment
variable AUTHLAB_SCALE picks one for the notebooks (`AUTHLAB_SCALE=full jupyter lab`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

#: The environment variable that picks the scale of the notebooks' experiments.
SCALE_ENV = "AUTHLAB_SCALE"


@dataclass(frozen=True)
class Scale:
    """The knobs that decide how long an experiment takes and how much it can tell."""

    name: str
    #: Replicas of each server in the labs the experiments start.
    replicas: int
    #: JWT access-token lifetime (seconds) where a stateless window is measured: it *is* the
    #: window, so a short one keeps the run short without changing the lesson.
    access_ttl: int
    #: Longest wait for a stolen copy to die by itself: a copy the API says lives longer (a
    #: 12-hour session a replica could not reach) is reported "still valid" after this long.
    max_watch: float
    #: bcrypt cost in the experiments' labs: logins are setup here, not the thing measured.
    bcrypt_rounds: int
    #: JWT_LEEWAY: seconds a JWT is still accepted past its `exp` (clock skew). It adds to every
    #: stateless window; None keeps the server's default (5 s).
    jwt_leeway: float | None
    #: JWT_REFRESH_GRACE: seconds within which a second refresh with the same token is forgiven
    #: (two tabs); the refresh-theft experiment waits it out. None keeps the default (5 s).
    refresh_grace: float | None
    #: Seconds of load behind each latency figure (p95) and each point of the scaling curve.
    load_seconds: float
    #: Concurrent clients of the load generator.
    load_threads: int
    #: Replica counts of the scaling curve.
    scaling_replicas: tuple[int, ...]
    #: Sessions created to measure Redis bytes per session.
    sessions: int
    #: Requests each client makes when counting the memory store's refusals.
    probes: int
    #: Revocation races per configuration in the push study (each one a victim, an attacker per
    #: replica and a revocation); its p99 needs many at full scale, a few show the lesson.
    races: int
    #: Seconds of the failure experiments: steady state before, fault, recovery after.
    fault_before: float
    fault_seconds: float
    fault_after: float
    #: DBSC_COOKIE_TTL: seconds a bound session's short cookie lives. It *is* a stolen copy's
    #: window on a DBSC server (the default is 60 s), so a short one keeps the run short.
    dbsc_cookie_ttl: int
    #: Sequential GET /auth/me of one client behind each per-request cost of a binding.
    binding_requests: int


QUICK = Scale(
    name="quick",
    replicas=2,
    access_ttl=2,
    max_watch=6.0,
    bcrypt_rounds=4,
    jwt_leeway=1.0,
    refresh_grace=1.0,
    load_seconds=1.0,
    load_threads=4,
    scaling_replicas=(1, 2),
    sessions=200,
    probes=12,
    races=4,
    fault_before=1.0,
    fault_seconds=2.5,
    fault_after=3.0,
    dbsc_cookie_ttl=2,
    binding_requests=100,
)

FULL = Scale(
    name="full",
    replicas=3,
    access_ttl=10,
    max_watch=40.0,
    bcrypt_rounds=4,
    jwt_leeway=None,
    refresh_grace=None,
    load_seconds=10.0,
    load_threads=16,
    scaling_replicas=(1, 2, 3),
    sessions=5000,
    probes=60,
    races=30,
    fault_before=5.0,
    fault_seconds=10.0,
    fault_after=10.0,
    dbsc_cookie_ttl=10,
    binding_requests=300,
)

SCALES = {scale.name: scale for scale in (QUICK, FULL)}


def get_scale(name: str | None = None) -> Scale:
    """The named scale, else $AUTHLAB_SCALE, else quick."""
    name = (name or os.environ.get(SCALE_ENV) or "quick").strip().lower()
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"{SCALE_ENV} must be one of {', '.join(SCALES)}, not {name!r}") from None
