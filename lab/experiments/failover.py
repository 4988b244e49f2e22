"""What does a failover undo? Crash the Redis primary under revocation load, then check every
credential the servers vouched for.

Clients log in and out in a loop on both servers (the session server, and the JWT server in
denylist mode, the one whose logout writes to Redis); every other login is kept, every other one
is logged out. At `before` seconds the primary is killed (SIGKILL); the sentinels promote the
replica; the servers follow by themselves. Once they serve again the crashed node is restarted
(it rejoins as a replica) and the load goes on a little. Then every credential is tried:
- a kept login that no longer works is a **login lost** (the session was not on the replica);
- a logout that answered `"revoked": true` and whose credential works again is a **revocation
  lost**: the security failure. With REVOCATION_DURABILITY=wait an answer says `true` only once
  a replica acknowledged it, so by construction none should be lost; the price is the answers
  that say `false` (no replica to confirm) while the crashed node is away. The study sets
  SESSION_DURABILITY to the same value: with `wait` a login is answered 200 only once a replica
  holds the session, so none should be lost either; the price is the logins refused with a 503
  while the crashed node is away (the new primary has no replica to confirm them).
The error window is the time from the crash to the last 503 (or connection error). The servers
serve again when a session logged in before the load answers /auth/me again.

Each durability setting runs twice: with the replica next door (expected to lose almost nothing
when the replica is in sync: the kernel delivers what Redis already wrote to the replica's
socket; so the study crashes only once the offsets match, `insync`), and with a replica that
lags `LAG` behind (`--replication-lag`: the latency proxy holds the stream
back, and the crash drops what it held, as a dead host's output buffer is gone). The second is
where "a logout that comes back" shows.
"""

from __future__ import annotations

import itertools
import os
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
from matplotlib.figure import Figure

from ..api import Lab
from ..engine.configuration import describe, lab_settings
from .actors import politely
from .insync import wait_in_sync
from .labs import LabPool

SERVERS = ("session", "jwt")
DURABILITIES = ("none", "wait")
#: How far behind the lagging replica is: a replica across a busy link, or catching up after a
#: burst. Under REVOCATION_WAIT_TIMEOUT_MS (500), so `wait` still confirms, just later.
LAG = "200ms"
LAGS = ("off", LAG)
#: Seconds to wait for the replica next door to be in sync before crashing the primary.
SYNC_BOUND = 10.0
PASSWORD = "failover-password-1"  # noqa: S105 (a throwaway test account)
TIMEOUT = 5


@dataclass
class Ledger:
    """What one server promised during a run, and what its clients saw."""

    server: str
    kept: list[dict[str, str]] = field(default_factory=list)
    revoked: list[dict[str, str]] = field(default_factory=list)
    unconfirmed: int = 0
    events: list[tuple[float, str, int]] = field(default_factory=list)
    #: Milliseconds of each logout that answered 200 (WAIT makes them longer).
    logout_ms: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, t: float, what: str, status: int) -> None:
        """One request's time (s since start), kind and status."""
        with self.lock:
            self.events.append((t, what, status))


def _account(url: str) -> dict[str, str]:
    user = {"email": f"fo-{uuid.uuid4().hex[:12]}@example.com", "password": PASSWORD}
    response = requests.post(f"{url}/auth/register", json={**user, "name": "F"}, timeout=TIMEOUT)
    response.raise_for_status()
    return user


def _cycle(url: str, user: dict, ledger: Ledger, start: float, keep: bool) -> None:
    """One login, one /auth/me, and (every other time) one logout."""
    client = requests.Session()
    try:
        answer = client.post(f"{url}/auth/login", json=user, timeout=TIMEOUT)
        ledger.note(time.perf_counter() - start, "login", answer.status_code)
        if answer.status_code != 200:
            return
        cookies = dict(client.cookies)
        me = client.get(f"{url}/auth/me", timeout=TIMEOUT)
        ledger.note(time.perf_counter() - start, "me", me.status_code)
        if keep:
            with ledger.lock:
                ledger.kept.append(cookies)
            return
        sent = time.perf_counter()
        out = client.post(f"{url}/auth/logout", timeout=TIMEOUT)
        ledger.note(time.perf_counter() - start, "logout", out.status_code)
        if out.status_code == 200:
            with ledger.lock:
                ledger.logout_ms.append((time.perf_counter() - sent) * 1000)
                if out.json().get("revoked") is True:
                    ledger.revoked.append(cookies)
                else:
                    ledger.unconfirmed += 1
    except requests.RequestException:
        ledger.note(time.perf_counter() - start, "error", 0)
    finally:
        client.close()


def _worker(url: str, ledger: Ledger, start: float, stop: threading.Event, pace: float) -> None:
    user = _account(url)
    keep = False
    while not stop.is_set():
        began = time.perf_counter()
        _cycle(url, user, ledger, start, keep)
        keep = not keep
        time.sleep(max(0.0, pace - (time.perf_counter() - began)))


def _works(url: str, cookies: dict[str, str]) -> int:
    try:
        return requests.get(f"{url}/auth/me", cookies=cookies, timeout=TIMEOUT).status_code
    except requests.RequestException:
        return 0


def _unconfirmed(answer: requests.Response) -> float | None:
    """Any 503 puts the probe's login off a moment: a busy replica, or no replica confirmed the
    session yet (a node that just rejoined acknowledges nothing until its copy has loaded)."""
    return 0.2 if answer.status_code == 503 else None


def _probe(url: str) -> dict[str, str]:
    """A session logged in before the load (so on the replica at the crash): the servers serve
    again when it does. A fresh login would not tell: with SESSION_DURABILITY=wait it waits for
    a replica, and the new primary has none until the crashed node rejoins."""
    client = requests.Session()
    user = _account(url)
    answer = politely(
        lambda: client.post(f"{url}/auth/login", json=user, timeout=TIMEOUT), _unconfirmed
    )
    answer.raise_for_status()
    return dict(client.cookies)


def _wait_serving(lab: Lab, probe: dict[str, str], bound: float) -> float:
    """Until the session `probe` holds answers /auth/me on the session server again; seconds
    waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < bound:
        if _works(lab.session_url, probe) == 200:
            return time.perf_counter() - started
        time.sleep(0.1)
    raise TimeoutError(f"the servers did not recover within {bound:g} s")


def crash_run(
    lab: Lab,
    *,
    threads: int = 2,
    before: float = 1.5,
    after: float = 1.5,
    pace: float = 0.02,
    recovery_bound: float = 60.0,
    sync_bound: float = 0.0,
) -> dict[str, Any]:
    """One crash of the primary under load on both servers; the ledger of each server.

    The precondition is checked, not assumed: the primary is killed once its replica has every
    byte it produced, or after `sync_bound` s (0: at once, for a replica meant to lag); either
    way the offsets at the crash are kept (`sync`), to explain what was lost."""
    ledgers = {server: Ledger(server) for server in SERVERS}
    probe = _probe(lab.session_url)
    stop = threading.Event()
    start = time.perf_counter()
    workers = [
        threading.Thread(
            target=_worker, args=(lab.url(s), ledgers[s], start, stop, pace), daemon=True
        )
        for s in SERVERS
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    try:
        time.sleep(before)
        sync = wait_in_sync(lab, sync_bound)
        crash_at = time.perf_counter() - start
        crashed = lab.redis_kill_primary()
        recovered_after = _wait_serving(lab, probe, recovery_bound)
        lab.redis_start()  # the crashed node rejoins, as a replica of the new primary
        rejoined_at = time.perf_counter() - start
        time.sleep(after)
    finally:
        stop.set()
        for worker in workers:
            worker.join(30)
    rows = [_account_for(lab, ledgers[s], crash_at) for s in SERVERS]
    return {
        "crashed": crashed,
        "sync": sync,
        "new_primary": lab.redis_primary(),
        "crash_at": crash_at,
        "recovered_after_s": recovered_after,
        "rejoined_at": rejoined_at,
        "rows": rows,
    }


def _account_for(lab: Lab, ledger: Ledger, crash_at: float) -> dict[str, Any]:
    url = lab.url(ledger.server)
    errors_after = [t for t, _, status in ledger.events if t >= crash_at and status in (0, 503)]
    other_errors = [s for _, _, s in ledger.events if s not in (0, 200, 401, 503)]
    return {
        "server": ledger.server,
        "mode": lab.config.session_store if ledger.server == "session" else lab.config.jwt_mode,
        "requests": len(ledger.events),
        "errors_503": len(errors_after),
        "other_errors": len(other_errors),
        "error_window_s": (max(errors_after) - crash_at) if errors_after else 0.0,
        "logins_kept": len(ledger.kept),
        "logins_lost": sum(1 for c in ledger.kept if _works(url, c) != 200),
        "revocations_confirmed": len(ledger.revoked),
        "revocations_lost": sum(1 for c in ledger.revoked if _works(url, c) == 200),
        "revocations_unconfirmed": ledger.unconfirmed,
        "logout_p50_ms": statistics.median(ledger.logout_ms) if ledger.logout_ms else None,
    }


def failover_study(
    pool: LabPool,
    durabilities: tuple[str, ...] = DURABILITIES,
    *,
    lags: tuple[str, ...] = LAGS,
    threads: int = 2,
    before: float | None = None,
    after: float | None = None,
) -> dict[str, Any]:
    """The crash once per replica lag and durability setting (REVOCATION_DURABILITY and
    SESSION_DURABILITY alike), on a Sentinel lab.
    Load runs `before` s before the crash (default: the scale's fault_before) and `after` s
    once the crashed node rejoined (default: half the scale's load_seconds)."""
    before = pool.scale.fault_before if before is None else before
    after = pool.scale.load_seconds / 2 if after is None else after
    runs = []
    for lag in lags:
        for durability in durabilities:
            env = {
                **pool.defaults()["env"],
                "REVOCATION_DURABILITY": durability,
                "SESSION_DURABILITY": durability,
            }
            # Tokens that outlive the run: a kept login that stops working is lost, not expired.
            lab = pool.get(
                redis_topology="sentinel",
                replication_lag=lag,
                jwt_mode="denylist",
                access_ttl=600,
                env=env,
            )
            # Next door, the replica must be in sync before the crash (after a planned failover
            # or a rejoin it may still be loading a copy); a lagging one is crashed as it is.
            bound = SYNC_BOUND if lag == "off" else 0.0
            run = crash_run(lab, threads=threads, before=before, after=after, sync_bound=bound)
            for row in run["rows"]:
                row.update(durability=durability, replication_lag=lag)
            measured = describe(lab_settings(lab.config))
            runs.append(
                {
                    "durability": durability,
                    "session_durability": durability,
                    "replication_lag": lag,
                    "measured": measured,
                    **run,
                }
            )
    return {
        "runs": runs,
        "rows": [row for run in runs for row in run["rows"]],
        "load_average": round(os.getloadavg()[0], 2),
    }


def failover_table(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per durability setting and server, for people."""
    return [
        {
            "replica lag": r["replication_lag"],
            "durability": r["durability"],
            "server": r["server"],
            "mode": r["mode"],
            "503s": r["errors_503"],
            "error window (s)": round(r["error_window_s"], 2),
            "logins kept / lost": f"{r['logins_kept']} / {r['logins_lost']}",
            "revocations confirmed / lost": f"{r['revocations_confirmed']} / "
            f"{r['revocations_lost']}",
            "answered revoked: false": r["revocations_unconfirmed"],
            "logout p50 (ms)": round(r["logout_p50_ms"], 1) if r["logout_p50_ms"] else None,
        }
        for r in result["rows"]
    ]


def plot(result: dict[str, Any]) -> Figure:
    """Per replica lag, durability setting and server: the error window, the logouts' answers,
    and the revocations a failover undid (its own panel: a handful beside hundreds)."""
    fig = Figure(figsize=(12, 3.8), layout="constrained")
    window, answers, lost = fig.subplots(1, 3, sharex=True)
    rows = result["rows"]
    labels = [f"{r['server']}\n{r['durability']}" for r in rows]
    xs = list(range(len(rows)))
    window.bar(xs, [r["error_window_s"] for r in rows], color="#9e9e9e")
    window.set_ylabel("seconds")
    window.set_title("503s after the crash (seconds)", pad=16)
    width = 0.4
    answers.bar([x - width / 2 for x in xs], [r["revocations_confirmed"] for r in rows], width,
                color="#2a9d3c", label="revoked: true")  # fmt: skip
    answers.bar([x + width / 2 for x in xs], [r["revocations_unconfirmed"] for r in rows], width,
                color="#ff7f0e", label="revoked: false (not confirmed)")  # fmt: skip
    answers.set_title("Logouts during the run", pad=16)
    answers.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    counts = [r["revocations_lost"] for r in rows]
    lost.bar(xs, counts, color="#d62728")
    for x, n in zip(xs, counts, strict=True):
        lost.annotate(str(n), (x, n), ha="center", va="bottom", fontsize=8)
    lost.set_ylim(0, max([*counts, 1]) * 1.25)
    lost.set_title("revoked: true, then worked again", pad=16)
    for ax in (window, answers, lost):
        ax.set_xticks(xs, labels, fontsize=7)
        ax.grid(alpha=0.3, axis="y")
        _caption_lag_groups(ax, rows)
    return fig


def _caption_lag_groups(ax: Any, rows: list[dict[str, Any]]) -> None:
    """Over each run of bars with the same replica lag, say which; a line between runs."""
    runs = itertools.groupby(range(len(rows)), key=lambda x: case_name(rows[x]))
    for i, (label, xs) in enumerate(runs):
        members = list(xs)
        middle = (members[0] + members[-1]) / 2
        ax.text(middle, 1.01, label, transform=ax.get_xaxis_transform(), ha="center",
                va="bottom", fontsize=7, color="#555555")  # fmt: skip
        if i:
            ax.axvline(members[0] - 0.5, color="#999999", linestyle="--", linewidth=0.8)


def _lag(row: dict[str, Any]) -> str:
    # Results saved before the lagging replica existed have no lag: the replica was next door.
    return row.get("replication_lag", "off")


def case_name(row: dict[str, Any]) -> str:
    """'replica next door' or 'replica 200ms behind', for labels and sentences."""
    lag = _lag(row)
    return "replica next door" if lag == "off" else f"replica {lag} behind"


def cases(rows: list[dict[str, Any]]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(lag, durability, rows) per run, in the order they ran."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault((_lag(row), row["durability"]), []).append(row)
    return [(lag, durability, mine) for (lag, durability), mine in found.items()]


def headline(result: dict[str, Any] | None) -> dict[str, Any]:
    """The numbers to quote: revocations lost with and without WAIT (keys ending in _lagging:
    with the lagging replica), and the error window."""
    if not result:
        return {}
    found: dict[str, Any] = {}
    for lag, durability, mine in cases(result["rows"]):
        key = durability if lag == "off" else f"{durability}_lagging"
        found[f"revocations_lost_{key}"] = sum(r["revocations_lost"] for r in mine)
        found[f"revocations_confirmed_{key}"] = sum(r["revocations_confirmed"] for r in mine)
        found[f"logins_lost_{key}"] = sum(r["logins_lost"] for r in mine)
        found[f"error_window_s_{key}"] = round(max(r["error_window_s"] for r in mine), 2)
    return found
