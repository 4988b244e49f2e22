"""Faults on demand: a replica killed, Redis stopped or paused, a replica taken out of HAProxy."""

from __future__ import annotations

import time

import pytest
import requests

from lab.engine.processes import wait_until
from tests.support.lab_clients import HTTP_TIMEOUT, PASSWORD, hits, logged_in, new_user

pytestmark = pytest.mark.lab


def lb_status(lab, server: str, index: int) -> str | None:
    """HAProxy's view of one replica: UP, DOWN, MAINT..."""
    return lab.status()["replicas"][server][index - 1]["lb"]


def test_killed_replica_is_routed_around_and_rejoins(lab):
    client = logged_in(lab.session_url)
    lab.kill_replica("session", 2)
    assert not lab.replicas("session")[1].running
    # Keep asking while HAProxy's checks notice (fall 2 x inter 1s): a refused connection is
    # redispatched to another replica, and with Redis no replica loses the session.
    results = []
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        results += hits(client, lab.session_url + "/auth/me", 1)
    assert {status for status, _ in results} == {200}
    assert "session-2" not in {replica for _, replica in results}
    assert lb_status(lab, "session", 2).startswith("DOWN")

    lab.start_replica("session", 2)  # returns once HAProxy sees it up again
    assert lb_status(lab, "session", 2) == "UP"
    results = hits(client, lab.session_url + "/auth/me", 9)
    assert {status for status, _ in results} == {200}
    assert {replica for _, replica in results} == {"session-1", "session-2", "session-3"}


def test_redis_stopped_session_server_503_jwt_keeps_serving(lab):
    session_client = logged_in(lab.session_url)
    jwt_client = logged_in(lab.jwt_url)
    user = new_user(lab.session_url)
    lab.redis_stop()
    try:
        # The session server cannot check a session: 503 with Retry-After, never a 500 or a 200.
        for status, _ in hits(session_client, lab.session_url + "/auth/me", 3):
            assert status == 503
        response = session_client.get(lab.session_url + "/auth/me", timeout=HTTP_TIMEOUT)
        assert response.headers.get("Retry-After")
        assert response.json()["error"]
        # Login on the session server: the password checks out, but there is nowhere to keep
        # the session, so it answers 503 too (documented in the README, "The lab").
        login = requests.post(lab.session_url + "/auth/login", json=user, timeout=HTTP_TIMEOUT)
        assert login.status_code == 503
        # Stateless JWT needs no store to verify a token: every replica keeps serving.
        results = hits(jwt_client, lab.jwt_url + "/auth/me", 6)
        assert {status for status, _ in results} == {200}
        assert len({replica for _, replica in results}) == 3
        # And it can still log users in (failed-login counters fall back to each replica).
        login = requests.post(lab.jwt_url + "/auth/login", json=user, timeout=HTTP_TIMEOUT)
        assert login.status_code == 200
        stores = {row["store"] for row in lab.status()["replicas"]["session"]}
        assert stores == {"down"}
    finally:
        lab.redis_start()

    # Recovery by itself: no restart of any replica. Without persistence the old sessions are
    # gone (401, log in again), and new ones work.
    def store_is_back() -> bool:
        response = session_client.get(lab.session_url + "/auth/me", timeout=HTTP_TIMEOUT)
        return response.status_code != 503

    wait_until(store_is_back, 10, "the session server to notice Redis is back")
    assert {status for status, _ in hits(session_client, lab.session_url + "/auth/me", 3)} == {401}
    fresh = logged_in(lab.session_url, {"email": user["email"], "password": PASSWORD})
    assert {status for status, _ in hits(fresh, lab.session_url + "/auth/me", 3)} == {200}


def test_redis_pause_adds_latency(lab):
    client = logged_in(lab.session_url)
    # Below the servers' Redis timeout (0.5 s) a pause is latency; above it, 503s.
    lab.redis_pause(0.3)
    started = time.monotonic()
    response = client.get(lab.session_url + "/auth/me", timeout=HTTP_TIMEOUT)
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed >= 0.2


def test_lb_disable_takes_a_replica_out_without_reload(lab):
    pid = lab.status()["haproxy"]["pid"]
    client = requests.Session()
    lab.lb_disable("jwt", 1)
    try:
        assert lb_status(lab, "jwt", 1) == "MAINT"
        seen = {replica for _, replica in hits(client, lab.jwt_url + "/health", 6)}
        assert seen == {"jwt-2", "jwt-3"}
    finally:
        lab.lb_enable("jwt", 1)
    seen = {replica for _, replica in hits(client, lab.jwt_url + "/health", 6)}
    assert seen == {"jwt-1", "jwt-2", "jwt-3"}
    assert lab.status()["haproxy"]["pid"] == pid  # the same HAProxy process: no reload
