"""Schemathesis (an outside tool) against a real gunicorn of every server and JWT mode, logged in:
no server error, no status, header or schema the contract does not document.

The run is bounded (a fixed seed, a few examples per operation) so it stays a test, not a soak.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from lab.processes import free_port
from tests.conftest import TEST_SECRET

REPO = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")

#: (id, app factory, extra environment) for every server configuration.
SERVERS = [
    ("session", "servers.session_server:create_app()", {"SESSION_STORE": "redis"}),
    ("jwt-stateless", "servers.jwt_server:create_app()", {"JWT_MODE": "stateless"}),
    ("jwt-denylist", "servers.jwt_server:create_app()", {"JWT_MODE": "denylist"}),
    ("jwt-refresh", "servers.jwt_server:create_app()", {"JWT_MODE": "refresh"}),
]

ADMIN = {"email": "admin@example.com", "password": "admin-password-123"}

#: Reproducible and bounded: the same cases every run, a few per operation.
RUN_OPTIONS = ["--seed", "20261201", "--max-examples", "10", "--workers", "1"]


@pytest.fixture(params=SERVERS, ids=[s[0] for s in SERVERS])
def served(request, redis_server, tmp_path) -> Iterator[tuple[str, str]]:
    """One gunicorn of this configuration on a free port: (base URL, credential cookie name)."""
    name, factory, extra = request.param
    port = free_port()
    env = {
        **os.environ,
        "SECRET_KEY": TEST_SECRET,
        "REDIS_URL": redis_server.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'users.db'}",
        "BCRYPT_ROUNDS": "4",
        "ADMIN_EMAIL": ADMIN["email"],
        "ADMIN_PASSWORD": ADMIN["password"],
        # Fuzzed logins fail by the hundred from one address: the per-IP budget must not end
        # the run's own logins (the per-email budget is the default one).
        "LOGIN_IP_RATE_LIMIT": "100000 per minute",
        "REPLICA_ID": f"{name}-st",
        **extra,
    }
    argv = [sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "4", "-b",
            f"127.0.0.1:{port}", "--log-level", "warning", factory]  # fmt: skip
    log = (tmp_path / "gunicorn.log").open("w")
    proc = subprocess.Popen(argv, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url, "sid" if name == "session" else "access_token"
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
    errors = (tmp_path / "gunicorn.log").read_text()
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


def test_schemathesis_finds_no_failure(served, tmp_path):
    url, cookie = served
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "SCHEMATHESIS_HOOKS": "tests.security.schemathesis_hooks",
        "AUTHLAB_ST_URL": url,
        "AUTHLAB_ST_EMAIL": ADMIN["email"],
        "AUTHLAB_ST_PASSWORD": ADMIN["password"],
        "AUTHLAB_ST_COOKIE": cookie,
    }
    argv = [str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", f"{url}/openapi.json",
            "--checks", "all", *RUN_OPTIONS, "--generation-database", "none", "--no-color",
            "--report", "har", "--report-har-path", str(tmp_path / "run.har")]  # fmt: skip
    result = subprocess.run(
        argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    (tmp_path / "schemathesis.txt").write_text(result.stdout + result.stderr)
    print(result.stdout[-4000:])
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-2000:]
    # And the run really was logged in: protected operations answered 200, not only 401.
    answered = ok_answers(tmp_path / "run.har")
    assert {("GET", "/auth/me"), ("GET", "/notes"), ("POST", "/notes")} <= answered


def ok_answers(har: Path) -> set[tuple[str, str]]:
    """(method, path) of every 2xx answer recorded in schemathesis's HAR report."""
    entries = json.loads(har.read_text())["log"]["entries"]
    return {
        (e["request"]["method"], urlsplit(e["request"]["url"]).path)
        for e in entries
        if 200 <= e["response"]["status"] < 300
    }
