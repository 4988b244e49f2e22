"""The stolen cookie, told as a timeline; and a stolen refresh token caught by reuse detection.

`stolen_cookie_timeline`: the victim logs in and browses; the attacker copies the cookie and
browses too; the victim logs out (or changes the password, or an admin revokes); both keep
going. Every request is one event (who, when, which replica, what status), ready to plot.

`refresh_token_theft` (JWT refresh mode): the attacker copies both cookies; the victim's browser
refreshes as usual, which rotates the refresh token; the attacker then presents the old one.
The server has seen it before: reuse, so it revokes the whole family, and the victim's next
refresh fails too. Both are out once their short access tokens expire.

Both play the story's own steps (`lab.experiments.story`, as the terminal demo and the console
do) on a clock, and browse in between; their rows are this module's.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ..api import Lab
from .actors import register
from .labs import jwt_leeway, refresh_grace
from .revocation import watch_for
from .story import Event, Story, stolen_cookie
from .story import refresh_theft as theft_steps


def _browse(story: Story, who: str, t0: float, until, interval: float, events: list, stop) -> None:
    """Ask GET /auth/me every `interval` s until `until()` (seconds since t0) has passed."""
    while not stop.is_set() and time.perf_counter() - t0 < until():
        sent = time.perf_counter() - t0
        result = story.probe(who)
        events.append(
            {"t": sent, "who": who, "status": result["status"], "replica": result.get("replica")}
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

    The story's steps (`lab.experiments.story`: login, theft, action) played on a clock, with
    both browsing in between. The attacker keeps going `after` seconds past the revocation; by
    default, until the `valid_until` the API announced plus a margin (capped at `max_after`), or
    SETTLE seconds when the API said the credential is revoked. The theft (`steal_at`) and the
    revocation (`revoke_at`, seconds after the login) come early in a short JWT's life by
    default: the victim's browser drops the cookie at its Max-Age, and then has nothing left to
    log out.
    """
    ttl = lab.config.access_ttl if server == "jwt" else None
    if steal_at is None:
        steal_at = min(0.5, 0.1 * ttl) if ttl else 0.5
    if revoke_at is None:
        revoke_at = min(1.5, 0.3 * ttl) if ttl else 1.5
    story = Story(lab, server, account=register(lab.url(server), "victim"))
    script = {step.name: step for step in stolen_cookie(story, action)}
    t0 = time.perf_counter()
    script["login"].run()
    events: list[dict[str, Any]] = [_event(t0, "victim", 200, "login")]
    stop = threading.Event()
    # Until the revocation, nobody knows how long the attacker will last: decided after it.
    end = {"t": revoke_at + max_after}
    victim_thread = threading.Thread(
        target=_browse,
        args=(story, "victim", t0, lambda: revoke_at, interval, events, stop),
        daemon=True,
    )
    victim_thread.start()
    time.sleep(max(0.0, steal_at - (time.perf_counter() - t0)))
    script["steal"].run()
    events.append(_event(t0, "attacker", None, "copies the cookie"))
    attacker_events: list[dict[str, Any]] = []
    attacker_thread = threading.Thread(
        target=_browse,
        args=(story, "attacker", t0, lambda: end["t"], interval, attacker_events, stop),
        daemon=True,
    )
    attacker_thread.start()
    victim_thread.join()
    time.sleep(max(0.0, revoke_at - (time.perf_counter() - t0)))
    acted = script["act"].run()
    t_revoke = time.perf_counter() - t0
    events.append(_event(t0, "victim", 200, action))
    answer = acted["answer"]
    watch = after if after is not None else watch_for(answer.get("valid_until"), max_after)
    end["t"] = t_revoke + watch
    # The victim goes on too: after a logout their browser has dropped the cookie; after a
    # password change they are still in.
    victim_after: list[dict[str, Any]] = []
    _browse(story, "victim", t0, lambda: end["t"], interval * 2, victim_after, stop)
    attacker_thread.join(watch + 10)
    stop.set()
    events += attacker_events + victim_after
    events.sort(key=lambda e: e["t"])
    accepted_after = [e["t"] for e in attacker_events if e["t"] > t_revoke and e["status"] == 200]
    refused_after = [e["t"] for e in attacker_events if e["t"] > t_revoke and e["status"] == 401]
    story.close()
    return {
        "server": server,
        "mode": story.mode,
        "action": action,
        "acted_on": acted["acted_on"],
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


def _outcome(event: Event) -> dict[str, Any]:
    """A refresh as a row: status, error code, message."""
    return {key: event[key] for key in ("status", "error", "message")}


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
    story = Story(lab, "jwt", account=register(lab.jwt_url, "victim"))
    script = {step.name: step for step in theft_steps(story, first)}
    t0 = time.perf_counter()
    events: list[dict[str, Any]] = []

    def note(who: str, what: str, result: dict[str, Any]) -> None:
        events.append({"t": time.perf_counter() - t0, "who": who, "event": what, **result})

    script["login"].run()
    note("victim", "login", {"status": 200})
    script["steal"].run()
    note("attacker", "copies both cookies", {"status": None})
    for who in ("victim", "attacker"):
        note(who, "GET /auth/me", {"status": story.probe(who)["status"]})
    second = "attacker" if first == "victim" else "victim"
    note(first, "refresh", _outcome(script["refresh"].run()))
    time.sleep(grace)
    reuse = _outcome(script["reuse"].run())
    note(second, "refresh (reused token)", reuse)
    again = _outcome(script["again"].run())
    note(first, "refresh again", again)
    # Both keep browsing on whatever access token they hold, until it expires.
    deadline = time.perf_counter() + after
    out_at: dict[str, float | None] = {"victim": None, "attacker": None}
    while time.perf_counter() < deadline and None in out_at.values():
        for who in ("victim", "attacker"):
            if out_at[who] is None:
                status = story.probe(who)["status"]
                note(who, "GET /auth/me", {"status": status})
                if status == 401:
                    out_at[who] = events[-1]["t"]
        time.sleep(interval)
    final = {who: _outcome(story.refresh(who)) for who in ("victim", "attacker")}
    for who, result in final.items():
        note(who, "refresh at the end", result)
    story.close()
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
