"""Processes the servers' tests start for themselves: a private redis-server, the latency proxy.

The servers' tests run with the servers' dependencies alone, so nothing here imports `lab`:
the Redis command line is the lab's (lab/store/redis_server.py: loopback, no disk), and the
latency proxy is started as its own process (`python -m lab.store.latency_proxy`, standard
library only). Both are stopped by PID.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis

REPO_ROOT = Path(__file__).resolve().parents[2]


#: Below the kernel's ephemeral range (32768-60999), where client connections take their source
#: ports: a port found there can be taken before the server binds it (lab/engine/processes.py).
PORT_RANGE = (20000, 32767)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, from PORT_RANGE."""
    for _ in range(1000):
        port = random.randint(*PORT_RANGE)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port for the test Redis")


def _wait(ready: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class RedisProcess:
    """A throwaway redis-server: start, stop and restart it on one port, stopped by PID."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="authlab-redis-"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The URL the servers connect to."""
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A plain client for assertions."""
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=2)

    def _ping(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        """Start (or restart) the server and wait until it answers PING."""
        binary = shutil.which("redis-server") or "/usr/sbin/redis-server"
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)]
        argv += ["--daemonize", "no", "--protected-mode", "yes", "--databases", "4"]
        argv += ["--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        _wait(self._ping, "redis-server")

    def stop(self) -> None:
        """Stop the server by PID."""
        if self.proc:
            _stop(self.proc)
        self.proc = None

    def close(self) -> None:
        """Stop and remove the data directory."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_proxy(listen: int, upstream: int, latency: str) -> subprocess.Popen:
    """The lab's latency proxy in front of `upstream`, listening on `listen` once this returns."""
    argv = [sys.executable, "-m", "lab.store.latency_proxy", "--route", f"{listen}:{upstream}"]
    proc = subprocess.Popen([*argv, "--latency", latency], cwd=REPO_ROOT, stdout=subprocess.DEVNULL)
    try:
        _wait(lambda: _listening(listen), "the latency proxy")
    except RuntimeError:
        _stop(proc)
        raise
    return proc


def stop_proxy(proc: subprocess.Popen) -> None:
    """Stop a proxy started by `start_proxy`, by PID."""
    _stop(proc)
