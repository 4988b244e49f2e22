"""A captured DPoP proof replayed to every replica: what each replay store lets through.

Usage (after `python -m lab up`; part of the default `binding-cost` run too):
    python -m lab binding-cost --replay [--proof-window 3]

RFC 9449 (11.1) asks the server to refuse a proof id it has seen within the proof's freshness
window, and only a store that every replica reads can see a replay sent to another replica
(servers/jwt_server/dpop_store.py). For each replay store the lab's JWT server is rebound
(`JWT_BINDING=dpop`, `DPOP_REPLAY_STORE`, a short `DPOP_PROOF_WINDOW` so the run waits seconds,
not a minute: the window's length changes how long a replay may come, not which replicas take
it). The victim, holding its key, logs in and makes one request through HAProxy with a fresh
proof. The attacker captured that request as it went over the wire (the token and the proof,
never the key) and sends it unchanged to every replica directly, within the window, then once
more after it.

The proof is signed for the URL the victim used, HAProxy's (`htu`). A replica compares `htu`
with the URL its request names, scheme plus `Host` header (HAProxy passes the client's Host
through unchanged), so the attacker reaches each replica at its own port with the Host header
of HAProxy's URL: to the replica the replay is the victim's request, byte for byte.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests

from loadtests.bound import BoundSession

from ..api import Lab
from .actors import TIMEOUT, politely
from .binding import bindings_restored

#: The replay stores compared (DPOP_REPLAY_STORE).
STORES = ("redis", "memory")
#: The shortest DPOP_PROOF_WINDOW the replay runs with, seconds: `iat` is whole seconds, so a
#: proof lives between window - 1 and window seconds of real time, and the replays need room.
MIN_WINDOW = 2.0
#: DPOP_PROOF_WINDOW for the command's run, seconds.
DEFAULT_WINDOW = 3.0
#: Seconds past the window before the last replay: the server's clock reads the same as ours
#: (same machine), so only the request's own latency needs room.
AFTER_MARGIN = 0.5
#: The request the victim makes and the attacker replays.
PATH = "/auth/me"


def victim_request(lab: Lab) -> tuple[requests.Response, dict[str, str]]:
    """The victim's one request through HAProxy, with its key; and that request's headers as
    they went over the wire (token and proof included: what the attacker captures)."""
    base = lab.url("jwt")
    victim = BoundSession(dpop=True, dbsc=False)
    try:
        login = politely(
            lambda: victim.post(
                base + "/auth/login",
                json={"email": lab.admin_email, "password": lab.admin_password},
                timeout=TIMEOUT,
            )
        )
        if login.status_code != 200:
            raise RuntimeError(f"the victim could not log in: {login.status_code} {login.text}")
        response = victim.get(base + PATH, timeout=TIMEOUT)
    finally:
        victim.close()
    captured = dict(response.request.headers)
    captured["Host"] = urlsplit(base).netloc  # sent by the connection, not kept in .headers
    return response, captured


def proof_iat(captured: dict[str, str]) -> float:
    """The captured proof's `iat`: readable by anyone who holds the proof (it is not secret)."""
    return float(jwt.decode(captured["DPoP"], options={"verify_signature": False})["iat"])


def replay_everywhere(lab: Lab, captured: dict[str, str], iat: float) -> list[dict[str, Any]]:
    """The captured request sent to each running JWT replica directly: who answered, the
    status, the refusal's message, and the proof's age when it was sent."""
    answers = []
    for replica in lab.replicas("jwt"):
        if not replica.running:
            continue
        sent = time.time()
        response = requests.get(replica.url + PATH, headers=captured, timeout=TIMEOUT)
        body = response.json() if response.content else {}
        answers.append(
            {
                "replica": response.headers.get("X-Replica", replica.replica_id),
                "status": response.status_code,
                "message": body.get("message") if response.status_code != 200 else None,
                "age_s": sent - iat,
            }
        )
    if not answers:
        raise RuntimeError("no JWT replica is running: `python -m lab up` first")
    return answers


def replay(lab: Lab, store: str, window: float) -> dict[str, Any]:
    """One victim request, then its replays within the window and after it, on the running lab
    (bound with `store` already): a row."""
    original, captured = victim_request(lab)
    iat = proof_iat(captured)
    within = replay_everywhere(lab, captured, iat)
    time.sleep(max(0.0, iat + window + AFTER_MARGIN - time.time()))
    after = replay_everywhere(lab, captured, iat)
    return {
        "store": store,
        "window_s": window,
        "url": urlsplit(lab.url("jwt"))._replace(path=PATH).geturl(),
        "jwt_mode": lab.config.jwt_mode,
        "workers": lab.config.workers,
        "replicas": [answer["replica"] for answer in within],
        "original_status": original.status_code,
        "original_replica": original.headers.get("X-Replica"),
        "within": within,
        "after": after,
    }


def run(
    lab: Lab,
    window: float = DEFAULT_WINDOW,
    stores: tuple[str, ...] = STORES,
    say: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """`replay` with each replay store in turn; the lab's bindings restored at the end."""
    if window < MIN_WINDOW:
        raise ValueError(f"the proof window must be at least {MIN_WINDOW:g} s, not {window:g}")
    rows = []
    with bindings_restored(lab) as before:
        for store in stores:
            say(f"binding replay: DPOP_REPLAY_STORE={store}, DPOP_PROOF_WINDOW={window:g}")
            env = {**before.env, "DPOP_REPLAY_STORE": store, "DPOP_PROOF_WINDOW": f"{window:g}"}
            lab.reconfigure(jwt_binding="dpop", env=env)
            rows.append(replay(lab, store, window))
    return rows


def accepted(answers: list[dict[str, Any]]) -> list[str]:
    """The replicas that let a replay in."""
    return [answer["replica"] for answer in answers if answer["status"] == 200]


def refusals(row: dict[str, Any]) -> str:
    """Each distinct refusal, with the replicas that gave it: 'within, jwt-2: <message>'."""
    said: dict[tuple[str, str], list[str]] = {}
    for phase in ("within", "after"):
        for answer in row[phase]:
            if answer["status"] != 200:
                message = f"{answer['status']} {answer['message'] or ''}".strip()
                said.setdefault((phase, message), []).append(answer["replica"])
    return "; ".join(
        f"{phase}, {', '.join(replicas)}: {message}" for (phase, message), replicas in said.items()
    )


def count(answers: list[dict[str, Any]]) -> str:
    """'2 of 3: jwt-1, jwt-3', or '0 of 3'."""
    taken = accepted(answers)
    return f"{len(taken)} of {len(answers)}" + (f": {', '.join(taken)}" if taken else "")


def ages(rows: list[dict[str, Any]], phase: str) -> str:
    """'0.41-0.47': the proof's age when the replays of `phase` were sent, over every row."""
    seen = [answer["age_s"] for row in rows for answer in row[phase]]
    return f"{min(seen):.2f}-{max(seen):.2f}"


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as Markdown, under what the run was: URL, window, mode, workers."""
    first = rows[0]
    lines = [
        f"One captured GET {first['url']} (token and DPoP proof) replayed unchanged to each JWT"
        f" replica directly (that URL's Host header); JWT mode {first['jwt_mode']},"
        f" {first['workers']} gunicorn worker(s) per replica, DPOP_PROOF_WINDOW="
        f"{first['window_s']:g} s; the proof's age (now - iat) at the replays: within the"
        f" window {ages(rows, 'within')} s, after it {ages(rows, 'after')} s",
        "",
        "| replay store | replicas | original request | replays accepted within the window"
        " | accepted after the window | refusals (when, where: status and message) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['store']} | {len(row['replicas'])} "
            f"| {row['original_status']} on {row['original_replica']} | {count(row['within'])} "
            f"| {count(row['after'])} | {refusals(row)} |"
        )
    return "\n".join(lines)
