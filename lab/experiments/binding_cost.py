"""What binding costs, measured through the running lab: per request, and per renewal.

Usage (after `python -m lab up`; --proof needs no lab):
    python -m lab binding-cost [--requests 300]  (per request and renewal, then --replay)
    python -m lab binding-cost --window  (a bound lab: how long a stolen copy works)
    python -m lab binding-cost --replay  (a captured DPoP proof replayed to every replica)
    python -m lab binding-cost --proof   (one DPoP proof signed and verified)

For each server, unbound then bound, the lab is reconfigured and one client logs in and asks
GET /auth/me `--requests` times through HAProxy. Each row gives the server's own auth check
(Server-Timing `dur`, and `store=` round trips) and the whole request as the client saw it
(DPoP: signing a proof included). DBSC rows add what a renewal costs (the challenge round and
the signed answer) and the registration. The medians are printed with their p90 as the spread.
The replay (lab/experiments/binding_replay.py) follows, unless --no-replay. Every table is
stamped with the commit, the date and the machine. The lab is left as it was found.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from loadtests.bound import BoundSession, ClientKey

from ..api import Lab
from ..engine.stamp import stamp_line
from . import binding_replay
from .actors import auth_cost, politely
from .binding import binding_of, bindings_restored
from .story import Story

#: (row, server, LabConfig changes, extra server environment)
CONFIGURATIONS: tuple[tuple[str, str, dict[str, str], dict[str, str]], ...] = (
    ("session", "session", {"session_binding": "none"}, {}),
    ("session + dbsc", "session", {"session_binding": "dbsc"}, {}),
    ("jwt", "jwt", {"jwt_binding": "none"}, {}),
    (
        "jwt + dpop (replay in redis)",
        "jwt",
        {"jwt_binding": "dpop"},
        {"DPOP_REPLAY_STORE": "redis"},
    ),
    (
        "jwt + dpop (replay in memory)",
        "jwt",
        {"jwt_binding": "dpop"},
        {"DPOP_REPLAY_STORE": "memory"},
    ),
)


def spread(values: list[float]) -> str:
    """'median (p90 x)' in ms, or '-' without values."""
    if not values:
        return "-"
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return f"{statistics.median(ordered):.3f} (p90 {p90:.3f})"


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    """(result, milliseconds) of one call."""
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1000


def samples(lab: Lab, server: str, bound: bool, requests: int) -> dict[str, Any]:
    """One client, logged in, asking /auth/me `requests` times: every cost it saw, in ms (the
    auth check per Server-Timing, the whole request, the login, DBSC renewals), unsummarised."""
    base = lab.url(server)
    client = BoundSession(dpop=bound and server == "jwt", dbsc=bound and server == "session")
    login = {"email": lab.admin_email, "password": lab.admin_password}
    answer, login_ms = timed(
        lambda: politely(lambda: client.post(base + "/auth/login", json=login))
    )
    if answer.status_code != 200:
        raise RuntimeError(f"{server}: the login answered {answer.status_code} {answer.text[:200]}")
    auth, wall, trips = [], [], []
    for _ in range(requests):
        response, ms = timed(lambda: client.get(base + "/auth/me"))
        if response.status_code != 200:
            raise RuntimeError(
                f"{server}: /auth/me answered {response.status_code} {response.text[:200]}"
            )
        dur, store = auth_cost(response)
        auth.append(dur or 0.0)
        wall.append(ms)
        trips.append(store)
    renewals = []
    if client.session_id:
        for _ in range(min(20, requests)):
            response, ms = timed(lambda: client.renew(base + "/auth/me"))
            if response.status_code == 200:
                renewals.append(ms)
    return {
        "auth": auth,
        "wall": wall,
        "trips": trips,
        "login": login_ms,
        "renewals": renewals,
        "bound": client.session_id is not None or client.token is not None and bound,
    }


def measure(lab: Lab, server: str, bound: bool, requests: int) -> dict[str, Any]:
    """One client, logged in, asking /auth/me `requests` times; the costs it saw."""
    seen = samples(lab, server, bound, requests)
    return {
        "auth": spread(seen["auth"]),
        "wall": spread(seen["wall"]),
        "store": ",".join(str(t) for t in sorted(set(seen["trips"]), key=str)),
        "login": f"{seen['login']:.1f}",
        "renewal": spread(seen["renewals"]),
        "bound": seen["bound"],
    }


def stolen_window(lab: Lab, server: str, poll: float = 0.5, limit: float = 600) -> dict[str, Any]:
    """Seconds a thief's copy of every cookie keeps working (the thief polling /auth/me every
    `poll` s without the key, nobody acting: the story's `keeps_trying`), and whether the
    victim, renewing with its key, is still in at the end."""
    story = Story(lab, server)
    try:
        story.login()
        story.steal()
        event = story.keeps_trying(limit, interval=poll)
        victim_in = story.probe("victim")["status"] == 200
    finally:
        story.close()
    return {"server": server, "window_s": event["refused_after_s"], "victim_in": victim_in}


def proof_cost(count: int = 2000) -> dict[str, str]:
    """In this process, no network: signing one DPoP proof (the client's share) and verifying
    it with its thumbprint (the server's, before the replay check), median (p90) in ms."""
    from servers.core.binding import thumbprint, verify_proof
    from servers.jwt_server.dpop import PROOF_TYP

    key, url, token = ClientKey(), "http://localhost/auth/me", "x" * 400
    sign, check = [], []
    for _ in range(count):
        proof, ms = timed(lambda: key.dpop_proof("GET", url, token))
        sign.append(ms)
        header, ms = timed(lambda: verify_proof(proof, PROOF_TYP)[0])  # noqa: B023 (used now)
        started = time.perf_counter()
        thumbprint(header["jwk"])
        check.append(ms + (time.perf_counter() - started) * 1000)
    return {"client signs a proof": spread(sign), "server verifies it": spread(check)}


def run(lab: Lab, requests: int, say: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Every configuration in turn; the lab's own configuration restored at the end."""
    rows = []
    with bindings_restored(lab) as before:
        for name, server, changes, env in CONFIGURATIONS:
            say(f"binding cost: {name}")
            lab.reconfigure(**changes, env={**before.env, **env})
            bound = any(value != "none" for value in changes.values())
            rows.append({"configuration": name, **measure(lab, server, bound, requests)})
    return rows


def table(rows: list[dict[str, Any]], requests: int) -> str:
    """The rows as Markdown."""
    lines = [
        f"GET /auth/me, {requests} requests per row, one client through HAProxy; ms, median (p90)",
        "",
        "| configuration | auth check (server) | store round trips | whole request (client)"
        " | login | DBSC renewal |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['configuration']} | {row['auth']} | {row['store']} | {row['wall']} "
            f"| {row['login']} | {row['renewal']} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m lab binding-cost`: measure against the running lab."""
    parser = argparse.ArgumentParser(prog="python -m lab binding-cost", description=__doc__)
    parser.add_argument("--requests", type=int, default=300, help="requests per configuration")
    parser.add_argument(
        "--window",
        action="store_true",
        help="measure instead how long a stolen copy works on the running lab's bound servers",
    )
    replay = parser.add_mutually_exclusive_group()
    replay.add_argument(
        "--replay",
        action="store_true",
        help="only the replay: one captured DPoP proof sent to every JWT replica, per replay store",
    )
    replay.add_argument(
        "--no-replay", action="store_true", help="the cost per request only, without the replay"
    )
    parser.add_argument(
        "--proof-window",
        type=float,
        default=binding_replay.DEFAULT_WINDOW,
        help="DPOP_PROOF_WINDOW (seconds) for the replay: the run waits it out once per store",
    )
    parser.add_argument(
        "--proof", action="store_true", help="time one DPoP proof in this process (no lab)"
    )
    args = parser.parse_args(argv)
    if args.proof_window < binding_replay.MIN_WINDOW:
        parser.error(f"--proof-window must be at least {binding_replay.MIN_WINDOW:g} s")
    if args.proof:
        for name, figure in proof_cost().items():
            print(f"{name}: {figure} ms")
        return 0
    lab = Lab.attach()
    if lab is None:
        parser.error("no lab is running: `python -m lab up` first")
    if args.window:
        for server in ("session", "jwt"):
            if binding_of(lab.config, server) != "none":
                row = stolen_window(lab, server)
                window = "never refused" if row["window_s"] is None else f"{row['window_s']:.1f} s"
                print(
                    f"{server} ({binding_of(lab.config, server)}): the stolen copy worked for "
                    f"{window}; the victim still in: {row['victim_in']}"
                )
        return 0
    tables = []
    if not args.replay:
        tables.append(table(run(lab, args.requests), args.requests))
    if not args.no_replay:
        tables.append(binding_replay.table(binding_replay.run(lab, args.proof_window)))
    command = " ".join(["python -m lab binding-cost", *(sys.argv[1:] if argv is None else argv)])
    print(f"Printed by `{command}` at {stamp_line()}\n")
    print("\n\n".join(tables))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
