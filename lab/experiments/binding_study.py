"""Bound credentials beside bearer ones, measured: the stolen copy left alone, and the cost.

Shared by the report (its bound-credentials section) and notebook 09; docs/binding.md says
what DBSC and DPoP are. Two measurements on a running lab, each returning rows:

- `copy_windows`: on each server at once, the story's victim logs in (holding a key where the
  server binds), the attacker copies everything but the key, and nobody acts: the attacker
  keeps trying and the victim keeps browsing (`Story.keeps_trying`) until the copy is refused or
  `watch` seconds pass. A row says how long the copy worked, when and why it was refused, and
  whether the victim was still let in after that.
- `request_costs`: one client (holding the key where the server binds) asks GET /auth/me
  `requests` times in a row (`binding_cost.samples`): the server's auth check (Server-Timing)
  and its store round trips, the whole request as the client saw it (signing a proof
  included), the login, and DBSC renewals; medians with p90, and the samples kept for the
  verdict's interval.

`study` runs both on the pool's lab unbound, then bound (one restart of each server), and
names each configuration it measured.
"""

from __future__ import annotations

import statistics
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..api import Lab
from ..engine.configuration import describe, lab_settings
from .binding import binding_of
from .binding_cost import samples
from .labs import LabPool, dbsc_cookie_ttl, jwt_leeway, mode_of
from .sizes import Scale
from .story import Story

SERVERS = ("session", "jwt")
#: Seconds the copy is watched past the longest life it may have (a DBSC cookie, a JWT).
WATCH_MARGIN = 1.5
#: The lab settings that bind both servers (docs/binding.md).
BOUND = {"session_binding": "dbsc", "jwt_binding": "dpop"}


def configuration(lab: Lab, server: str) -> str:
    """'session (redis)', 'jwt (stateless) + dpop': a server, its mode and its binding."""
    binding = binding_of(lab.config, server)
    return f"{server} ({mode_of(lab, server)})" + ("" if binding == "none" else f" + {binding}")


def copy_window(lab: Lab, server: str, watch: float) -> dict[str, Any]:
    """The stolen copy left alone on `server`: how long it worked, and the victim since."""
    story = Story(lab, server)
    try:
        story.login()
        story.steal()
        event = story.keeps_trying(watch)
    finally:
        story.close()
    return {
        "configuration": configuration(lab, server),
        "server": server,
        "mode": story.mode,
        "binding": story.binding,
        **{k: v for k, v in event.items() if k not in ("step", "binding")},
        "watch_s": watch,
        "access_ttl": lab.config.access_ttl if server == "jwt" else None,
        "leeway": jwt_leeway(lab) if server == "jwt" else None,
    }


def timeline_window(timeline: dict[str, Any]) -> dict[str, Any]:
    """A stolen-cookie timeline (`stolen.stolen_cookie_timeline`: the victim acted) as a window
    row: how long the unbound copy worked after the theft, and the action that came before.
    The report sets these beside the bound rows instead of watching unbound copies again."""
    events = timeline["events"]
    stolen = next(e["t"] for e in events if e.get("event") == "copies the cookie")
    tries = [
        (e["t"] - stolen, e["status"])
        for e in events
        if e["who"] == "attacker" and e.get("status") in (200, 401)
    ]
    let_in = [at for at, status in tries if status == 200]
    refused = [at for at, status in tries if status == 401]
    api = timeline.get("api") or {}
    return {
        "configuration": f"{timeline['server']} ({timeline['mode']})",
        "server": timeline["server"],
        "mode": timeline["mode"],
        "binding": "none",
        "tries": len(tries),
        "watched_s": max((at for at, _ in tries), default=0.0),
        "worked_s": max(let_in) if let_in else None,
        "refused_after_s": min(refused) if refused else None,
        "refusal": None,
        "victim": None,
        "renewals": 0,
        "action": timeline["action"],
        "acted_s": timeline["revoked_at"] - stolen,
        "api_revoked": api.get("revoked"),
    }


def default_watch(lab: Lab) -> float:
    """Long enough to see a DBSC cookie and a JWT of this lab expire, and a margin."""
    jwt_life = (lab.config.access_ttl or 0) + jwt_leeway(lab)
    return max(dbsc_cookie_ttl(lab), jwt_life) + WATCH_MARGIN


def copy_windows(
    lab: Lab, servers: tuple[str, ...] = SERVERS, watch: float | None = None
) -> list[dict[str, Any]]:
    """`copy_window` on each server at the same time (the waits overlap)."""
    watch = default_watch(lab) if watch is None else watch
    with ThreadPoolExecutor(len(servers)) as pool:
        return list(pool.map(lambda server: copy_window(lab, server, watch), servers))


def p50_p90(values: list[float]) -> tuple[float | None, float | None]:
    """(median, 90th percentile) of `values`, None without any."""
    if not values:
        return None, None
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def request_cost(lab: Lab, server: str, requests: int) -> dict[str, Any]:
    """One client's `requests` GET /auth/me on `server` as the lab binds it: medians and p90s
    in ms, store round trips, and the samples behind them."""
    binding = binding_of(lab.config, server)
    seen = samples(lab, server, binding != "none", requests)
    row: dict[str, Any] = {
        "configuration": configuration(lab, server),
        "server": server,
        "mode": mode_of(lab, server),
        "binding": binding,
        "requests": requests,
        "store_round_trips": statistics.mean(t or 0 for t in seen["trips"]),
        "login_ms": seen["login"],
    }
    for key, values in (("auth", seen["auth"]), ("wall", seen["wall"])):
        row[f"{key}_p50_ms"], row[f"{key}_p90_ms"] = p50_p90(values)
    row["renewal_p50_ms"], row["renewal_p90_ms"] = p50_p90(seen["renewals"])
    row["renewals"] = len(seen["renewals"])
    row["samples"] = {"auth_ms": seen["auth"], "wall_ms": seen["wall"]}
    return row


def request_costs(
    lab: Lab, requests: int, servers: tuple[str, ...] = SERVERS
) -> list[dict[str, Any]]:
    """`request_cost` on each server, one after the other (concurrent clients would share the
    cores and measure each other)."""
    return [request_cost(lab, server, requests) for server in servers]


def measured(lab: Lab) -> str:
    """The configuration a measurement ran on, in words."""
    return describe(lab_settings(lab.config))


def in_lesson_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each server unbound, then bound: session first, then jwt."""
    return sorted(rows, key=lambda r: (SERVERS.index(r["server"]), r["binding"] != "none"))


def study(pool: LabPool, progress=print) -> dict[str, Any]:
    """Both measurements, unbound then bound, at the pool's scale."""
    scale: Scale = pool.scale
    result: dict[str, Any] = {"scale": scale.name, "windows": [], "costs": [], "measured": {}}
    for name, changes in (("unbound", {}), ("bound", BOUND)):
        lab = pool.get(None, **changes)
        progress(f"binding: {name}: the stolen copy left alone, then {scale.binding_requests} "
                 "requests per server")  # fmt: skip
        result["windows"] += copy_windows(lab)
        result["costs"] += request_costs(lab, scale.binding_requests)
        result["measured"][name] = measured(lab)
    for part in ("windows", "costs"):
        result[part] = in_lesson_order(result[part])
    return result


#: What the tables show of a window row and of a cost row.
WINDOW_COLUMNS = (
    "configuration", "action", "acted_s", "worked_s", "refused_after_s", "watched_s", "victim",
    "renewals", "refusal",
)  # fmt: skip
COST_COLUMNS = (
    "configuration", "auth_p50_ms", "auth_p90_ms", "store_round_trips", "wall_p50_ms",
    "wall_p90_ms", "login_ms", "renewal_p50_ms",
)  # fmt: skip


def window_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The window rows as a table shows them."""
    return [{column: row.get(column) for column in WINDOW_COLUMNS} for row in rows]


def cost_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cost rows as a table shows them (without their samples)."""
    return [{column: row.get(column) for column in COST_COLUMNS} for row in rows]
