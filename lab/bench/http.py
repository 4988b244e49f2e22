"""`python -m lab bench --http`: whole requests to /auth/me, as a team would check our claims.

Every contestant (lab/bench/contestants/) runs under the same gunicorn settings with its own private
redis-server; wrk, which can saturate gunicorn where one Locust process cannot, loads each in
turn for a few seconds. Rounds are interleaved (floor, reference, servers, again, in a rotated
order), and each figure is reported as a ratio of the floor measured in the same round: a
machine that slows down between rounds moves the floor with it.

    python -m lab bench --http                      # 3 rounds of 5 s per contestant
    python -m lab bench --http --markdown           # the table docs/benchmarks.md pastes

The parts: lab/bench/wrk.py (wrk and its report), lab/bench/contestants/running.py (a contestant's
gunicorn and Redis, up and down), lab/bench/verdict.py (ratios, targets, trust notes) and
lab/bench/tables.py (tables and Markdown).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from .contestants import contestants
from .contestants.running import Running, load, log_in, start, stop
from .tables import stamp
from .verdict import summarise, targets, trust_notes
from .wrk import (
    USER_AGENT,
    WRK_CONNECTIONS,
    WRK_HINT,
    WRK_THREADS,
    BenchError,
    WrkRun,
    parse_wrk,
)

__all__ = ["USER_AGENT", "BenchError", "Running", "WrkRun", "measure", "parse_wrk", "run"]


def measure(
    started: list[Running], rounds: int, duration: float, progress: Callable[[str], None]
) -> None:
    """Interleaved rounds; the order rotates so nobody always runs first or last."""
    for running in started:  # warm-up: imports, connection pools, JIT-free but cache-warm
        running.cookie_header = log_in(running)
        load(running, 1)
    for index in range(rounds):
        order = started[index % len(started) :] + started[: index % len(started)]
        for running in order:
            progress(f"bench --http: round {index + 1}/{rounds}, {running.contestant.name}")
            running.cookie_header = log_in(running)
            running.runs.append(load(running, duration))


def run(
    rounds: int = 3,
    duration: float = 5.0,
    workers: int = 2,
    threads: int = 4,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Start every contestant, measure them in interleaved rounds, stop them all."""
    import shutil

    if shutil.which("wrk") is None:
        raise BenchError(WRK_HINT)
    started: list[Running] = []
    with tempfile.TemporaryDirectory(prefix="authlab-bench-http-") as tmp:
        try:
            for contestant in contestants():
                progress(f"bench --http: starting {contestant.name}")
                started.append(start(contestant, Path(tmp), workers, threads))
            measure(started, rounds, duration, progress)
        finally:
            for running in started:
                stop(running)
    rows = summarise(started)
    cores = psutil.cpu_count() or 1
    return {
        "stamp": stamp(),
        "settings": {
            "path": "GET /auth/me",
            "rounds": rounds,
            "seconds_per_run": max(1, round(duration)),
            "gunicorn": f"-k gthread -w {workers} --threads {threads}",
            "wrk": f"-t{WRK_THREADS} -c{WRK_CONNECTIONS} --latency",
        },
        "contestants": rows,
        "targets": targets(rows),
        "trust": trust_notes(rows, rounds, cores),
        "redis_ports": [r.redis.port for r in started],
        "gunicorn_ports": [r.port for r in started],
    }
