"""The report's sentences for sections 1-4: the credential, revocation, the stolen cookie and
the stolen refresh token. Each builder takes the results and returns sentences, empty when its
section did not run; windows measured with quick-scale tokens are restated at the defaults.
"""

from __future__ import annotations

from typing import Any

from servers.core.config import default_of

from .text_common import (
    Results,
    Sentences,
    default_access_ttl,
    default_leeway,
    find_window,
    join,
    label,
    lifetime,
    quick_life,
    quiet,
    windows_of,
)

# --- 1. anatomy ------------------------------------------------------------------------------


@quiet
def anatomy_question(results: Results) -> Sentences:
    """Section 1's question."""
    if not results.get("anatomy"):
        return []
    return ["What does a login leave in the browser, and what does the server keep for it?"]


@quiet
def anatomy_reading(results: Results) -> Sentences:
    """How to read the credential and memory plots, with this run's bytes."""
    anatomy = results.get("anatomy") or {}
    creds = sorted(anatomy.get("credentials") or [], key=lambda c: c["cookie_header_bytes"])
    out = []
    if len(creds) > 1 and creds[0]["cookie_header_bytes"]:
        least = creds[0]
        heavier = [
            f"{label(c)} {c['cookie_header_bytes']} bytes "
            f"({c['cookie_header_bytes'] / least['cookie_header_bytes']:.1f} times as many)"
            for c in creds[1:]
        ]
        out.append(
            "In the first plot each pair of bars is one credential: the upper bar is what the "
            f"browser sends with every request. {label(least)} sends "
            f"{least['cookie_header_bytes']} bytes, {join(heavier)}: the JWT carries the user "
            "and a signature instead of a pointer to them."
        )
    for m in anatomy.get("memory") or []:
        projections = m.get("projections") or []
        if projections:
            biggest = projections[-1]
            out.append(
                f"{label(m)} keeps {m['bytes_per_session']:.0f} bytes of Redis per login "
                f"(the second plot), so {biggest['sessions']:,} logged-in users need "
                f"{biggest['gib']:.2f} GiB of RAM for it alone. {_two_measurements(anatomy, m)}"
            )
    out += session_lifetimes(anatomy)
    return out


def _two_measurements(anatomy: dict[str, Any], m: dict[str, Any]) -> str:
    """The per-login bytes beside the key table's: two measurements, each named with its own."""
    one = next(
        (f for f in anatomy.get("footprints") or [] if (f["server"], f["mode"]) == (m["server"],
         m["mode"])),
        None,
    )  # fmt: skip
    prefixes = ", ".join(
        f"{k} {v:.0f} B" for k, v in (m.get("bytes_per_session_by_prefix") or {}).items()
    )
    said = (
        f"That is the mean over {m['sessions']} logins ({m.get('sessions_per_user', 1)} per "
        f"user{'; by key prefix: ' + prefixes if prefixes else ''})"
    )
    if one is None:
        return said + "."
    return (
        f"{said}; the key table above is one other login, whose {len(one['keys'])} key(s) "
        f"hold {one['bytes']} bytes: two measurements of different logins, each quoted with "
        "its own."
    )


def _max_age(cred: dict[str, Any], name: str) -> int | None:
    for cookie in cred.get("cookies") or []:
        if cookie["name"] == name:
            for attr in cookie.get("attributes") or []:
                key, _, value = attr.partition("=")
                if key.strip().lower() == "max-age":
                    return int(value)
    return None


@quiet
def session_lifetimes(anatomy: dict[str, Any]) -> Sentences:
    """The sid cookie's Max-Age beside its Redis key's TTL: two timeouts, read from the run."""
    cred = next((c for c in anatomy.get("credentials") or [] if c["server"] == "session"), None)
    foot = next((f for f in anatomy.get("footprints") or [] if f["server"] == "session"), None)
    if cred is None or foot is None:
        return []
    max_age = _max_age(cred, "sid")
    ttls = [k["ttl_s"] for k in foot["keys"] if k["type"] != "zset" and (k["ttl_s"] or 0) > 0]
    if max_age is None or not ttls:
        return []
    return [
        f"The sid cookie lives {lifetime(max_age)} (Max-Age) but its Redis key "
        f"{lifetime(max(ttls))} (TTL): two timeouts. The cookie's Max-Age is the absolute "
        f"lifetime (SESSION_ABSOLUTE_TIMEOUT, {lifetime(default_of('session_absolute_timeout'))}"
        " by default): however active, the session ends then. The key's TTL is the idle "
        f"timeout (SESSION_IDLE_TIMEOUT, {lifetime(default_of('session_idle_timeout'))} by "
        "default): each request pushes it forward, so an idle session ends sooner, on the "
        "server, while the browser still holds the cookie."
    ]


# --- 2. revocation ---------------------------------------------------------------------------


@quiet
def revocation_question(results: Results) -> Sentences:
    """Section 2's question, naming the configurations and replicas of this run."""
    windows = windows_of(results)
    if not windows:
        return []
    configs = list(dict.fromkeys(w["config"] for w in windows))
    replicas = max(len(w.get("replicas") or []) for w in windows)
    return [
        "After the victim logs out, changes the password, is revoked by an admin or logs out "
        "everywhere, how long does a stolen copy of the cookie keep working, on each of the "
        f"{replicas} replicas, in {join(configs)}? And what does revoking at once cost on "
        "every request?"
    ]


def _stateless_sentence(results: Results, w: dict[str, Any]) -> str:
    """The stateless JWT's window, and the same window at the default lifetimes."""
    ttl, leeway = quick_life(results)
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
        for w in windows_of(results)
        if w["action"] == "logout" and not w["still_valid"] and not w["window_s"]
    ]
    if not zero:
        return ""
    return f"{join(zero)} refused the copy on the very first request after logout (0 s)."


def _survivors(results: Results) -> Sentences:
    """Rows where the copy was still let in when the experiment stopped watching."""
    out = []
    absolute = default_of("session_absolute_timeout")
    for w in windows_of(results):
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
    for w in windows_of(results):
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


@quiet
def revocation_reading(results: Results) -> Sentences:
    """How to read the windows plot, and what this run's windows mean at default lifetimes."""
    if not windows_of(results):
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
        for w in windows_of(results)
        if w["config"] == config and (w["still_valid"] or w["window_s"])
    ]
    return f"; but not after {join(open_after)}" if open_after else ""


@quiet
def tradeoff_reading(results: Results) -> Sentences:
    """How to read the trade-off plot: who got a 0 s window, and what each paid per request."""
    costs = _cost(results)
    if not costs or not windows_of(results):
        return []
    groups: dict[str, list[str]] = {"free": [], "paid": [], "open": []}
    for config, cost in costs.items():
        w = find_window(results, config)
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
        out.append(f"This run, {join(groups['free'])} reached it: revocation pushed ahead of "
                   "time, or a store that is not shared.")  # fmt: skip
    if groups["paid"]:
        out.append(f"{join(groups['paid'])} closed the window by asking the store on every "
                   "request.")  # fmt: skip
    if groups["open"]:
        out.append(f"{join(groups['open'])} asked nothing per request and paid with a window.")
    return out


# --- 3. the stolen cookie --------------------------------------------------------------------


@quiet
def stolen_question(results: Results) -> Sentences:
    """Section 3's question."""
    if not results.get("stolen_cookie"):
        return []
    return ["What does the attacker see, request by request, when the victim logs out?"]


@quiet
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
            f"{label(t)}: after {t['action']} the copy worked {t['attacker_window_s']:.2f} s "
            f"more{end}."
        )
    return out


# --- 4. refresh-token theft ------------------------------------------------------------------


@quiet
def refresh_question(results: Results) -> Sentences:
    """Section 4's question."""
    if not results.get("refresh_theft"):
        return []
    return ["A stolen refresh token: can the server tell the thief from the victim?"]


@quiet
def refresh_reading(results: Results) -> Sentences:
    """How to read the refresh-theft plot, and the access token's life at the default."""
    r = results.get("refresh_theft")
    if not r:
        return []
    caught = "refused it as reuse" if r.get("reuse_detected") else "ACCEPTED it"
    family = "revoked the whole family" if r.get("family_revoked") else "did NOT revoke the family"
    full = default_access_ttl("refresh") + default_leeway()
    return [
        "Diamonds are refreshes and logins (green: accepted, red: refused); dots are ordinary "
        "requests.",
        f"When the thief presented the already-rotated refresh token the server {caught} and "
        f"{family}, so the victim's next refresh failed too. {_after_reuse(r)} At the default "
        f"{default_access_ttl('refresh')}-second access token of refresh mode an access token "
        f"can outlive the family's revocation by up to {lifetime(full)}.",
    ]


def _after_reuse(r: dict[str, Any]) -> str:
    """What the access tokens did after the reuse was detected, counted from the events."""
    events = r.get("events") or []
    at = next((e["t"] for e in events if e["event"] == "refresh (reused token)"), None)
    if at is None:
        return ""
    parts = []
    for who in ("victim", "attacker"):
        mine = [e for e in events if e["who"] == who and e["event"] == "GET /auth/me"]
        mine = [e for e in mine if e["t"] > at]
        ok = [e for e in mine if e["status"] == 200]
        if ok:
            parts.append(
                f"the {who}'s access token was still accepted {len(ok)} time(s), until "
                f"{max(e['t'] for e in ok) - at:.2f} s after the reuse"
            )
        else:
            parts.append(f"the {who}'s access token was refused from then on ({len(mine)} tries)")
    return f"After the reuse was detected, {join(parts)} ({r.get('access_ttl_s')} s tokens here)."
