"""The lab's private redis-server: its own port and directory, never the system's Redis on 6379."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ..engine import processes
from ..engine.processes import free_port
from ..engine.state import LabError, ProcessRecord
from ..engine.supervisor import alive

#: How to install what is missing, shown when `up` cannot find redis-server.
INSTALL_HINT = (
    "redis-server is not installed. Run `make setup`, or install it yourself:\n"
    "  Debian/Ubuntu: sudo apt-get install redis-server\n"
    "  macOS:         brew install redis"
)


def executable() -> str | None:
    """The redis-server binary, or None when it is not installed."""
    return shutil.which("redis-server") or (
        "/usr/sbin/redis-server" if Path("/usr/sbin/redis-server").exists() else None
    )


def argv(binary: str, port: int, directory: Path, persist: bool = False) -> list[str]:
    """The command line: loopback only, and nothing written to disk unless `persist`."""
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory)]
    args += ["--daemonize", "no", "--protected-mode", "yes", "--databases", "4"]
    if persist:
        # Sessions survive `redis stop|start`: an append-only file, synced every second.
        args += ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"]
    else:
        # A lab's sessions are scratch data: no snapshots, no append-only file.
        args += ["--save", "", "--appendonly", "no"]
    return args


def url(port: int, db: int = 0) -> str:
    """The redis:// URL the servers and experiments use."""
    return f"redis://127.0.0.1:{port}/{db}"


def client(port: int, timeout: float = 1.0, *, decode: bool = False) -> redis.Redis:
    """A short-timeout client for the lab's own checks, without redis-py's retries: a refused
    connection is the answer to "is it up yet?" (its default backoff turned one such question
    into seconds, and bringing up a Sentinel lab into forty)."""
    return redis.Redis(
        host="127.0.0.1",
        port=port,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        decode_responses=decode,
        retry=Retry(NoBackoff(), 0),
    )


def ping(port: int) -> bool:
    """Whether the lab's Redis answers."""
    try:
        with client(port) as r:
            return bool(r.ping())
    except redis.RedisError:
        return False


def pause(port: int, seconds: float) -> None:
    """CLIENT PAUSE: Redis holds every client's commands for `seconds`, like a slow network."""
    with client(port) as r:
        r.execute_command("CLIENT", "PAUSE", int(seconds * 1000), "ALL")


class RedisProcess:
    """A throwaway redis-server owned by this process (tests, `lab bench`): start, stop and
    restart it on one port, stopped by PID. The lab's own Redis is managed by `Lab`."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="authlab-redis-"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The URL the servers connect to."""
        return url(self.port)

    def client(self) -> redis.Redis:
        """A plain client for assertions."""
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=2)

    def start(self) -> None:
        """Start (or restart) the server and wait until it answers PING."""
        binary = executable()
        if binary is None:
            raise RuntimeError(INSTALL_HINT)
        self.proc = subprocess.Popen(argv(binary, self.port, self.dir), stdout=subprocess.DEVNULL)
        try:
            processes.wait_until(lambda: ping(self.port), 10, "redis-server", interval=0.05)
        except BaseException as exc:
            # Not answering, or interrupted (Ctrl-C, SIGTERM) while waiting: the process is
            # ours and nobody else knows of it yet, so it stops here.
            self.stop()
            if isinstance(exc, LabError):
                raise RuntimeError("redis-server did not start") from None
            raise

    def stop(self) -> None:
        """Stop the server by PID."""
        if self.proc:
            processes.terminate(self.proc)
        self.proc = None

    def close(self) -> None:
        """Stop and remove the data directory."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_ready(rec: ProcessRecord) -> None:
    """Until the lab's Redis node answers PING; fails at once if it exited."""

    def ready() -> bool:
        if not alive(rec):
            raise LabError(f"redis-server exited:\n{processes.log_tail(rec.log)}")
        return ping(rec.port or 0)

    processes.wait_until(ready, 15, "redis-server to answer PING")
