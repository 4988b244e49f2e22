"""What a load test measured, in one line: the configuration beside every headline.

A number without its configuration misleads: the same "browse on jwt" is another measurement
with refresh tokens of 30 s than with stateless tokens of 15 min. Every headline, comparison
and plot title of `lab loadtest` names the modes, lifetimes, bcrypt cost, replicas, store and
topology it measured, read from the lab it ran on (`lab_settings`).
"""

from __future__ import annotations

from typing import Any

from ..report_text_common import default_access_ttl, lifetime

#: The lab settings a load test depends on (summary.json's "lab").
NAMES = (
    "replicas", "lb_policy", "session_store", "jwt_mode", "access_ttl", "algorithm", "workers",
    "threads", "bcrypt_rounds", "redis_topology", "store_latency", "replication_lag", "env",
)  # fmt: skip


def lab_settings(config: Any) -> dict[str, Any]:
    """The lab settings a load test depends on, from a LabConfig."""
    return {name: getattr(config, name, None) for name in NAMES}


def _jwt(settings: dict[str, Any]) -> str:
    mode = settings.get("jwt_mode") or "?"
    ttl = settings.get("access_ttl")
    try:
        said = lifetime(ttl) if ttl is not None else f"{lifetime(default_access_ttl(mode))} default"
    except KeyError:
        said = "default"
    return f"jwt {mode} mode, {settings.get('algorithm') or 'HS256'}, access tokens {said}"


def _store(settings: dict[str, Any]) -> str:
    parts = [f"Redis {settings.get('redis_topology') or 'single'}"]
    for key, name in (("store_latency", "store latency"), ("replication_lag", "replica lag")):
        if settings.get(key) not in (None, "off"):
            parts.append(f"{name} {settings[key]}")
    return ", ".join(parts)


def describe(settings: dict[str, Any], server: str | None = None) -> str:
    """'jwt stateless mode, HS256, access tokens 15 min default; 3 replicas x 1 worker x 4
    threads, roundrobin; bcrypt cost 12; Redis single' (the server's half only, if named)."""
    halves = {
        "session": f"session store {settings.get('session_store') or '?'}",
        "jwt": _jwt(settings),
    }
    which = [halves[server]] if server in halves else list(halves.values())
    env = settings.get("env") or {}
    extra = [f"{k}={v}" for k, v in sorted(env.items())]
    return "; ".join(
        [
            *which,
            f"{settings.get('replicas')} replicas x {settings.get('workers')} worker(s) x "
            f"{settings.get('threads')} threads, {settings.get('lb_policy')}",
            f"bcrypt cost {settings.get('bcrypt_rounds')}",
            _store(settings),
            *([f"env {' '.join(extra)}"] if extra else []),
        ]
    )
