"""What a lab ran with, in words: the configuration beside every headline, durations for people.

A number without its configuration misleads: the same "browse on jwt" is another measurement
with refresh tokens of 30 s than with stateless tokens of 15 min. Every headline, comparison
and plot title of `lab loadtest` names the modes, lifetimes, bcrypt cost, replicas, store and
topology it measured, read from the lab it ran on (`lab_settings`); so do the distance and
failover experiments. It lives in the engine, below them all, with the durations and declared
defaults the report, the load tests and the demo say in words.
"""

from __future__ import annotations

from typing import Any

from servers.core.config import default_of
from servers.jwt_server.config import DEFAULT_ACCESS_TTL

#: The lab settings a load test depends on (summary.json's "lab").
NAMES = (
    "replicas", "lb_policy", "session_store", "jwt_mode", "access_ttl", "algorithm", "workers",
    "threads", "bcrypt_rounds", "redis_topology", "store_latency", "replication_lag", "env",
    "session_binding", "jwt_binding",
)  # fmt: skip


def lifetime(seconds: float | None) -> str:
    """A duration for people: '3 s', '15 min 5 s', '12 h'."""
    if seconds is None:
        return "an unknown time"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    parts.append(f"{secs} s" if secs or not (hours or minutes) else "")
    return " ".join(p for p in parts if p)


def default_access_ttl(mode: str) -> int:
    """ACCESS_TOKEN_TTL as a deployment gets it: the declared setting, else the mode's default."""
    declared = default_of("access_token_ttl")
    return int(declared if declared is not None else DEFAULT_ACCESS_TTL[mode])


def default_dbsc_cookie_ttl() -> int:
    """DBSC_COOKIE_TTL as declared: seconds a bound session's short cookie lives."""
    return int(default_of("dbsc_cookie_ttl"))


def default_leeway() -> float:
    """JWT_LEEWAY as declared: seconds a token outlives its exp."""
    return float(default_of("jwt_leeway"))


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
    text = f"jwt {mode} mode, {settings.get('algorithm') or 'HS256'}, access tokens {said}"
    return text + _bound(settings.get("jwt_binding"))


def _bound(binding: str | None) -> str:
    """', bound: dpop' where a server binds its credentials to a client key."""
    return f", bound: {binding}" if binding not in (None, "none") else ""


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
        "session": f"session store {settings.get('session_store') or '?'}"
        + _bound(settings.get("session_binding")),
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
