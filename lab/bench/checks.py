"""What one auth check costs, in process: `python -m lab bench [--quick] [--json]`.

No HTTP, no gunicorn, no load generator sharing the cores: each server's own backend checks the
same valid credential N times against a private redis-server, and the bench reports the median
and p95 per mechanism, the store round trips each check made (the backend's own count, and
the sends counted on the redis-py connection), and the ratio to the cheapest check, all from one
run. Reference primitives (a bare Redis PING from redis-py, one bcrypt check) put the numbers in
proportion: on a machine like ours a JWT signature check and a Redis round trip cost about the
same, so "JWTs are faster" is a thing to measure, not to assume.

    python -m lab bench            # 2000 checks per case, about half a minute
    python -m lab bench --quick    # 200 checks per case, a few seconds (the tests run this)
"""

from __future__ import annotations

import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import bcrypt
from redis.connection import AbstractConnection

from ..store.redis_server import RedisProcess

#: A fresh secret per run, as the lab does: long enough for HS256 (32+ bytes).
BENCH_SECRET = secrets.token_urlsafe(48)


@dataclass
class Case:
    """One mechanism to measure: which server, which settings, which cookie carries the proof."""

    name: str
    module: str
    settings: dict[str, Any]
    cookie: str


CASES = [
    Case("session (redis)", "servers.session_server", {"session_store": "redis"}, "sid"),
    Case("session (memory)", "servers.session_server", {"session_store": "memory"}, "sid"),
    Case("jwt stateless HS256", "servers.jwt_server", {"jwt_mode": "stateless"}, "access_token"),
    Case(
        "jwt stateless RS256",
        "servers.jwt_server",
        {"jwt_mode": "stateless", "jwt_algorithm": "RS256"},
        "access_token",
    ),
    Case(
        "jwt stateless EdDSA",
        "servers.jwt_server",
        {"jwt_mode": "stateless", "jwt_algorithm": "EdDSA"},
        "access_token",
    ),
    Case("jwt denylist HS256", "servers.jwt_server", {"jwt_mode": "denylist"}, "access_token"),
    Case("jwt refresh HS256", "servers.jwt_server", {"jwt_mode": "refresh"}, "access_token"),
    Case("jwt push HS256", "servers.jwt_server", {"jwt_mode": "push"}, "access_token"),
    Case("session (cached)", "servers.session_server", {"session_store": "cached"}, "sid"),
]


@dataclass
class Result:
    """The measured cost of one case."""

    name: str
    calls: int
    median_us: float
    p95_us: float
    #: What the backend reports in Server-Timing...
    round_trips: int
    #: ...and what was counted on the wire (per check, warm-up included).
    measured_round_trips: float
    ratio_to_cheapest: float = 0.0


def timed(fn: Callable[[], object], calls: int) -> list[float]:
    """Microseconds per call, one sample per call, after a short warm-up."""
    for _ in range(min(50, calls)):
        fn()
    samples = []
    for _ in range(calls):
        started = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - started) / 1000)
    return samples


def p95(samples: list[float]) -> float:
    """The 95th percentile."""
    return statistics.quantiles(samples, n=20)[-1]


@contextmanager
def count_round_trips() -> Iterator[list[int]]:
    """Count what redis-py puts on the wire from this thread: one send per command or per
    pipeline, which is one network round trip. (Redis's own INFO counts a script's inner commands
    too; push-fed replicas read their feed in another thread, which is not the check's cost.)"""
    counter = [0]
    original = AbstractConnection.send_packed_command
    checking = threading.get_ident()

    def counting(self, command, check_health=True):
        if threading.get_ident() == checking:
            counter[0] += 1
        return original(self, command, check_health)

    AbstractConnection.send_packed_command = counting  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        AbstractConnection.send_packed_command = original  # type: ignore[method-assign]


def measure_case(case: Case, redis_proc: RedisProcess, workdir: Path, calls: int) -> Result:
    """Build the real app, log a user in, then time the backend's check of that cookie."""
    import importlib

    settings = {
        "secret_keys": (BENCH_SECRET,),
        "redis_url": redis_proc.url,
        "database_url": f"sqlite:///{workdir / (case.name.replace(' ', '-') + '.db')}",
        "bcrypt_rounds": 4,
        "login_rate_limit": "1000000 per minute",
        "login_ip_rate_limit": "1000000 per minute",
        **case.settings,
    }
    if case.settings.get("jwt_algorithm") in {"RS256", "EdDSA"}:
        from servers.jwt_server.keys import generate_keypair

        private, public = generate_keypair(case.settings["jwt_algorithm"], workdir / case.name)
        settings.update(jwt_private_key_file=str(private), jwt_public_key_file=str(public))
    app = importlib.import_module(case.module).create_app(settings)
    client = app.test_client()
    account = {"email": "bench@example.com", "password": "bench-password-1", "name": "Bench"}
    client.post("/auth/register", json=account)
    login = client.post("/auth/login", json=account)
    if login.status_code != 200:
        raise RuntimeError(f"{case.name}: login failed: {login.get_json()}")
    cookie = client.get_cookie(case.cookie).value
    backend = app.extensions["authlab_backend"]
    wait_for_feed(app)
    with app.test_request_context("/auth/me", headers={"Cookie": f"{case.cookie}={cookie}"}):
        from flask import request

        backend.authenticate(request)  # a cache fills on the first check: measure the next
        check = backend.authenticate(request)
        if check.principal is None:
            raise RuntimeError(f"{case.name}: the bench's own cookie was refused")
        with count_round_trips() as sent:
            samples = timed(lambda: backend.authenticate(request), calls)
    return Result(
        name=case.name,
        calls=calls,
        median_us=statistics.median(samples),
        p95_us=p95(samples),
        round_trips=check.round_trips,
        measured_round_trips=round(sent[0] / (calls + min(50, calls)), 3),
    )


def wait_for_feed(app, timeout: float = 10.0) -> None:
    """A push-fed replica answers from memory once its feed is live (the first read is its
    warm-up); measure that steady state, not the start."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        feed = app.test_client().get("/health").get_json().get("feed")
        if feed is None or feed["state"] == "live":
            return
        time.sleep(0.01)
    raise RuntimeError("the replica's push feed never became live")


def reference_costs(redis_proc: RedisProcess, calls: int) -> list[dict[str, Any]]:
    """Primitives to compare with: a Redis round trip, and one bcrypt check at cost 4 and 12."""
    from servers.core.redis_client import make_redis

    client = make_redis(redis_proc.url)
    ping = timed(client.ping, calls)
    rows = [{"name": "redis PING (redis-py)", "median_us": statistics.median(ping)}]
    for cost, repeats in ((4, 20), (12, 3)):
        hashed = bcrypt.hashpw(b"bench-password-1", bcrypt.gensalt(cost))
        check = timed(lambda h=hashed: bcrypt.checkpw(b"bench-password-1", h), repeats)
        rows.append({"name": f"bcrypt check, cost {cost}", "median_us": statistics.median(check)})
    client.close()
    return rows


def run(calls: int, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure every case on a private Redis (started and stopped here)."""
    redis_proc = RedisProcess()
    redis_proc.start()
    try:
        with tempfile.TemporaryDirectory(prefix="authlab-bench-") as tmp:
            results = []
            for case in CASES:
                progress(f"bench: {case.name} ({calls} checks)")
                results.append(measure_case(case, redis_proc, Path(tmp), calls))
        cheapest = min(r.median_us for r in results)
        for r in results:
            r.ratio_to_cheapest = round(r.median_us / cheapest, 2)
        progress("bench: reference primitives")
        references = reference_costs(redis_proc, calls)
    finally:
        redis_proc.close()
    return {
        "calls_per_case": calls,
        "redis_port": redis_proc.port,
        "results": [asdict(r) for r in results],
        "references": references,
    }


def print_table(report: dict[str, Any]) -> None:
    """The results for people."""
    print()
    head = (
        f"{'auth check (in process)':<24} {'median':>9} {'p95':>9} {'store':>6} {'x cheapest':>11}"
    )
    print(head)
    for r in report["results"]:
        print(
            f"{r['name']:<24} {r['median_us']:>7.1f}us {r['p95_us']:>7.1f}us "
            f"{r['round_trips']:>6} {r['measured_round_trips']:>6g} "
            f"{r['ratio_to_cheapest']:>10.2f}x"
        )
    print()
    for ref in report["references"]:
        print(f"{ref['name']:<24} {ref['median_us']:>7.1f}us")
    print(
        "\nMedians of one run on this machine. 'store': Redis round trips per check as the"
        "\nbackend reports them (Server-Timing); 'sent': what was counted on the connection."
        "\nCompare the rows with each other, not with another machine's numbers."
    )
