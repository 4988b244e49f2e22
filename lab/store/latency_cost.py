"""What the latency proxy costs by itself, and how exact it is: `python -m lab redis proxy-cost`.

A private redis-server and a proxy of our own (lab/store/latency_proxy.py): the median redis-py PING
round trip directly and through the proxy at 0 ms (the difference is the proxy's own cost), then
the round trip it achieves at a few settings, stamped with commit, date and machine.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

from ..engine import processes
from ..engine.durations import Latency
from ..engine.state import REPO_ROOT, LabError


def start_proxy(listen: int, upstream: int, latency: str) -> subprocess.Popen:
    """A proxy process of our own (tests, `proxy-cost`), listening once this returns."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab.store.latency_proxy", "--route", f"{listen}:{upstream}",
         "--latency", latency],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        # A busy machine (a parallel test run) starts Python slowly: room to spare.
        processes.wait_until(lambda: processes.is_listening(listen), 30, "the proxy", 0.05)
    except LabError:
        stop_proxy(proc)
        raise RuntimeError("the latency proxy did not start") from None
    return proc


def stop_proxy(proc: subprocess.Popen) -> None:
    """Stop a proxy started by `start_proxy`, by pid."""
    processes.terminate(proc)


def ping_round_trips(port: int, count: int) -> list[float]:
    """`count` PINGs on one redis-py connection to 127.0.0.1:port; seconds each."""
    import redis

    client = redis.Redis(port=port, socket_timeout=5)
    try:
        client.ping()  # connect first: the first round trip pays the handshake
        times = []
        for _ in range(count):
            start = time.perf_counter()
            client.ping()
            times.append(time.perf_counter() - start)
        return times
    finally:
        client.close()


def measure_overhead(redis_port: int, proxy_port: int, count: int = 2000, rounds: int = 3):
    """Median PING round trip direct and through a 0 ms proxy, interleaved `rounds` times."""
    direct: list[float] = []
    proxied: list[float] = []
    for _ in range(rounds):
        direct += ping_round_trips(redis_port, count // rounds)
        proxied += ping_round_trips(proxy_port, count // rounds)
    return {
        "pings": len(direct),
        "direct_p50_us": statistics.median(direct) * 1e6,
        "proxied_p50_us": statistics.median(proxied) * 1e6,
        "overhead_p50_us": (statistics.median(proxied) - statistics.median(direct)) * 1e6,
    }


def measure_cost(pings: int = 1500, settings: Sequence[str] = ("0.2ms", "1ms", "2ms")) -> dict:
    """The proxy's own cost at 0 ms, and the round trip it achieves at a few settings."""
    from ..engine.processes import free_port
    from .redis_server import RedisProcess

    redis_proc = RedisProcess()
    redis_proc.start()
    rows = []
    try:
        port = free_port()
        proc = start_proxy(port, redis_proc.port, "0ms")
        try:
            overhead = measure_overhead(redis_proc.port, port, pings)
        finally:
            stop_proxy(proc)
        for setting in settings:
            proc = start_proxy(port, redis_proc.port, setting)
            try:
                times = ping_round_trips(port, max(100, pings // 5))
            finally:
                stop_proxy(proc)
            rows.append(
                {
                    "setting": setting,
                    "configured_us": Latency.parse(setting).delay * 1e6,
                    "p50_us": statistics.median(times) * 1e6,
                    "min_us": min(times) * 1e6,
                }
            )
    finally:
        redis_proc.close()
    return {"overhead": overhead, "settings": rows}


def print_cost() -> int:
    """`python -m lab redis proxy-cost`: the table, stamped with commit, date and machine."""
    result = measure_cost()
    o = result["overhead"]
    print(stamp())
    print(f"redis-py PING round trip, median of {o['pings']} (interleaved, one connection):")
    print(f"  direct                   {o['direct_p50_us']:8.1f} us")
    print(f"  through the proxy, 0 ms  {o['proxied_p50_us']:8.1f} us")
    print(f"  the proxy's own cost     {o['overhead_p50_us']:8.1f} us per round trip")
    print("\nsetting   added (configured)   PING p50 through it   min")
    for row in result["settings"]:
        print(
            f"{row['setting']:<9} {row['configured_us']:10.0f} us {row['p50_us']:17.0f} us"
            f" {row['min_us']:9.0f} us"
        )
    print(
        "\nA delayed round trip costs the setting plus the proxy's own cost plus how late the"
        "\nOS wakes the proxy (more on a busy machine); it is never shorter than the setting."
    )
    return 0


def stamp() -> str:
    """Commit, date and machine, for every printed measurement (lab.engine.stamp)."""
    from ..engine.stamp import stamp_line

    return stamp_line()
