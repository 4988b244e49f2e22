"""Clients of a running lab, through its load balancer: register, log in, count replicas."""

from __future__ import annotations

import uuid

import requests

PASSWORD = "correct-horse-battery-staple"

#: Seconds any single HTTP request may take in these tests (bounded, loopback only).
HTTP_TIMEOUT = 5


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
