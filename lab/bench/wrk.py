"""wrk, as `python -m lab bench --http` runs it: the load's shape, one run on one contestant, and
the figures read out of its report (plus how much CPU other processes took meanwhile)."""

from __future__ import annotations

import re
import resource
import subprocess
import time
from dataclasses import dataclass

import psutil

from ..engine.durations import seconds

#: The load: wrk's threads and open connections (keep-alive), the same for every contestant.
WRK_THREADS = 2
WRK_CONNECTIONS = 32
#: A browser's User-Agent, so every server stores and parses what it would in real life.
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
WRK_HINT = (
    "wrk is not installed: `make setup` installs it (Debian: sudo apt-get install wrk; "
    "macOS: brew install wrk)."
)


class BenchError(RuntimeError):
    """The bench cannot run (a tool is missing, a contestant did not start)."""


@dataclass
class WrkRun:
    """One wrk run on one contestant."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    #: Non-2xx answers plus socket errors: any makes the run's figures worthless.
    errors: int
    #: CPU cores used, on average, by processes outside this bench during the run.
    foreign_cores: float = 0.0
    #: CPU time per request of the contestant's gunicorn and Redis together: what a request
    #: costs, less disturbed than req/s when other processes share the cores.
    cpu_us: float = 0.0


def parse_duration_ms(text: str) -> float:
    """wrk's '10.21ms', '850.00us', '1.20s' in milliseconds."""
    try:
        return seconds(text, bare="") * 1000.0
    except (ValueError, KeyError):
        raise ValueError(f"not a wrk duration: {text!r}") from None


def parse_wrk(output: str) -> WrkRun:
    """The figures out of wrk's --latency report."""

    def find(pattern: str) -> str | None:
        match = re.search(pattern, output, re.MULTILINE)
        return match.group(1) if match else None

    rps, p50, p99 = find(r"^Requests/sec:\s+([\d.]+)"), find(r"^\s+50%\s+(\S+)"), None
    p99 = find(r"^\s+99%\s+(\S+)")
    total = find(r"^\s+(\d+) requests in")
    if rps is None or p50 is None or p99 is None or total is None:
        raise BenchError(f"could not read wrk's report:\n{output}")
    errors = int(find(r"Non-2xx or 3xx responses:\s+(\d+)") or 0)
    sockets = find(r"Socket errors: (.*)$")
    if sockets:
        errors += sum(int(n) for n in re.findall(r"\d+", sockets))
    return WrkRun(float(rps), parse_duration_ms(p50), parse_duration_ms(p99), int(total), errors)


def tree_cpu(pids: list[int]) -> float:
    """CPU seconds used so far by these processes and their children."""
    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            family = [proc, *proc.children(recursive=True)]
        except psutil.Error:
            continue
        for p in family:
            try:
                times = p.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                continue
    return total


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def children_cpu() -> float:
    """CPU seconds of this process and its reaped children (wrk, once it has exited)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def wrk(
    name: str, port: int, cookie_header: str | None, ours: list[int], duration: float
) -> WrkRun:
    """Load /auth/me for `duration` seconds; note the CPU others (not `ours`) took meanwhile."""
    argv = [
        "wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{max(1, round(duration))}s",
        "--latency", "-H", f"User-Agent: {USER_AGENT}",
    ]  # fmt: skip
    if cookie_header:
        argv += ["-H", f"Cookie: {cookie_header}"]
    argv.append(f"http://127.0.0.1:{port}/auth/me")
    before = (machine_busy(), tree_cpu(ours), children_cpu(), time.monotonic())
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30, check=False)
    after = (machine_busy(), tree_cpu(ours), children_cpu(), time.monotonic())
    if done.returncode != 0:
        raise BenchError(f"wrk failed on {name}: {done.stderr}")
    result = parse_wrk(done.stdout)
    foreign = (after[0] - before[0]) - (after[1] - before[1]) - (after[2] - before[2])
    result.foreign_cores = round(max(0.0, foreign) / (after[3] - before[3]), 2)
    result.cpu_us = round((after[1] - before[1]) / max(1, result.requests) * 1e6, 1)
    return result
