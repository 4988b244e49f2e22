"""A real gunicorn of one server configuration, for the suites that test over the wire."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.support.redis_proc import free_port
from tests.support.settings import TEST_SECRET

REPO = Path(__file__).resolve().parents[2]

#: (id, app factory, extra environment) for every server configuration.
SERVERS = [
    ("session", "servers.session_server:create_app()", {"SESSION_STORE": "redis"}),
    ("jwt-stateless", "servers.jwt_server:create_app()", {"JWT_MODE": "stateless"}),
    ("jwt-denylist", "servers.jwt_server:create_app()", {"JWT_MODE": "denylist"}),
    ("jwt-refresh", "servers.jwt_server:create_app()", {"JWT_MODE": "refresh"}),
]

ADMIN = {"email": "admin@example.com", "password": "admin-password-123"}


def cookie_name(server: str) -> str:
    """The credential cookie of a server configuration."""
    return "sid" if server == "session" else "access_token"


@contextmanager
def gunicorn(server: str, redis_url: str, workdir: Path) -> Iterator[str]:
    """Serve one configuration on a free 127.0.0.1 port; yields its base URL. Fails the test if
    the server logged a traceback."""
    factory, extra = next((f, e) for name, f, e in SERVERS if name == server)
    port = free_port()
    env = {
        **os.environ,
        "SECRET_KEY": TEST_SECRET,
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{workdir / 'users.db'}",
        "BCRYPT_ROUNDS": "4",
        "ADMIN_EMAIL": ADMIN["email"],
        "ADMIN_PASSWORD": ADMIN["password"],
        # Fuzzed logins fail by the hundred from one address: the per-IP budget must not end
        # the tests' own logins (the per-email budget stays the default one).
        "LOGIN_IP_RATE_LIMIT": "100000 per minute",
        "REPLICA_ID": f"{server}-1",
        **extra,
    }
    argv = [sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "4", "-b",
            f"127.0.0.1:{port}", "--log-level", "warning", factory]  # fmt: skip
    log_path = workdir / f"gunicorn-{server}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, proc)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    errors = log_path.read_text()
    assert "Traceback" not in errors, errors[-3000:]


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    """Until /health answers, or fail if gunicorn died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "gunicorn exited"
        try:
            if requests.get(url + "/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} never became healthy")
