"""The cached session store: a hit costs no round trip, and a logout is honest on every replica.

Replicas are apps sharing one private Redis; each keeps its own cache and feed reader.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from servers.core.push_feed import PushFeed
from tests.support.contract import copy_credential
from tests.support.feeds import replica_factory, wait_live
from tests.support.redis_stats import count_commands

N = 25


@pytest.fixture
def replicas(make_app):
    """Build cached-store replicas; their feed readers stop after the test."""
    yield from replica_factory(lambda **kw: make_app(session_store="cached", **kw), "cache-1")


def feed_of(app) -> PushFeed:
    """The replica's invalidation feed."""
    return app.extensions["authlab_backend"].store.feed


def thief_on(app, victim):
    """A client of `app` holding a copy of the victim's cookie."""
    thief = app.test_client()
    copy_credential(victim, thief)
    return thief


def test_a_cache_hit_costs_no_round_trip(replicas, login, redis_server):
    app = replicas(push_stale_after=60)
    client = login(app)
    wait_live(app)
    first = client.get("/auth/me")  # a miss: read from Redis, then cached
    assert first.headers["Server-Timing"].endswith('desc="store=1"')
    feed_of(app).close()  # only the requests' own commands could reach Redis now
    responses = []
    calls = count_commands(
        redis_server.client(), lambda: responses.extend(client.get("/auth/me") for _ in range(N))
    )
    assert calls == {}
    assert all(r.status_code == 200 for r in responses)
    assert all(r.headers["Server-Timing"].endswith('desc="store=0"') for r in responses)


@pytest.mark.parametrize("action", ["logout", "logout-all"])
def test_revoked_true_means_no_replica_serves_its_cached_copy(replicas, login, action):
    first, second = replicas("cache-1"), replicas("cache-2")
    wait_live(first), wait_live(second)
    victim = login(first)
    thief = thief_on(second, victim)
    assert thief.get("/auth/me").status_code == 200
    assert thief.get("/auth/me").headers["Server-Timing"].endswith('desc="store=0"')  # cached
    answer = victim.post("/auth/logout" if action == "logout" else "/auth/logout-all")
    assert answer.get_json()["revoked"] is True
    assert thief.get("/auth/me").status_code == 401  # no sleep: the second replica confirmed


def test_a_replica_that_lost_its_feed_gets_an_honest_deadline(replicas, login):
    settings = {"push_stale_after": 3.0, "push_ack_wait": 0.2}
    first, lagging = replicas("cache-1", **settings), replicas("cache-2", **settings)
    wait_live(first), wait_live(lagging)
    victim = login(first)
    thief = thief_on(lagging, victim)
    assert thief.get("/auth/me").status_code == 200  # now cached on the lagging replica
    feed_of(lagging).close()
    answer = victim.post("/auth/logout").get_json()
    assert answer["revoked"] is False
    deadline = datetime.fromisoformat(answer["valid_until"]).timestamp()
    time.sleep(max(0.0, deadline - time.time()) + 0.05)
    # Past the bound the lagging replica drops its cache and asks Redis: the session is gone
    # (one round trip), and, a miss, it reads the epoch marker to say whether it was lost (two).
    refused = thief.get("/auth/me")
    assert refused.status_code == 401
    assert refused.headers["Server-Timing"].endswith('desc="store=2"')


def test_past_the_bound_without_redis_the_cache_is_not_trusted(replicas, login, redis_server):
    app = replicas(push_stale_after=0.5)
    client = login(app)
    wait_live(app)
    assert client.get("/auth/me").status_code == 200  # cached
    redis_server.stop()
    try:
        time.sleep(0.6)
        assert client.get("/auth/me").status_code == 503
        feed = client.get("/health").get_json()["feed"]
        assert feed["state"] == "stale" and feed["cached_sessions"] == 0
    finally:
        redis_server.start()


def test_a_cached_session_still_slides_its_idle_timeout_in_redis(replicas, login):
    app = replicas(session_idle_timeout=2)  # goes back to Redis every 0.2 s
    client = login(app)
    wait_live(app)
    trips = []
    for _ in range(8):
        trips.append(client.get("/auth/me").headers["Server-Timing"][-2])
        time.sleep(0.1)
    # 1: a GET; 2: a GET and the renewal of the TTL, once per step of the idle timeout.
    assert set(trips[1:]) & {"1", "2"}, "a cached session never went back to Redis"
