"""One contestant of `python -m lab bench --http` brought up, logged in to and stopped: its own
redis-server, the same gunicorn as everyone, a fresh credential checked once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import requests

from loadtests.bound import BoundSession

from ...engine import processes
from ...store.redis_server import RedisProcess
from ..wrk import USER_AGENT, BenchError, WrkRun, wrk
from . import Contestant


@dataclass
class Running:
    """A started contestant: its gunicorn, its Redis, the credential to send."""

    contestant: Contestant
    port: int
    pid: int
    log: Path
    redis: RedisProcess
    started: float | None = None  # psutil's create time: with the pid, the process's identity
    cookie_header: str | None = None
    runs: list[WrkRun] = field(default_factory=list)


def gunicorn_argv(factory: str, port: int, workers: int, threads: int) -> list[str]:
    """The same gunicorn for everyone: gthread workers on loopback, keep-alive for wrk."""
    import sys

    return [
        sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(workers),
        "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--keep-alive", "30",
        "--log-level", "warning", factory,
    ]  # fmt: skip


def environment(contestant: Contestant, redis_url: str, workdir: Path) -> dict[str, str]:
    """Settings for one contestant: the lab's defaults, a fresh secret, its own Redis and SQL."""
    import secrets

    env = processes.base_env()
    env.update(
        SECRET_KEY=secrets.token_urlsafe(48),
        REDIS_URL=redis_url,
        DATABASE_URL=f"sqlite:///{workdir / (contestant.name.split()[0] + '-users.db')}",
        # Login is not measured: the cheapest bcrypt cost keeps setting up quick.
        BCRYPT_ROUNDS="4",
        REPLICA_ID=contestant.name.replace(" ", "-"),
        PYTHONUNBUFFERED="1",
        **contestant.env,
    )
    return env


def start(contestant: Contestant, workdir: Path, workers: int, threads: int) -> Running:
    """Its own redis-server, then its gunicorn; waits until it answers."""
    redis_proc = RedisProcess()
    redis_proc.start()
    try:
        port = processes.free_port()
        log = workdir / f"{contestant.name.split()[0]}-{port}.log"
        pid = processes.spawn(
            gunicorn_argv(contestant.factory, port, workers, threads),
            env=environment(contestant, redis_proc.url, workdir),
            log=log,
        )
    except BaseException:
        redis_proc.close()  # interrupted before the caller knows of it: stopped here
        raise
    running = Running(contestant, port, pid, log, redis_proc, processes.create_time(pid))
    try:
        processes.wait_until(lambda: processes.is_listening(port), 30, f"{contestant.name}")
    except BaseException as exc:
        stop(running)  # not answering, or interrupted while waiting
        if isinstance(exc, processes.LabError):
            tail = processes.log_tail(log)
            raise BenchError(f"{contestant.name} did not start:\n{tail}") from exc
        raise
    return running


def stop(running: Running) -> None:
    """Stop its gunicorn (by pid, the whole group) and its Redis."""
    processes.stop([(running.pid, running.started)])
    running.redis.close()


def log_in(running: Running) -> str | None:
    """A fresh credential as a Cookie header value, checked once with GET /auth/me."""
    contestant = running.contestant
    if contestant.cookie is None:
        return None
    base = f"http://127.0.0.1:{running.port}"
    account = {"email": "bench@example.com", "password": "bench-password-1", "name": "Bench"}
    # A bound contestant's client answers the login's registration offer with its own key.
    with BoundSession() if contestant.bound else requests.Session() as http:
        http.headers["User-Agent"] = USER_AGENT
        if contestant.registers:
            http.post(f"{base}/auth/register", json=account, timeout=10)
        answer = http.post(f"{base}/auth/login", json=account, timeout=10)
        value = http.cookies.get(contestant.cookie)
        if answer.status_code != 200 or value is None:
            raise BenchError(f"{contestant.name}: login failed ({answer.status_code})")
    header = f"{contestant.cookie}={value}"
    check = requests.get(
        f"{base}/auth/me", headers={"Cookie": header, "User-Agent": USER_AGENT}, timeout=10
    )
    if check.status_code != 200:
        raise BenchError(f"{contestant.name}: its own credential was refused ({check.text})")
    return header


def load(running: Running, duration: float) -> WrkRun:
    """wrk on this contestant's /auth/me, its gunicorn and Redis counted as its own CPU."""
    ours = [running.pid, running.redis.proc.pid if running.redis.proc else 0]
    return wrk(running.contestant.name, running.port, running.cookie_header, ours, duration)
