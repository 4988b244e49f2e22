"""Sessions die with their store: after Redis loses its data (restarted empty, flushed) no
replica serves a session from before, not even from the cached store's memory, and /health
says when the store lost them.
"""

from __future__ import annotations

import time

import pytest

from tests.support.contract import copy_credential
from tests.support.feeds import replica_factory, wait_live


@pytest.fixture
def replicas(make_app):
    """Build cached-store replicas; their feed readers stop after the test."""
    yield from replica_factory(lambda **kw: make_app(session_store="cached", **kw), "cache-1")


def restart_empty(redis_server) -> None:
    """`redis stop|start` without persistence: the store comes back with nothing."""
    redis_server.stop()
    redis_server.start()


def status_once_settled(client, wanted: int, timeout: float = 3.0) -> int:
    """GET /auth/me until it answers `wanted` (the feed notices within one read) or time is up."""
    deadline = time.monotonic() + timeout
    while (status := client.get("/auth/me").status_code) != wanted:
        if time.monotonic() > deadline:
            return status
        time.sleep(0.05)
    return status


@pytest.mark.parametrize("logged_out", [False, True])
def test_no_cached_copy_outlives_the_store(replicas, login, redis_server, logged_out):
    first, second = replicas("cache-1"), replicas("cache-2")
    wait_live(first), wait_live(second)
    victim = login(first)
    thief = second.test_client()
    copy_credential(victim, thief)
    assert thief.get("/auth/me").status_code == 200  # now in the second replica's memory
    if logged_out:
        assert victim.post("/auth/logout").get_json()["revoked"] is True
    restart_empty(redis_server)
    # The second replica's feed reads the epoch marker, finds it gone, and empties its cache.
    assert status_once_settled(thief, 401) == 401
    assert status_once_settled(victim, 401) == 401
    health = second.test_client().get("/health").get_json()["revocation_store"]
    assert health["lost_at"] is not None


def test_the_redis_store_reports_the_loss_on_health(make_app, login, redis_server):
    app = make_app(session_store="redis")
    client = login(app)
    before = app.test_client().get("/health").get_json()["revocation_store"]
    redis_server.client().flushall()
    assert client.get("/auth/me").status_code == 401  # the session died with the store
    after = app.test_client().get("/health").get_json()["revocation_store"]
    assert after["epoch"] != before["epoch"] and after["lost_at"] is not None


def test_the_memory_store_has_no_store_to_lose(make_app):
    health = make_app(session_store="memory").test_client().get("/health").get_json()
    assert "revocation_store" not in health


def test_a_session_lost_with_the_store_is_refused_with_the_reason(make_app, login, redis_server):
    """Once the replica has seen the loss, "no such session" names it: the client reads why."""
    app = make_app(session_store="redis")
    client = login(app)
    ordinary = login(app)
    assert ordinary.post("/auth/logout").get_json()["revoked"] is True
    assert ordinary.get("/auth/me").get_json()["error"] == "unauthorized"  # no loss seen yet
    redis_server.client().flushall()
    assert app.test_client().get("/health").get_json()["revocation_store"]["lost_at"]
    refused = client.get("/auth/me")
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "revocation_state_lost"
    assert "lost with the session store's data" in refused.get_json()["message"]


@pytest.mark.parametrize("store", ["redis", "cached"])
def test_the_first_refusal_after_a_flush_already_names_the_loss(
    make_app, replicas, login, redis_server, store
):
    """Nothing read the marker between the flush and the request (no /health, no login): the
    miss reads it, and the first user refused is told why (the chaos checker's dishonest
    refusals of seeds 201-202 on sessions: the bare "ended" right after a flush)."""
    app = replicas("cache-1") if store == "cached" else make_app(session_store="redis")
    if store == "cached":
        wait_live(app)  # its feed reader stops after the test (the fixture)
    client = login(app)
    redis_server.client().flushall()
    refused = client.get("/auth/me")
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "revocation_state_lost"


@pytest.mark.parametrize("store", ["redis", "cached"])
def test_a_replica_started_after_the_loss_still_names_it(
    make_app, replicas, login, redis_server, store
):
    """The cookie names the store epoch its session began under, so a replica that never saw
    the loss (started after it: `lab chaos` seed 202, a replica restart after a flush) tells a
    session the store lost from one that ended, and the other way round."""
    before = login(make_app(session_store="redis"))
    redis_server.client().flushall()
    started_after = replicas("cache-2") if store == "cached" else make_app(session_store=store)
    if store == "cached":
        wait_live(started_after)
    thief = started_after.test_client()
    copy_credential(before, thief)
    refused = thief.get("/auth/me")
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "revocation_state_lost"
    # A session of the new epoch that ended is just that, even where the loss was seen.
    after = login(started_after)
    copy = started_after.test_client()
    copy_credential(after, copy)
    assert after.post("/auth/logout").get_json()["revoked"] is True
    ended = copy.get("/auth/me").get_json()
    assert ended["error"] == "unauthorized" and "has ended" in ended["message"]
