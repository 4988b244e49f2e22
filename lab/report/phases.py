"""The report's phases: each a lab configuration and the experiment steps measured on it.

Declared once, here, in the order that needs the fewest restarts (each phase changes one or two
settings of the last); `report.run_experiments` walks them, and `report.assemble` puts the
results in the lesson's order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..api import Lab
from ..experiments import (
    LabPool,
    Scale,
    binding_study,
    bytes_per_session,
    credential_anatomy,
    distance,
    failover,
    fault_timeline,
    memory_store_refusals,
    refresh_token_theft,
    stolen_cookie_timeline,
    store_footprint,
    throughput_by_replicas,
)
from ..experiments.revocation import CONFIGS_BY_NAME, measure_configuration

#: Throughput runs per replica count and server: the spread between them says whether the
#: report may rank the servers at all (`ranking`).
SCALING_TRIALS = 3


@dataclass(frozen=True)
class Step:
    """One piece of an experiment: its result goes under `part`; `detail` names it in errors."""

    part: str
    run: Callable[[Run], Any]
    detail: str = ""
    many: bool = False


@dataclass(frozen=True)
class Phase:
    """A lab configuration and the steps measured on it (`pool.get(server, **changes)`)."""

    title: str
    server: str | None
    changes: dict[str, Any]
    steps: tuple[Step, ...]


@dataclass
class Run:
    """What a step needs: the lab of its phase, the pool (to reconfigure), the scale."""

    lab: Lab
    pool: LabPool
    scale: Scale


def _revocation(name: str) -> Step:
    def measure(run: Run) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        config = CONFIGS_BY_NAME[name]
        scale = run.scale
        return measure_configuration(
            run.lab, config, observe=None, max_observe=scale.max_watch,
            latency_seconds=scale.load_seconds, threads=scale.load_threads,
        )  # fmt: skip

    return Step("revocation", measure, detail=name)


def _memory_store(store: str, policy: str) -> Step:
    def measure(run: Run) -> list[dict[str, Any]]:
        return memory_store_refusals(run.pool, ((store, policy),), clients=4,
                                     probes=run.scale.probes)  # fmt: skip

    detail = store if store == "redis" else f"{store}, {policy}"
    return Step("memory_store", measure, detail=detail, many=True)


def _fault(fault: str) -> Step:
    def measure(run: Run) -> dict[str, Any]:
        s = run.scale
        return fault_timeline(run.lab, fault, before=s.fault_before, duration=s.fault_seconds,
                              after=s.fault_after)  # fmt: skip

    return Step("failures", measure, detail=fault)


def _scaling(run: Run) -> list[dict[str, Any]]:
    """SCALING_TRIALS short runs per point, the servers taking turns (session first, then jwt
    first), so that a machine getting busier or quieter mid-run favours neither."""
    s = run.scale
    seconds = max(1.0, s.load_seconds / 2)
    rows = []
    for n in sorted(s.scaling_replicas, reverse=True):
        for trial in range(SCALING_TRIALS):
            order = ("session", "jwt") if trial % 2 == 0 else ("jwt", "session")
            for server in order:
                found = throughput_by_replicas(
                    run.pool, (n,), (server,), seconds=seconds, threads=s.load_threads,
                    access_ttl=None, redis_persist=True, progress=run.pool.log,
                )  # fmt: skip
                rows.extend({**row, "trial": trial + 1} for row in found)
    return rows


def _distance(run: Run) -> dict[str, Any]:
    quick = run.scale.name == "quick"
    distances = distance.QUICK_DISTANCES_MS if quick else distance.DISTANCES_MS
    return distance.distance_sweep(run.pool, distances, seconds=run.scale.load_seconds,
                                   threads=run.scale.load_threads)  # fmt: skip


def _binding(bound: str) -> tuple[Step, ...]:
    """The cost per request of both servers as the phase runs them (`bound`: "unbound" or
    "bound"), and on a bound phase the stolen copy left alone; named with the configuration.
    The unbound copies are section 3's timelines (the victim acted): not watched again."""
    steps = (
        Step("binding_cost", lambda run: binding_study.request_costs(
            run.lab, run.scale.binding_requests), detail=bound, many=True),
        Step("binding_measured", lambda run: (bound, binding_study.measured(run.lab)),
             detail=bound),
    )  # fmt: skip
    if bound == "unbound":
        return steps
    window = Step("binding_window", lambda run: binding_study.copy_windows(run.lab), many=True)
    return (window, *steps)


def _per_server(part: str, fn: Callable[[Lab, str], Any], *servers: str) -> tuple[Step, ...]:
    return tuple(Step(part, lambda run, s=s: fn(run.lab, s), detail=s) for s in servers)


#: The report's phases, in the order that needs the fewest restarts (each changes one or two
#: settings of the last). The report shows the results in the lesson's order (`assemble`).
PHASES: tuple[Phase, ...] = (
    Phase("sessions in Redis, stateless JWT, round-robin (the defaults)", None, {}, (
        *_per_server("credential", credential_anatomy, "session", "jwt"),
        *_per_server("footprint", store_footprint, "session", "jwt"),
        Step("bytes", lambda run: bytes_per_session(run.lab, "session", run.scale.sessions),
             detail="session"),
        _revocation("session+redis"),
        _revocation("jwt stateless"),
        *_per_server("stolen_cookie", stolen_cookie_timeline, "session", "jwt"),
        _memory_store("redis", "roundrobin"),
        *_binding("unbound"),
    )),
    Phase("the JWT server with refresh tokens", "jwt", {"jwt_mode": "refresh"}, (
        Step("credential", lambda run: credential_anatomy(run.lab, "jwt"), detail="jwt refresh"),
        Step("footprint", lambda run: store_footprint(run.lab, "jwt"), detail="jwt refresh"),
        Step("bytes", lambda run: bytes_per_session(run.lab, "jwt", run.scale.sessions),
             detail="jwt refresh"),
        _revocation("jwt refresh"),
        Step("refresh_theft", lambda run: refresh_token_theft(run.lab)),
    )),
    Phase("the JWT server with a denylist", "jwt", {"jwt_mode": "denylist"}, (
        _revocation("jwt denylist"),
    )),
    Phase("sessions in each replica's memory", "session",
          {"session_store": "memory", "lb_policy": "sticky"}, (
        _revocation("session+memory (sticky)"),
        _memory_store("memory", "sticky"),
        _memory_store("memory", "roundrobin"),
    )),
    # Both servers bound at once (one restart); the push phase's restart unbinds them.
    Phase("bound credentials: DBSC sessions, DPoP tokens", None, dict(binding_study.BOUND),
          _binding("bound")),
    # Push revocation: both servers restart at once (one restart's time, not two).
    Phase("push revocation: JWT push mode, sessions cached in each replica", None,
          {"jwt_mode": "push", "session_store": "cached"}, (
        _revocation("session+cached"),
        _revocation("jwt push"),
    )),
    # Redis keeps its data across the stop (append-only file), as in production, so the plot
    # shows the outage, not a mass logout after it; and the JWTs live the server's default
    # lifetime, so none expires during a run.
    *(
        Phase(f"faults: {fault}", None, {"redis_persist": True, "access_ttl": None},
              (_fault(fault),))
        for fault in ("redis", "replica")
    ),
    Phase("throughput, from the most replicas to the fewest", None,
          {"redis_persist": True, "access_ttl": None}, (
        Step("scaling", _scaling, many=True),
    )),
    # The store far away (the latency proxy), then a store that fails over: each step
    # reconfigures the pool itself.
    Phase("the store far away, then failing over", None, {}, (
        Step("distance", _distance),
        Step("failover", lambda run: failover.failover_study(run.pool)),
    )),
)  # fmt: skip
