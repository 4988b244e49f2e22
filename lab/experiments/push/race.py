"""The revocation window per replica, from the attacker's side.

One attacker thread per replica hammers it *directly* (no balancer, no pause) with a stolen copy
while the victim revokes; per replica we keep the last request it still let in, measured from the
revocation's answer (`window_ms`: what the API's `revoked` must answer for) and from when the
revocation was sent (`exposure_ms`: how long the news took to arrive).
"""

from __future__ import annotations

import statistics
import threading
import time
from datetime import datetime
from typing import Any

from ...api import Lab
from ..actors import Client, probe, register
from ..labs import LabPool
from ..revocation import perform_action
from .configs import CONFIGS, SLOW

#: Seconds to keep hammering after a `revoked: true` (it should be refused at once).
SETTLE = 0.5
#: Seconds between an attacker's requests where the window is a token's lifetime (seconds
#: long): 10 ms is finer than that window needs, and spares the machine seconds of a busy loop.
#: Everywhere else the attackers ask back to back, for the millisecond window push must show.
SLOW_PACE = 0.01


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def _hammer(
    client: Client, base: str, stop: threading.Event, seen: list, pace: float = 0.0
) -> None:
    """Ask one replica again and again (`pace` s apart); record (sent, status) pairs."""
    while not stop.is_set():
        sent = time.perf_counter()
        seen.append((sent, probe(client, base=base)["status"]))
        if pace:
            stop.wait(pace)


def race(
    lab: Lab, server: str, action: str = "logout", max_watch: float = 10.0, pace: float = 0.0
) -> list[dict]:
    """One trial: steal, hammer every replica directly (`pace` s between an attacker's
    requests), revoke, and time each replica."""
    url = lab.url(server)
    account = register(url, "victim")
    victim = Client(url, "victim", obeys_expiry=False)
    victim.login(account)
    stop = threading.Event()
    seen: dict[str, list] = {}
    threads = []
    for rep in (r for r in lab.replicas(server) if r.running):
        seen[rep.replica_id] = []
        thief = victim.steal(f"attacker-{rep.replica_id}")
        thread = threading.Thread(
            target=_hammer, args=(thief, rep.url, stop, seen[rep.replica_id], pace), daemon=True
        )
        threads.append(thread)
        thread.start()
    time.sleep(0.1)  # every attacker is in, and its copy works
    sent = time.perf_counter()
    answer, _ = perform_action(lab, server, action, victim, account)
    answered = time.perf_counter()
    watch = SETTLE
    if answer.get("valid_until"):
        left = datetime.fromisoformat(answer["valid_until"]).timestamp() - time.time()
        watch = min(max_watch, max(SETTLE, left + SETTLE))
    time.sleep(watch)
    stop.set()
    for thread in threads:
        thread.join(5)
    victim.close()
    return [_window(rid, rows, sent, answered, answer) for rid, rows in seen.items()]


def _window(rid: str, rows: list, sent: float, answered: float, answer: dict) -> dict[str, Any]:
    """One replica's verdict: the last request it let in, after the revocation."""
    accepted = [t for t, status in rows if status == 200 and t >= sent]
    last = max(accepted, default=None)
    return {
        "replica": rid,
        "revoked": answer.get("revoked"),
        "answer_ms": round((answered - sent) * 1000, 2),
        "window_ms": round(max(0.0, (last - answered) * 1000), 2) if last else 0.0,
        "exposure_ms": round((last - sent) * 1000, 2) if last else 0.0,
        "probes": len(rows),
        "refused_at_end": bool(rows) and rows[-1][1] != 200,
    }


def windows(pool: LabPool, trials: int, progress=print) -> list[dict[str, Any]]:
    """Every configuration: `trials` races (2 for the token-lifetime ones), one row each."""
    rows = []
    for name, server, settings in CONFIGS:
        rows += config_windows(pool, name, server, settings, trials, progress)
    return rows


def config_windows(
    pool: LabPool, name: str, server: str, settings: dict, trials: int, progress=print
) -> list[dict[str, Any]]:
    """`trials` races on one configuration (2 when the window is a token's lifetime)."""
    lab = pool.get(server, **settings)
    n = min(2, trials) if name in SLOW else trials
    progress(f"push: {name}: {n} revocation race(s)")
    rows = []
    for trial in range(n):
        pace = SLOW_PACE if name in SLOW else 0.0
        for row in race(lab, server, max_watch=pool.scale.max_watch, pace=pace):
            rows.append({"config": name, "trial": trial, **row})
    return rows


def window_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """p50 / p99 / max per configuration, over every trial and replica."""
    out = []
    for name, _, _ in CONFIGS:
        mine = [r for r in rows if r["config"] == name]
        if not mine:
            continue
        window = [r["window_ms"] for r in mine]
        exposure = [r["exposure_ms"] for r in mine]
        out.append(
            {
                "config": name,
                "samples": len(mine),
                "revoked_true": sum(1 for r in mine if r["revoked"]) / len(mine),
                "window_p50_ms": percentile(window, 50),
                "window_p99_ms": percentile(window, 99),
                "window_max_ms": max(window),
                "exposure_p50_ms": percentile(exposure, 50),
                "exposure_max_ms": max(exposure),
                "answer_p50_ms": statistics.median(r["answer_ms"] for r in mine),
            }
        )
    return out
