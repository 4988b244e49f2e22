"""A login storm must not make HAProxy pull a busy replica: one thread always answers /health.

The replica runs 2 threads and may hash in 1 (PASSWORD_HASH_SLOTS = threads - 1, set by the lab).
Two clients register without pause for a few seconds at a bcrypt cost that keeps a thread busy
for about a second: without the limit both threads would hash, HAProxy's checks (every second,
2 s timeout, down after 2 failures) would time out and mark the replica DOWN.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import requests

from lab.engine import haproxy
from lab.loadtest.watch import backend_stats

pytestmark = pytest.mark.lab

#: Seconds the two clients keep the replica hashing (longer than HAProxy needs to mark it DOWN).
STORM_SECONDS = 6


def register_until(url: str, deadline: float, answers: list[requests.Response]) -> None:
    """Register fresh users until `deadline`, keeping every answer."""
    while time.monotonic() < deadline:
        email = f"storm-{uuid.uuid4().hex[:12]}@example.com"
        body = {"email": email, "password": "correct-horse-1", "name": "Storm"}
        answers.append(requests.post(f"{url}/auth/register", json=body, timeout=30))
        if answers[-1].status_code == 503:
            time.sleep(0.05)  # a polite client waits (the server said Retry-After: 1)


def test_a_replica_busy_hashing_stays_in_rotation(lab_as):
    lab = lab_as(replicas=1, threads=2, bcrypt_rounds=14)
    (replica,) = lab.replicas("jwt")
    before = backend_stats(lab, "jwt")["s1"]
    answers: list[requests.Response] = []
    deadline = time.monotonic() + STORM_SECONDS
    storm = [
        threading.Thread(target=register_until, args=(replica.url, deadline, answers))
        for _ in range(2)
    ]
    for thread in storm:
        thread.start()
    health, statuses = [], set()
    while any(thread.is_alive() for thread in storm):
        health.append(requests.get(f"{replica.url}/health", timeout=5).status_code)
        statuses.add(haproxy.server_status(lab.admin_socket)[("jwt", "s1")])
        time.sleep(0.3)
    for thread in storm:
        thread.join()
    after = backend_stats(lab, "jwt")["s1"]

    created = [a for a in answers if a.status_code == 201]
    busy = [a for a in answers if a.status_code == 503]
    assert created, "the replica kept registering users"
    assert busy, "a second registration while one hashed was told to come back"
    assert all(a.json()["error"] == "hashing_busy" and a.headers["Retry-After"] for a in busy)
    assert {a.status_code for a in answers} <= {201, 503}
    assert health and set(health) == {200}
    assert statuses == {"UP"}, "HAProxy kept the replica in rotation"
    assert after["chkdown"] == before["chkdown"]
