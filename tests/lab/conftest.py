"""Fixtures for the lab tests: one real lab (Redis, 3 + 3 gunicorn replicas, HAProxy) per run.

Starting a lab costs seconds, so the whole run shares one, in a private state directory (never
the user's `.lab/`). Each test asks for the configuration it needs through `lab_as`; `up` only
restarts what differs, and restarts anything an earlier test left stopped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from lab import Lab

#: What every lab test starts from unless it says otherwise.
BASELINE: dict[str, Any] = {
    "replicas": 3,
    "lb_policy": "roundrobin",
    "session_store": "redis",
    "jwt_mode": "stateless",
    "algorithm": "HS256",
    # A test that raises these (a busy replica's bcrypt cost, its threads) must not leave them.
    "bcrypt_rounds": 4,
    "threads": 4,
}

PASSWORD = "correct-horse-battery-staple"

#: Seconds any single HTTP request may take in these tests (bounded, loopback only).
HTTP_TIMEOUT = 5


@pytest.fixture(scope="session")
def shared_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The run's lab, stopped (and checked to leave nothing listening) at the end."""
    lab = Lab(**BASELINE, state_dir=tmp_path_factory.mktemp("lab"), timeout=60)
    with lab:
        yield lab


@pytest.fixture
def lab_as(shared_lab: Lab) -> Callable[..., Lab]:
    """Reconfigure the shared lab: the baseline plus what the test asks for."""

    def configure(**changes: Any) -> Lab:
        shared_lab.reconfigure(**{**BASELINE, **changes})
        return shared_lab

    return configure


@pytest.fixture
def lab(lab_as: Callable[..., Lab]) -> Lab:
    """The shared lab in its baseline configuration, every process running."""
    return lab_as()


def new_user(base_url: str) -> dict[str, str]:
    """Register a fresh user through the load balancer; returns its credentials."""
    email = f"lab-{uuid.uuid4().hex[:12]}@example.com"
    response = requests.post(
        f"{base_url}/auth/register",
        json={"email": email, "password": PASSWORD, "name": "Lab Test"},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 201, response.text
    return {"email": email, "password": PASSWORD}


def logged_in(base_url: str, user: dict[str, str] | None = None) -> requests.Session:
    """A keep-alive client logged in through the load balancer (a cookie, as a browser holds)."""
    user = user or new_user(base_url)
    client = requests.Session()
    response = client.post(f"{base_url}/auth/login", json=user, timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    client.login_replica = response.headers["X-Replica"]  # type: ignore[attr-defined]
    return client


def hits(client: requests.Session, url: str, n: int) -> list[tuple[int, str]]:
    """`n` consecutive GETs on one client: (status, X-Replica) for each."""
    results = []
    for _ in range(n):
        response = client.get(url, timeout=HTTP_TIMEOUT)
        results.append((response.status_code, response.headers.get("X-Replica", "")))
    return results
