"""Logout and revocation: after the victim (or an admin) acts, how long does a copy still work?

The experiment, for one configuration and one action:
1. the victim registers and logs in through the load balancer;
2. the attacker copies every cookie of the victim's browser (the theft);
3. the attacker checks the copy on every replica directly (it works, or it never did there);
4. the victim logs out, or changes the password, or logs out everywhere, or an admin revokes;
5. the attacker keeps asking every replica, every `interval` seconds, until each one refuses or
   `observe` seconds have passed.

The window on a replica is the time between the action's answer and the last request that the
replica still let in: 0 when the very first request after the action was refused. A copy still
let in at the end of the observation is reported as `still_valid` (its window is at least
`observe`). Unless told how long to watch, the experiment believes the API: when the answer
says `valid_until` (a JWT that cannot be revoked), it watches until then plus a margin, capped
at `max_observe`; when it says revoked, it watches for `SETTLE` seconds.

The four actions of one configuration run at the same time, each with its own victim, so
watching four 7-second stateless windows costs about 7 seconds, not 28.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests

from ..api import Lab
from .actors import Client, admin, logged_in_cookies, politely, probe, register
from .labs import LabPool, mode_of
from .load import Target, run_load, summarize

#: Seconds to keep watching a credential the API says is revoked (it should die at once).
SETTLE = 1.5
#: Seconds to keep watching past the `valid_until` the API announced.
MARGIN = 1.0

#: What the victim (or an admin) does to end the stolen credential.
ACTIONS = ("logout", "password", "revoke", "logout-all")


@dataclass(frozen=True)
class Configuration:
    """One way to run one server: the lab settings it needs and which server to ask."""

    name: str
    server: str
    lab: dict[str, Any] = field(default_factory=dict)

    @property
    def mechanism(self) -> str:
        """ "session" or "jwt"."""
        return self.server


#: The five configurations the lesson compares.
CONFIGURATIONS = (
    Configuration("session+redis", "session", {"session_store": "redis"}),
    Configuration(
        "session+memory (sticky)", "session", {"session_store": "memory", "lb_policy": "sticky"}
    ),
    Configuration("jwt stateless", "jwt", {"jwt_mode": "stateless"}),
    Configuration("jwt denylist", "jwt", {"jwt_mode": "denylist"}),
    Configuration("jwt refresh", "jwt", {"jwt_mode": "refresh"}),
)

#: Push revocation (docs/push.md): each revocation is pushed into every replica's memory, so a
#: request needs no store lookup. Measured beside the five by the report (notebook 08 studies
#: them on their own).
PUSH_CONFIGURATIONS = (
    Configuration("session+cached", "session", {"session_store": "cached"}),
    Configuration("jwt push", "jwt", {"jwt_mode": "push"}),
)

#: Every configuration the report's revocation section shows, in the lesson's order.
ALL_CONFIGURATIONS = CONFIGURATIONS + PUSH_CONFIGURATIONS

CONFIGS_BY_NAME = {c.name: c for c in ALL_CONFIGURATIONS}


def send_action(lab: Lab, server: str, action: str, victim: Client, account) -> requests.Response:
    """Send the action's request (the victim's, or an admin's for `revoke`); any answer."""
    if action == "logout":
        return victim.post("/auth/logout")
    if action == "password":
        change = {"current_password": account.password, "new_password": account.password + "-new"}
        # A busy answer (503 hashing_busy) changed nothing: it is sent again.
        return politely(lambda: victim.post("/auth/password", json=change))
    if action == "logout-all":
        return victim.post("/auth/logout-all")
    if action == "revoke":
        boss = admin(lab, server)
        try:
            return boss.post(f"/admin/users/{account.id}/revoke")
        finally:
            boss.close()
    raise ValueError(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")


def perform_action(
    lab: Lab, server: str, action: str, victim: Client, account
) -> tuple[Any, str | None]:
    """Do the action; returns (the API's answer, the replica that handled it)."""
    response = send_action(lab, server, action, victim, account)
    if response.status_code != 200:
        raise RuntimeError(f"{action} failed: {response.status_code} {response.text[:200]}")
    return response.json(), response.headers.get("X-Replica")


def measure_window(
    lab: Lab,
    server: str,
    action: str,
    *,
    observe: float | None = None,
    max_observe: float = 30.0,
    interval: float = 0.05,
    config_name: str | None = None,
) -> dict[str, Any]:
    """Steal a fresh credential, do `action`, and time how long each replica still accepts it."""
    url = lab.url(server)
    replicas = [(rep.replica_id, rep.url) for rep in lab.replicas(server) if rep.running]
    account = register(url, "victim")
    # The victim's client keeps its cookie past Max-Age: with a 2-second token on a busy
    # machine, a browser could drop it before the logout, which would then be a plain 401.
    victim = Client(url, "victim", obeys_expiry=False)
    victim.login(account)
    attacker = victim.steal()
    before = {rid: probe(attacker, base=base)["status"] for rid, base in replicas}
    answer, acted_on = perform_action(lab, server, action, victim, account)
    t0 = time.perf_counter()
    if observe is None:
        observe = watch_for(answer.get("valid_until"), max_observe)
    last_ok: dict[str, float | None] = {rid: None for rid, _ in replicas}
    refused_at: dict[str, float | None] = {rid: None for rid, _ in replicas}
    timeline: list[dict[str, Any]] = []
    pending = [(rid, base) for rid, base in replicas if before[rid] == 200]
    while pending and time.perf_counter() - t0 < observe:
        for rid, base in list(pending):
            sent = time.perf_counter() - t0
            result = probe(attacker, base=base)
            timeline.append({"t": sent, "replica": rid, "status": result["status"]})
            if result["status"] == 200:
                last_ok[rid] = sent
            elif result["status"] == 401:
                refused_at[rid] = sent
                pending.remove((rid, base))
        time.sleep(interval)
    per_replica = []
    for rid, _ in replicas:
        worked = before[rid] == 200
        still = worked and refused_at[rid] is None
        per_replica.append(
            {
                "replica": rid,
                "worked_before": worked,
                "window_s": (last_ok[rid] or 0.0) if worked else None,
                "refused_at_s": refused_at[rid],
                "still_valid": still,
            }
        )
    worked = [row for row in per_replica if row["worked_before"]]
    victim.close()
    attacker.close()
    return {
        "config": config_name or f"{server}:{mode_of(lab, server)}",
        "server": server,
        "mode": mode_of(lab, server),
        "action": action,
        "acted_on": acted_on,
        "api_revoked": answer.get("revoked"),
        "api_valid_until": answer.get("valid_until"),
        # The API's own sentence: why it could (or could not) revoke.
        "api_message": answer.get("message"),
        "observe_s": observe,
        "replicas": per_replica,
        "replicas_where_copy_worked": len(worked),
        "window_s": max((row["window_s"] for row in worked), default=0.0),
        "still_valid": any(row["still_valid"] for row in worked),
        "timeline": timeline,
    }


def watch_for(valid_until: str | None, max_observe: float) -> float:
    """How long to watch: until the announced `valid_until` plus a margin, or SETTLE."""
    if not valid_until:
        return SETTLE
    left = datetime.fromisoformat(valid_until).timestamp() - time.time()
    return min(max_observe, max(SETTLE, left + MARGIN))


def measure_actions(
    lab: Lab,
    server: str,
    actions: tuple[str, ...] = ACTIONS,
    *,
    observe: float | None = None,
    max_observe: float = 30.0,
    interval: float = 0.05,
    config_name: str | None = None,
) -> list[dict[str, Any]]:
    """`measure_window` for several actions at once (each with its own victim)."""
    with ThreadPoolExecutor(len(actions)) as pool:
        futures = [
            pool.submit(
                measure_window,
                lab,
                server,
                action,
                observe=observe,
                max_observe=max_observe,
                interval=interval,
                config_name=config_name,
            )
            for action in actions
        ]
        return [f.result() for f in futures]


def cost_of_checking(
    lab: Lab, server: str, *, seconds: float = 1.5, threads: int = 4, users: int = 4
) -> dict[str, Any]:
    """What each authenticated request costs: store round trips (Server-Timing) and latency."""
    url = lab.url(server)
    samples = run_load([Target(server, url, logged_in_cookies(url, users))], seconds, threads)
    return summarize(samples, seconds)


def measure_configuration(
    lab: Lab,
    config: Configuration,
    actions: tuple[str, ...] = ACTIONS,
    *,
    observe: float | None = None,
    max_observe: float = 30.0,
    latency_seconds: float = 1.5,
    threads: int = 4,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One configuration: the window of every action, and what one authenticated request costs."""
    windows = measure_actions(
        lab,
        config.server,
        actions,
        observe=observe,
        max_observe=max_observe,
        config_name=config.name,
    )
    cost = cost_of_checking(lab, config.server, seconds=latency_seconds, threads=threads)
    return windows, {"config": config.name, "server": config.server, **cost}


#: The order to break ties in: each step changes one server's settings only.
RUN_ORDER = (
    "session+redis",
    "jwt stateless",
    "jwt refresh",
    "jwt denylist",
    "session+memory (sticky)",
    "session+cached",
    "jwt push",
)


def revocation_study(
    pool: LabPool,
    configurations: tuple[Configuration, ...] = CONFIGURATIONS,
    actions: tuple[str, ...] = ACTIONS,
    *,
    observe: float | None = None,
    latency_seconds: float | None = None,
    progress=None,
) -> dict[str, Any]:
    """Every configuration: the windows of every action, and the cost of one authenticated request.

    The lab is reconfigured between configurations (only the server concerned restarts); the
    results come back in the order of `configurations`.
    """
    progress = progress or (lambda message: None)
    latency_seconds = pool.scale.load_seconds if latency_seconds is None else latency_seconds
    rank = {name: i for i, name in enumerate(RUN_ORDER)}
    results: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {}
    todo = list(configurations)
    while todo:
        # Next: the configuration that changes the running lab least (then the usual order).
        config = min(
            todo,
            key=lambda c: (len(pool.changes(c.server, **c.lab)), rank.get(c.name, len(rank))),
        )
        todo.remove(config)
        progress(f"revocation: {config.name}")
        lab = pool.get(config.server, **config.lab)
        results[config.name] = measure_configuration(
            lab,
            config,
            actions,
            observe=observe,
            max_observe=pool.scale.max_watch,
            latency_seconds=latency_seconds,
            threads=pool.scale.load_threads,
        )
    windows = [w for c in configurations for w in results[c.name][0]]
    costs = [results[c.name][1] for c in configurations]
    return {"windows": windows, "costs": costs}


def window_table(windows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per configuration and action: the window, in words a person can read."""
    rows = []
    for w in windows:
        if w["still_valid"]:
            shown = f">= {w['observe_s']:.1f} s (still valid)"
        else:
            shown = f"{w['window_s']:.2f} s"
        rows.append(
            {
                "configuration": w["config"],
                "action": w["action"],
                "window": shown,
                "copy worked on": f"{w['replicas_where_copy_worked']} of {len(w['replicas'])}",
                "API said revoked": w["api_revoked"],
            }
        )
    return rows
