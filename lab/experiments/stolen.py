"""The stolen cookie, told as a timeline; and a stolen refresh token caught by reuse detection.

`stolen_cookie_timeline`: the victim logs in and browses; the attacker copies the cookie and
browses too; the victim logs out (or changes the password, or an admin revokes); both keep
going. Every request is one event (who, when, which replica, what status), ready to plot.

`refresh_token_theft` (JWT refresh mode): the attacker copies both cookies; the victim's browser
refreshes as usual, which rotates the refresh token; the attacker then presents the old one.
The server has seen it before: reuse, so it revokes the whole family, and the victim's next
refresh fails too. Both are out once their short access tokens expire.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ..api import Lab
from .actors import Client, probe, register
from .labs import jwt_leeway, mode_of, refresh_grace
from .revocation import perform_action, watch_for


def _browse(
    client: Client, who: str, t0: float, until, interval: float, events: list, stop
) -> None:
    """Ask GET /auth/me every `interval` s until `until()` (seconds since t0) has passed."""
    while not stop.is_set() and time.perf_counter() - t0 < until():
        sent = time.perf_counter() - t0
        result = probe(client)
        events.append(
            {"t": sent, "who": who, "status": result["status"], "replica": result["replica"]}
        )
        time.sleep(interval)


def stolen_cookie_timeline(
    lab: Lab,
    server: str,
    action: str = "logout",
    *,
    steal_at: float | None = None,
    revoke_at: float | None = None,
    after: float | None = None,
    max_after: float = 30.0,
    interval: float = 0.1,
) -> dict[str, Any]:
    """Victim and attacker browsing through the load balancer around one revocation.

    The attacker keeps going `after` seconds past the revocation; by default, until the
    `valid_until` the API announced plus a margin (capped at `max_after`), or SETTLE seconds
    when the API said the credential is revoked. The theft (`steal_at`) and the revocation
    (`revoke_at`, seconds after the login) come early in a short JWT's life by default: the
    victim's browser drops the cookie at its Max-Age, and then has nothing left to log out.
    """
    ttl = lab.config.access_ttl if server == "jwt" else None
    if steal_at is None:
        steal_at = min(0.5, 0.1 * ttl) if ttl else 0.5
    if revoke_at is None:
        revoke_at = min(1.5, 0.3 * ttl) if ttl else 1.5
    url = lab.url(server)
    account = register(url, "victim")
    victim = Client(url, "victim")
    t0 = time.perf_counter()
    victim.login(account)
    events: list[dict[str, Any]] = [_event(t0, "victim", 200, "login")]
    stop = threading.Event()
    # Until the revocation, nobody knows how long the attacker will last: decided after it.
    end = {"t": revoke_at + max_after}
    victim_thread = threading.Thread(
        target=_browse,
        args=(victim, "victim", t0, lambda: revoke_at, interval, events, stop),
        daemon=True,
    )
    victim_thread.start()
    time.sleep(max(0.0, steal_at - (time.perf_counter() - t0)))
    attacker = victim.steal()
    events.append(_event(t0, "attacker", None, "copies the cookie"))
    attacker_events: list[dict[str, Any]] = []
    attacker_thread = threading.Thread(
        target=_browse,
        args=(attacker, "attacker", t0, lambda: end["t"], interval, attacker_events, stop),
        daemon=True,
    )
    attacker_thread.start()
    victim_thread.join()
    time.sleep(max(0.0, revoke_at - (time.perf_counter() - t0)))
    answer, acted_on = perform_action(lab, server, action, victim, account)
    t_revoke = time.perf_counter() - t0
    events.append(_event(t0, "victim", 200, action))
    watch = after if after is not None else watch_for(answer.get("valid_until"), max_after)
    end["t"] = t_revoke + watch
    # The victim goes on too: after a logout their browser has dropped the cookie; after a
    # password change they are still in.
    victim_after: list[dict[str, Any]] = []
    _browse(victim, "victim", t0, lambda: end["t"], interval * 2, victim_after, stop)
    attacker_thread.join(watch + 10)
    stop.set()
    events += attacker_events + victim_after
    events.sort(key=lambda e: e["t"])
    accepted_after = [e["t"] for e in attacker_events if e["t"] > t_revoke and e["status"] == 200]
    refused_after = [e["t"] for e in attacker_events if e["t"] > t_revoke and e["status"] == 401]
    victim.close()
    attacker.close()
    return {
        "server": server,
        "mode": mode_of(lab, server),
        "action": action,
        "acted_on": acted_on,
        "revoked_at": t_revoke,
        "api": answer,
        "events": events,
        "attacker_window_s": (max(accepted_after) - t_revoke) if accepted_after else 0.0,
        "attacker_refused_from_s": (min(refused_after) - t_revoke) if refused_after else None,
        "end_s": end["t"],
    }


def _event(t0: float, who: str, status: int | None, what: str) -> dict[str, Any]:
    return {
        "t": time.perf_counter() - t0,
        "who": who,
        "status": status,
        "replica": None,
        "event": what,
    }


def refresh_token_theft(
    lab: Lab,
    *,
    first: str = "victim",
    grace: float | None = None,
    after: float | None = None,
    interval: float = 0.2,
) -> dict[str, Any]:
    """Steal both cookies in refresh mode; whoever refreshes second presents a reused token.

    `first` says who refreshes first: "victim" (the usual case: the victim's browser refreshes,
    then the attacker's stale copy is spotted) or "attacker" (the attacker rotates first, and the
    victim's next refresh is the reuse). `grace` must exceed the server's grace for concurrent
    refreshes, or the second refresh is forgiven as a second tab.
    """
    if lab.config.jwt_mode != "refresh":
        raise ValueError("refresh_token_theft needs a lab with jwt_mode='refresh'")
    ttl = lab.config.access_ttl or 60
    grace = refresh_grace(lab) + 0.5 if grace is None else grace
    after = ttl + jwt_leeway(lab) + 2.0 if after is None else after
    url = lab.jwt_url
    account = register(url, "victim")
    victim = Client(url, "victim")
    t0 = time.perf_counter()
    events: list[dict[str, Any]] = []

    def note(who: str, what: str, result: dict[str, Any]) -> None:
        events.append({"t": time.perf_counter() - t0, "who": who, "event": what, **result})

    victim.login(account)
    note("victim", "login", {"status": 200})
    attacker = victim.steal()
    note("attacker", "copies both cookies", {"status": None})
    for who, client in (("victim", victim), ("attacker", attacker)):
        note(who, "GET /auth/me", {"status": probe(client)["status"]})
    order = [("victim", victim), ("attacker", attacker)]
    if first == "attacker":
        order.reverse()
    (first_name, first_client), (second_name, second_client) = order
    note(first_name, "refresh", first_client.refresh())
    time.sleep(grace)
    reuse = second_client.refresh()
    note(second_name, "refresh (reused token)", reuse)
    again = first_client.refresh()
    note(first_name, "refresh again", again)
    # Both keep browsing on whatever access token they hold, until it expires.
    deadline = time.perf_counter() + after
    out_at: dict[str, float | None] = {"victim": None, "attacker": None}
    while time.perf_counter() < deadline and None in out_at.values():
        for who, client in (("victim", victim), ("attacker", attacker)):
            if out_at[who] is None:
                status = probe(client)["status"]
                note(who, "GET /auth/me", {"status": status})
                if status == 401:
                    out_at[who] = events[-1]["t"]
        time.sleep(interval)
    final = {who: client.refresh() for who, client in (("victim", victim), ("attacker", attacker))}
    for who, result in final.items():
        note(who, "refresh at the end", result)
    victim.close()
    attacker.close()
    return {
        "first": first,
        "grace_s": grace,
        "access_ttl_s": ttl,
        "events": events,
        "reuse": reuse,
        "reuse_detected": reuse["status"] == 401,
        "first_refresh_again": again,
        "family_revoked": again["status"] == 401,
        "logged_out_at": out_at,
        "both_logged_out": all(v is not None for v in out_at.values())
        and all(r["status"] == 401 for r in final.values()),
    }
