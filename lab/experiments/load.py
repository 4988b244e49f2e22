"""A small load generator: threads with keep-alive connections, one sample per request.

Locust (`python -m lab loadtest`) is the tool for benchmarking; this is the tool for experiments
that need every request's time, status and replica on one clock (a timeline of errors while Redis
is down), or a few seconds of load inside a test. It uses `http.client` directly: about three times
fewer CPU cycles per request than `requests`, which matters because the generator shares the
machine's two cores with the lab. Its numbers are therefore a floor, not the servers' ceiling.
"""

from __future__ import annotations

import http.client
import math
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_STORE = re.compile(r"store=(\d+)")
_DUR = re.compile(r"dur=([\d.]+)")


@dataclass
class Sample:
    """One request of a load run."""

    #: Seconds since the run started, when the request was sent.
    t: float
    #: Milliseconds until the whole response was read.
    ms: float
    #: HTTP status; 0 when the connection failed (refused, reset, timed out).
    status: int
    #: X-Replica of the answer (None on a connection error or an answer from HAProxy itself).
    replica: str | None
    #: Store round trips of the auth check (Server-Timing), where it ran.
    store: int | None
    #: Milliseconds the auth check took on the server (Server-Timing).
    auth_ms: float | None
    #: Which target of the run sent it (e.g. "session" or "jwt").
    target: str


@dataclass
class Target:
    """Where a share of the load goes: a base URL, a path, and the cookies of logged-in users."""

    name: str
    base_url: str
    cookies: Sequence[str]
    path: str = "/auth/me"


def _pace(next_at: float, interval: float) -> tuple[float, float]:
    """Wait for the next request's slot (open loop at `interval`); returns (now, next slot)."""
    now = time.perf_counter()
    if not interval:
        return now, now
    if now < next_at:
        time.sleep(next_at - now)
        now = time.perf_counter()
    return now, max(next_at + interval, now)


def _one_request(
    conn: http.client.HTTPConnection, target: Target, headers: dict[str, str]
) -> tuple[int, str | None, int | None, float | None, bool]:
    """(status, replica, store round trips, auth ms, keep the connection) of one GET."""
    conn.request("GET", target.path, headers=headers)
    response = conn.getresponse()
    response.read()
    timing = response.getheader("Server-Timing") or ""
    store = int(m[1]) if (m := _STORE.search(timing)) else None
    auth_ms = float(m[1]) if (m := _DUR.search(timing)) else None
    keep = response.getheader("Connection", "").lower() != "close"
    return response.status, response.getheader("X-Replica"), store, auth_ms, keep


def _worker(
    target: Target,
    cookie: str,
    start: float,
    deadline: float,
    interval: float,
    out: list[Sample],
    stop: threading.Event,
) -> None:
    parts = urlsplit(target.base_url)
    conn: http.client.HTTPConnection | None = None
    headers = {"Cookie": cookie, "Connection": "keep-alive"}
    next_at = time.perf_counter()
    while not stop.is_set() and time.perf_counter() < deadline:
        now, next_at = _pace(next_at, interval)
        if conn is None:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        status, replica, store, auth_ms, keep = 0, None, None, None, False
        try:
            status, replica, store, auth_ms, keep = _one_request(conn, target, headers)
        except (OSError, http.client.HTTPException):
            # A refused connection returns at once: do not spin the CPU against a dead port.
            time.sleep(0.01)
        if not keep:
            conn.close()
            conn = None
        done = time.perf_counter()
        out.append(
            Sample(now - start, (done - now) * 1000, status, replica, store, auth_ms, target.name)
        )
    if conn is not None:
        conn.close()


def run_load(
    targets: Sequence[Target],
    seconds: float,
    threads_per_target: int = 4,
    rate_per_thread: float | None = None,
    stop: threading.Event | None = None,
    start: float | None = None,
) -> list[Sample]:
    """Hammer every target for `seconds`, with `threads_per_target` clients each.

    Without a rate the clients are closed-loop (the next request goes as soon as the last one is
    answered: the most load the generator can make). With `rate_per_thread` each client paces
    itself to that many requests per second, which keeps a timeline evenly filled. `start` (a
    `time.perf_counter()` value) sets the clock's zero, to line samples up with other events.
    """
    stop = stop or threading.Event()
    interval = 1 / rate_per_thread if rate_per_thread else 0.0
    results: list[list[Sample]] = []
    workers = []
    start = time.perf_counter() if start is None else start
    deadline = start + seconds
    for target in targets:
        for i in range(threads_per_target):
            out: list[Sample] = []
            results.append(out)
            cookie = target.cookies[i % len(target.cookies)]
            workers.append(
                threading.Thread(
                    target=_worker,
                    args=(target, cookie, start, deadline, interval, out, stop),
                    daemon=True,
                )
            )
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(seconds + 10)
    samples = [s for out in results for s in out]
    samples.sort(key=lambda s: s.t)
    return samples


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(samples: Sequence[Sample], seconds: float) -> dict[str, Any]:
    """Requests, throughput, error rate, latency percentiles and mean store round trips."""
    ok = [s for s in samples if s.status == 200]
    latencies = [s.ms for s in ok]
    stores = [s.store for s in samples if s.store is not None]
    auth = [s.auth_ms for s in ok if s.auth_ms is not None]
    return {
        "requests": len(samples),
        "ok": len(ok),
        "errors": len(samples) - len(ok),
        "error_rate": (len(samples) - len(ok)) / len(samples) if samples else None,
        "rps": len(ok) / seconds if seconds else None,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "store_round_trips": sum(stores) / len(stores) if stores else None,
        "auth_ms": sum(auth) / len(auth) if auth else None,
        "auth_p50_ms": percentile(auth, 50),
        "replicas_hit": sorted({s.replica for s in ok if s.replica}),
    }


def error_series(
    samples: Sequence[Sample], bin_seconds: float = 0.25, target: str | None = None
) -> list[dict[str, Any]]:
    """Error rate per time bin (tidy rows: t, target, requests, errors, error_rate)."""
    bins: dict[tuple[str, int], list[int]] = {}
    for s in samples:
        if target is not None and s.target != target:
            continue
        key = (s.target, int(s.t // bin_seconds))
        count = bins.setdefault(key, [0, 0])
        count[0] += 1
        count[1] += s.status != 200
    return [
        {
            "t": index * bin_seconds,
            "target": name,
            "requests": n,
            "errors": errors,
            "error_rate": errors / n,
        }
        for (name, index), (n, errors) in sorted(bins.items(), key=lambda kv: (kv[0][0], kv[0][1]))
    ]


def replica_series(samples: Sequence[Sample], bin_seconds: float = 0.25) -> list[dict[str, Any]]:
    """Answers per replica per time bin (tidy rows: t, target, replica, answers), with the
    zeros: a replica that answered nothing in a bin (it was dead) gets a row saying so."""
    bins: dict[tuple[str, str, int], int] = {}
    last = max((int(s.t // bin_seconds) for s in samples), default=-1)
    for s in samples:
        if s.status == 200 and s.replica:
            key = (s.target, s.replica, int(s.t // bin_seconds))
            bins[key] = bins.get(key, 0) + 1
    pairs = sorted({(target, replica) for target, replica, _ in bins})
    return [
        {
            "t": index * bin_seconds,
            "target": target,
            "replica": replica,
            "answers": bins.get((target, replica, index), 0),
        }
        for target, replica in pairs
        for index in range(last + 1)
    ]
