"""A private redis-server for tests: its own port, nothing on disk, stopped by PID.

The command line is the lab's own (`lab.redis_server.argv`): tests and lab run the same Redis.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from lab import redis_server
from lab.processes import free_port


class RedisProcess:
    """Start, stop and restart one redis-server on 127.0.0.1 (same port across restarts)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="authlab-redis-"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The URL the servers connect to."""
        return redis_server.url(self.port)

    def client(self) -> redis.Redis:
        """A plain client for assertions."""
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=2)

    def start(self) -> None:
        """Start (or restart) the server and wait until it answers PING."""
        binary = redis_server.executable()
        if binary is None:
            raise RuntimeError(redis_server.INSTALL_HINT)
        self.proc = subprocess.Popen(
            redis_server.argv(binary, self.port, self.dir), stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if redis_server.ping(self.port):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        """Stop the server by PID."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def close(self) -> None:
        """Stop and remove the data directory."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
