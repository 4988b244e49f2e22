"""The report's words: each section's question, and how to read its plot, built from the run.

Every function takes the report's results dict and returns sentences (a list of strings, empty
when the section did not run); the template prints them, nothing else. Nothing here knows what
the answer "should" be: a number in a sentence is a number this run measured, or a default read
from its one declaration (servers/core/config.py, and the JWT server's per-mode lifetime), so a
window measured with quick-scale tokens is also said at the lifetimes a deployment gets.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from servers.core.config import default_of
from servers.jwt_server.config import DEFAULT_ACCESS_TTL

from .report_scaling import Verdict, compare

Results = dict[str, Any]
Sentences = list[str]


def _quiet(builder: Callable[[Results], Sentences]) -> Callable[[Results], Sentences]:
    """A builder that meets a result it cannot read says nothing, rather than lose the page."""

    @functools.wraps(builder)
    def safe(results: Results) -> Sentences:
        try:
            return [s for s in builder(results or {}) if s]
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError):
            return []

    return safe


# --- small helpers ---------------------------------------------------------------------------


def _join(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


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


def default_leeway() -> float:
    """JWT_LEEWAY as declared: seconds a token outlives its exp."""
    return float(default_of("jwt_leeway"))


def _scale(results: Results) -> dict[str, Any]:
    return results.get("scale") or {}


def _quick_life(results: Results) -> tuple[float | None, float]:
    """(access-token lifetime, leeway) of this run's JWTs, in seconds."""
    scale = _scale(results)
    leeway = scale.get("jwt_leeway")
    return scale.get("access_ttl"), default_leeway() if leeway is None else float(leeway)


def _windows(results: Results) -> list[dict[str, Any]]:
    return (results.get("revocation") or {}).get("windows") or []


def _find(results: Results, config: str, action: str = "logout") -> dict[str, Any] | None:
    return next(
        (w for w in _windows(results) if w.get("config") == config and w.get("action") == action),
        None,
    )


def _pct(rate: float | None) -> str:
    return f"{100 * (rate or 0):.0f}%"


def _label(item: dict[str, Any]) -> str:
    return f"{item.get('server')} ({item.get('mode')})"


# --- 1. anatomy ------------------------------------------------------------------------------


@_quiet
def anatomy_question(results: Results) -> Sentences:
    """Section 1's question."""
    if not results.get("anatomy"):
        return []
    return ["What does a login leave in the browser, and what does the server keep for it?"]


@_quiet
def anatomy_reading(results: Results) -> Sentences:
    """How to read the credential and memory plots, with this run's bytes."""
    anatomy = results.get("anatomy") or {}
    creds = sorted(anatomy.get("credentials") or [], key=lambda c: c["cookie_header_bytes"])
    out = []
    if len(creds) > 1 and creds[0]["cookie_header_bytes"]:
        least = creds[0]
        heavier = [
            f"{_label(c)} {c['cookie_header_bytes']} bytes "
            f"({c['cookie_header_bytes'] / least['cookie_header_bytes']:.1f} times as many)"
            for c in creds[1:]
        ]
        out.append(
            "In the first plot each pair of bars is one credential: the upper bar is what the "
            f"browser sends with every request. {_label(least)} sends "
            f"{least['cookie_header_bytes']} bytes, {_join(heavier)}: the JWT carries the user "
            "and a signature instead of a pointer to them."
        )
    for m in anatomy.get("memory") or []:
        projections = m.get("projections") or []
        if projections:
            biggest = projections[-1]
            out.append(
                f"{_label(m)} keeps {m['bytes_per_session']:.0f} bytes of Redis per login "
                f"(the second plot), so {biggest['sessions']:,} logged-in users need "
                f"{biggest['gib']:.2f} GiB of RAM for it alone."
            )
    return out


# --- 2. revocation ---------------------------------------------------------------------------


@_quiet
def revocation_question(results: Results) -> Sentences:
    """Section 2's question, naming the configurations and replicas of this run."""
    windows = _windows(results)
    if not windows:
        return []
    configs = list(dict.fromkeys(w["config"] for w in windows))
    replicas = max(len(w.get("replicas") or []) for w in windows)
    return [
        "After the victim logs out, changes the password, is revoked by an admin or logs out "
        "everywhere, how long does a stolen copy of the cookie keep working, on each of the "
        f"{replicas} replicas, in {_join(configs)}? And what does revoking at once cost on "
        "every request?"
    ]


def _stateless_sentence(results: Results, w: dict[str, Any]) -> str:
    """The stateless JWT's window, and the same window at the default lifetimes."""
    ttl, leeway = _quick_life(results)
    mode = w.get("mode") or "stateless"
    full = default_access_ttl(mode) + default_leeway()
    where = (
        "on every replica"
        if w["replicas_where_copy_worked"] == len(w["replicas"])
        else f"on {w['replicas_where_copy_worked']} of {len(w['replicas'])} replicas"
    )
    quick = "the token lived on"
    if ttl:
        quick = f"its {ttl:g}-second quick-scale token (plus {leeway:g} s leeway) lived on"
    return (
        f"The {w['config']} copy kept working {w['window_s']:.1f} s after logout {where}: "
        f"{quick}. At the default {default_access_ttl(mode)}-second ACCESS_TOKEN_TTL (plus "
        f"the default {default_leeway():g} s JWT_LEEWAY) that is up to {lifetime(full)}."
    )


def _at_once(results: Results) -> str:
    """Which configurations refused the copy on the first request after logout."""
    zero = [
        w["config"]
        for w in _windows(results)
        if w["action"] == "logout" and not w["still_valid"] and not w["window_s"]
    ]
    if not zero:
        return ""
    return f"{_join(zero)} refused the copy on the very first request after logout (0 s)."


def _survivors(results: Results) -> Sentences:
    """Rows where the copy was still let in when the experiment stopped watching."""
    out = []
    absolute = default_of("session_absolute_timeout")
    for w in _windows(results):
        if not w["still_valid"]:
            continue
        said = (
            f' The API answered revoked: false, "{w["api_message"]}"'
            if w.get("api_message") and w.get("api_revoked") is False
            else ""
        )
        deadline = ""
        if w.get("server") == "session":
            deadline = (
                f" A session lives up to the default SESSION_ABSOLUTE_TIMEOUT, "
                f"{lifetime(absolute)}, if the thief keeps using it."
            )
        out.append(
            f"{w['config']}, {w['action']}: the copy still worked when we stopped watching "
            f"{w['observe_s']:.1f} s later.{said}{deadline}"
        )
    return out


def _token_windows(results: Results) -> Sentences:
    """The JWT windows that only expiry ends: stateless, and refresh mode's access token."""
    out = []
    for w in _windows(results):
        if w["action"] != "logout" or w["still_valid"] or not w["window_s"]:
            continue
        if w.get("mode") == "stateless":
            out.append(_stateless_sentence(results, w))
        elif w.get("server") == "jwt":
            mode = w.get("mode") or "refresh"
            full = default_access_ttl(mode) + default_leeway()
            out.append(
                f"{w['config']}: the copy kept working {w['window_s']:.1f} s after logout, the "
                f"rest of its access token's life; at the default {default_access_ttl(mode)}-"
                f"second access token of {mode} mode that is up to {lifetime(full)}."
            )
        else:
            out.append(f"{w['config']}: the copy kept working {w['window_s']:.1f} s after logout.")
    return out


@_quiet
def revocation_reading(results: Results) -> Sentences:
    """How to read the windows plot, and what this run's windows mean at default lifetimes."""
    if not _windows(results):
        return []
    return [
        "In the windows plot each group is one configuration and each bar one action; a bar's "
        "height is how long the stolen copy still worked after the action's answer. A bar at "
        "0 s (drawn as a sliver) means the first request after the action was refused; a "
        "hatched bar was still let in when we stopped watching.",
        _at_once(results),
        *_token_windows(results),
        *_survivors(results),
    ]


def _cost(results: Results) -> dict[str, dict[str, Any]]:
    return {c["config"]: c for c in (results.get("revocation") or {}).get("costs") or []}


def _but(results: Results, config: str) -> str:
    """'; but not after revoke': the actions after which this configuration left a window."""
    open_after = [
        w["action"]
        for w in _windows(results)
        if w["config"] == config and (w["still_valid"] or w["window_s"])
    ]
    return f"; but not after {_join(open_after)}" if open_after else ""


@_quiet
def tradeoff_reading(results: Results) -> Sentences:
    """How to read the trade-off plot: who got a 0 s window, and what each paid per request."""
    costs = _cost(results)
    if not costs or not _windows(results):
        return []
    groups: dict[str, list[str]] = {"free": [], "paid": [], "open": []}
    for config, cost in costs.items():
        w = _find(results, config)
        if w is None:
            continue
        trips = cost.get("store_round_trips") or 0
        closed = not w["still_valid"] and not w["window_s"]
        key = "open" if not closed else ("paid" if trips >= 0.5 else "free")
        p95 = cost.get("p95_ms") or 0
        but = _but(results, config) if closed else ""
        groups[key].append(f"{config} ({trips:.2g} round trip(s), p95 {p95:.1f} ms{but})")
    out = [
        "In the trade-off plot the corner to want is bottom left: no window after logout, and "
        "no store round trip on each request."
    ]
    if groups["free"]:
        out.append(f"This run, {_join(groups['free'])} reached it: revocation pushed ahead of "
                   "time, or a store that is not shared.")  # fmt: skip
    if groups["paid"]:
        out.append(f"{_join(groups['paid'])} closed the window by asking the store on every "
                   "request.")  # fmt: skip
    if groups["open"]:
        out.append(f"{_join(groups['open'])} asked nothing per request and paid with a window.")
    return out


# --- 3. the stolen cookie --------------------------------------------------------------------


@_quiet
def stolen_question(results: Results) -> Sentences:
    """Section 3's question."""
    if not results.get("stolen_cookie"):
        return []
    return ["What does the attacker see, request by request, when the victim logs out?"]


@_quiet
def stolen_reading(results: Results) -> Sentences:
    """How to read the timelines, with each server's window."""
    timelines = results.get("stolen_cookie") or []
    if not timelines:
        return []
    out = [
        "Each panel is one server: the victim's requests on the upper row, the attacker's on "
        "the lower, green when let in and red when refused (401); the dashed line is the "
        "victim's action."
    ]
    for t in timelines:
        refused = t.get("attacker_refused_from_s")
        end = f", refused from {refused:.2f} s after it" if refused is not None else ""
        out.append(
            f"{_label(t)}: after {t['action']} the copy worked {t['attacker_window_s']:.2f} s "
            f"more{end}."
        )
    return out


# --- 4. refresh-token theft ------------------------------------------------------------------


@_quiet
def refresh_question(results: Results) -> Sentences:
    """Section 4's question."""
    if not results.get("refresh_theft"):
        return []
    return ["A stolen refresh token: can the server tell the thief from the victim?"]


@_quiet
def refresh_reading(results: Results) -> Sentences:
    """How to read the refresh-theft plot, and the access token's life at the default."""
    r = results.get("refresh_theft")
    if not r:
        return []
    caught = "refused it as reuse" if r.get("reuse_detected") else "ACCEPTED it"
    family = "revoked the whole family" if r.get("family_revoked") else "did NOT revoke the family"
    ttl = r.get("access_ttl_s")
    full = default_access_ttl("refresh") + default_leeway()
    return [
        "Diamonds are refreshes and logins (green: accepted, red: refused); dots are ordinary "
        "requests.",
        f"When the thief presented the already-rotated refresh token the server {caught} and "
        f"{family}, so the victim's next refresh failed too. What was left of the access tokens "
        f"({ttl} s here) still worked; at the default {default_access_ttl('refresh')}-second "
        f"access token of refresh mode that is up to {lifetime(full)}.",
    ]


# --- 5. the memory store ---------------------------------------------------------------------


@_quiet
def memory_store_question(results: Results) -> Sentences:
    """Section 5's question."""
    rows = results.get("memory_store") or []
    if not rows:
        return []
    return [
        f"Sessions kept in one replica's memory, behind a balancer over {rows[0]['replica_count']}"
        " replicas: how many of a logged-in client's requests are refused?"
    ]


@_quiet
def memory_store_reading(results: Results) -> Sentences:
    """The refusal rate expected from the replica count, against the measured one."""
    rows = results.get("memory_store") or []
    if not rows:
        return []
    n = rows[0]["replica_count"]
    rr = next((r for r in rows if r["setup"] == "memory + roundrobin"), None)
    out = []
    if rr is not None and n:
        out.append(
            f"With {n} replicas and round-robin, a request reaches the replica holding the "
            f"session about 1 time in {n}, so about {100 * (n - 1) / n:.0f}% should be refused: "
            f"this run refused {_pct(rr['failure_rate'])}."
        )
    others = [f"{r['setup']} {_pct(r['failure_rate'])}" for r in rows if r is not rr]
    if others:
        out.append(f"The cures, and the JWT server as a control: {_join(others)}.")
    return out


# --- 6. failures -----------------------------------------------------------------------------


@_quiet
def failures_question(results: Results) -> Sentences:
    """Section 6's question."""
    if not results.get("failures"):
        return []
    return ["What do logged-in users get when Redis stops for a moment, or a replica dies?"]


def _fault_sentence(f: dict[str, Any]) -> str:
    phases = {(p["server"], p["phase"]): p for p in f.get("phases") or []}
    parts = [
        f"{s} ({(f.get('modes') or {}).get(s, '?')}) "
        f"{_pct(phases[(s, 'during')]['error_rate'])} errors during, "
        f"{_pct(phases[(s, 'after')]['error_rate'])} after"
        for s in f.get("servers") or []
        if (s, "during") in phases and (s, "after") in phases
    ]
    what = {"redis": "Redis stopped", "replica": "One replica of each server killed"}
    return f"{what.get(f['fault'], f['fault'])}: {'; '.join(parts)}."


@_quiet
def failures_reading(results: Results) -> Sentences:
    """How to read the fault plots, with each server's error rates."""
    failures = results.get("failures") or []
    if not failures:
        return []
    return [
        "Each line is the share of one server's requests that failed, per quarter second; the "
        "red band is the fault, the grey one the restart.",
        *(_fault_sentence(f) for f in failures),
    ]


# --- 7. scaling ------------------------------------------------------------------------------


@_quiet
def scaling_question(results: Results) -> Sentences:
    """Section 7's question."""
    if not results.get("scaling"):
        return []
    return [
        f"On this {os.cpu_count()}-core machine, does adding replicas add throughput, and which "
        "server answers more requests per second?"
    ]


def _point(row: dict[str, Any]) -> str:
    return (
        f"{row['server']} with {row['replicas']} replica(s) {row['rps']:.0f} requests/s "
        f"(trials {row.get('rps_low', row['rps']):.0f}-{row.get('rps_high', row['rps']):.0f})"
    )


def _verdict(v: Verdict) -> str:
    if v.distinguishable:
        return (
            f"{_point(v.ahead)} against {_point(v.behind)}: ahead by "
            f"{v.ahead['rps'] - v.behind['rps']:.0f} requests/s, more than the trials differed."
        )
    return (
        f"{_point(v.ahead)} against {_point(v.behind)}: not distinguishable at this scale (the "
        "trials' spread covers the difference)."
    )


@_quiet
def scaling_reading(results: Results) -> Sentences:
    """Rankings the trials support, or a plain 'not distinguishable at this scale'."""
    rows = results.get("scaling") or []
    if not rows:
        return []
    trials = max(r.get("trials", 1) for r in rows)
    out = [
        f"Each point is the median of {trials} short run(s), the bar their range; an order is "
        "only stated when every run of one beat every run of the other by more than either's "
        "runs differed."
    ]
    at = {(r["replicas"], r["server"]): r for r in rows}
    counts = sorted({r["replicas"] for r in rows})
    servers = list(dict.fromkeys(r["server"] for r in rows))
    for n in counts:
        if len(servers) == 2 and all((n, s) in at for s in servers):
            out.append(_verdict(compare(at[(n, servers[0])], at[(n, servers[1])])))
    for s in servers:
        if (counts[0], s) in at and (counts[-1], s) in at and counts[0] != counts[-1]:
            out.append(_verdict(compare(at[(counts[0], s)], at[(counts[-1], s)])))
    return out


# --- 8 and 9. the store's distance, and failover ---------------------------------------------


@_quiet
def distance_question(results: Results) -> Sentences:
    """Section 8's question."""
    if not results.get("distance"):
        return []
    return ["How far away can Redis be before a store round trip costs more than a signature?"]


@_quiet
def distance_reading(results: Results) -> Sentences:
    """The signature check's cost against the store round trip, from this run."""
    d = results.get("distance") or {}
    if not d:
        return []
    sig = d.get("signature_check_us")
    crossing = (d.get("crossover") or {}).get("distance_ms")
    out = []
    if sig is not None:
        out.append(f"Checking a JWT's signature cost {sig:.0f} µs here.")
    if crossing is not None:
        out.append(
            f"A store round trip costs more than that from {crossing:g} ms of added distance: "
            "right of the dotted line the stateless JWT is cheaper per request."
        )
    return out


@_quiet
def failover_question(results: Results) -> Sentences:
    """Section 9's question."""
    if not results.get("failover"):
        return []
    return ["When the Redis primary crashes and a replica takes over, what comes undone?"]


@_quiet
def failover_reading(results: Results) -> Sentences:
    """Revocations confirmed and lost, per durability setting."""
    rows = (results.get("failover") or {}).get("rows") or []
    out = []
    for durability in dict.fromkeys(r["durability"] for r in rows):
        mine = [r for r in rows if r["durability"] == durability]
        lost = sum(r["revocations_lost"] for r in mine)
        confirmed = sum(r["revocations_confirmed"] for r in mine)
        out.append(
            f"REVOCATION_DURABILITY={durability}: {lost} of {confirmed} revocations answered "
            f"revoked: true were undone by the failover; up to "
            f"{max(r['error_window_s'] for r in mine):.1f} s of errors."
        )
    return out


#: Every builder, by name, for the template.
BUILDERS = {
    fn.__name__: fn
    for fn in (
        anatomy_question, anatomy_reading,
        revocation_question, revocation_reading, tradeoff_reading,
        stolen_question, stolen_reading,
        refresh_question, refresh_reading,
        memory_store_question, memory_store_reading,
        failures_question, failures_reading,
        scaling_question, scaling_reading,
        distance_question, distance_reading,
        failover_question, failover_reading,
    )
}  # fmt: skip
