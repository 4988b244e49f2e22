"""`python -m lab bench --profile`: where one /auth/me request spends its time, per server.

Each server is built in process on a private Redis, a user logs in, and the WSGI app answers
/auth/me N times under pyinstrument (a sampling profiler): the same code gunicorn runs, minus
the HTTP parsing that every contestant of `--http` pays alike.

    python -m lab bench --profile        # session server, stateless and denylist JWT

Each server is followed by its mechanism's limit (lab/bench/contestants/minimal_*.py), the
smallest app that does the same check, profiled the same way: what the server spends beyond it
is the server's own.
"""

from __future__ import annotations

import importlib
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..store.redis_server import RedisProcess
from .contestants import JWT_LIMIT, SESSION_LIMIT
from .wrk import USER_AGENT

#: (label, app module, settings, cookie) of the profiled apps. A module of lab.bench.contestants
#: is one of the mechanisms' limits, built from its own arguments rather than the servers'.
PROFILED = [
    ("session server", "servers.session_server", {}, "sid"),
    (SESSION_LIMIT, "lab.bench.contestants.minimal_session", {}, "sid"),
    ("jwt stateless", "servers.jwt_server", {"jwt_mode": "stateless"}, "access_token"),
    (JWT_LIMIT, "lab.bench.contestants.minimal_jwt", {}, "access_token"),
    ("jwt denylist", "servers.jwt_server", {"jwt_mode": "denylist"}, "access_token"),
]


def build(module: str, settings: dict[str, Any], cookie: str, redis_url: str, tmp: Path):
    """The app: a server on its lab settings, or a minimal app on the same Redis and secret."""
    factory = importlib.import_module(module).create_app
    secret = secrets.token_urlsafe(48)
    if module.endswith("minimal_session"):
        return factory(redis_url=redis_url)
    if module.endswith("minimal_jwt"):
        return factory(secret_key=secret)
    return factory(
        {
            "secret_keys": (secret,),
            "redis_url": redis_url,
            "database_url": f"sqlite:///{tmp / (cookie + module.rsplit('.', 1)[-1] + '.db')}",
            "bcrypt_rounds": 4,
            **settings,
        }
    )


def wsgi_caller(module: str, settings: dict[str, Any], cookie: str, redis_url: str, tmp: Path):
    """A function that runs one authenticated GET /auth/me through the app's WSGI callable."""
    from werkzeug.test import EnvironBuilder

    app = build(module, settings, cookie, redis_url, tmp)
    client = app.test_client()
    account = {"email": "bench@example.com", "password": "bench-password-1", "name": "Bench"}
    client.post("/auth/register", json=account)
    client.post("/auth/login", json=account, headers={"User-Agent": USER_AGENT})
    value = client.get_cookie(cookie).value
    environ = EnvironBuilder(
        "/auth/me", headers={"Cookie": f"{cookie}={value}", "User-Agent": USER_AGENT}
    ).get_environ()

    def start_response(status: str, headers: list) -> None:
        if not status.startswith("200"):
            raise RuntimeError(f"{module}: /auth/me answered {status}")

    def call() -> None:
        for _ in app.wsgi_app(dict(environ), start_response):
            pass

    return call


def profile(call: Callable[[], None], requests: int) -> tuple[float, str]:
    """CPU microseconds per request, and pyinstrument's text profile of the same calls."""
    from pyinstrument import Profiler

    for _ in range(200):
        call()
    started = time.process_time()
    for _ in range(requests):
        call()
    cpu_us = (time.process_time() - started) / requests * 1e6
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(requests):
        call()
    profiler.stop()
    text = profiler.output_text(color=False, unicode=False, show_all=False)
    return cpu_us, text


def run(requests: int, progress: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Profile each server's /auth/me on one private Redis."""
    redis_proc = RedisProcess()
    redis_proc.start()
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="authlab-profile-") as tmp:
            for label, module, settings, cookie in PROFILED:
                progress(f"bench --profile: {label} ({requests} requests)")
                call = wsgi_caller(module, settings, cookie, redis_proc.url, Path(tmp))
                cpu_us, text = profile(call, requests)
                results.append({"name": label, "cpu_us_per_request": cpu_us, "profile": text})
    finally:
        redis_proc.close()
    return results
