"""Push mode: revocation in every replica's memory, 0 round trips, and answers that never lie.

Each test runs two or three replicas (apps) on one private Redis, as the lab runs processes.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from redis.sentinel import SentinelConnectionPool

from servers.core.config import load_settings
from servers.core.push_feed import PushFeed
from servers.core.redis_client import SOCKET_TIMEOUT
from tests.support.feeds import replica_factory, wait_live
from tests.support.redis_stats import count_commands
from tests.support.settings import base_config
from tests.support.tokens import PASSWORD, authenticated_mix, bearer

N = 25


@pytest.fixture
def replicas(make_app):
    """Build push-mode replicas (own memory and feed each); their readers stop after the test."""
    yield from replica_factory(lambda **kw: make_app("push", **kw), "push-1")


def feed_of(app) -> PushFeed:
    """The replica's revocation feed."""
    return app.extensions["authlab_backend"].strategy.feed


def test_an_authenticated_request_costs_no_round_trip(replicas, login, redis_server):
    app = replicas(push_stale_after=60)
    client, body = login(app)
    wait_live(app)
    # Stop the reader so that only the requests' own commands could reach Redis.
    feed_of(app).close()
    responses = []

    def requests():
        responses.extend(authenticated_mix(app, client, body["access_token"], N))

    assert count_commands(redis_server.client(), requests) == {}
    assert all(r.status_code == 200 for r in responses)
    assert all(r.headers["Server-Timing"].endswith('desc="store=0"') for r in responses)


def test_with_the_reader_running_redis_sees_only_the_feed(replicas, login, redis_server):
    app = replicas()
    client, _ = login(app)
    wait_live(app)
    calls = count_commands(
        redis_server.client(), lambda: [client.get("/auth/me") for _ in range(N)]
    )
    # The reader's blocking XREAD and its acknowledgement, a few per second, never per request;
    # the store's epoch marker is read in the same round trip as each XREAD (core/epoch.py).
    assert set(calls) <= {"xread", "hset", "get"}
    assert calls.get("get", 0) <= calls.get("xread", 0)


@pytest.mark.parametrize("action", ["logout", "logout-all", "password", "admin"])
def test_revoked_true_means_every_replica_refuses_at_once(replicas, login, action):
    first, second = replicas("push-1"), replicas("push-2")
    wait_live(first), wait_live(second)
    victim, body = login(first)
    stolen = body["access_token"]
    assert bearer(second, stolen).status_code == 200
    if action == "logout":
        answer = victim.post("/auth/logout")
    elif action == "logout-all":
        answer = victim.post("/auth/logout-all")
    elif action == "password":
        answer = victim.post(
            "/auth/password",
            json={"current_password": PASSWORD, "new_password": PASSWORD + "-new"},
        )
    else:
        admin, _ = login(first, email="admin@example.com", password="admin-password-123")
        answer = admin.post(f"/admin/users/{body['user']['id']}/revoke")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["revoked"] is True
    # No sleep: "revoked" was said only after the other replica confirmed it.
    assert bearer(second, stolen).status_code == 401
    assert bearer(first, stolen).status_code == 401
    if action == "password":
        # The client that changed the password keeps working, with a token minted after the cut.
        assert bearer(second, answer.get_json()["access_token"]).status_code == 200


def test_a_replica_that_lost_its_feed_gets_an_honest_deadline(replicas, login):
    settings = {"push_stale_after": 3.0, "push_ack_wait": 0.2}
    first, lagging = replicas("push-1", **settings), replicas("push-2", **settings)
    wait_live(first), wait_live(lagging)
    victim, body = login(first)
    stolen = body["access_token"]
    # The second replica's subscription drops and does not come back.
    feed_of(lagging).close()
    answer = victim.post("/auth/logout").get_json()
    assert answer["revoked"] is False
    assert "had not confirmed" in answer["message"]
    deadline = datetime.fromisoformat(answer["valid_until"]).timestamp()
    assert deadline <= time.time() + 3.0
    time.sleep(max(0.0, deadline - time.time()) + 0.05)
    # Past the deadline the lagging replica no longer trusts its memory: it reads the stream
    # first (one round trip), learns of the logout, and refuses.
    refused = bearer(lagging, stolen)
    assert refused.status_code == 401
    assert refused.headers["Server-Timing"].endswith('desc="store=1"')


def test_past_the_bound_a_replica_without_redis_refuses(replicas, login, redis_server):
    app = replicas(push_stale_after=0.5)
    client, _ = login(app)
    wait_live(app)
    redis_server.stop()
    try:
        time.sleep(0.6)
        refused = client.get("/auth/me")
        assert refused.status_code == 503
        assert refused.get_json()["error"] == "store_unavailable"
        assert "revocation feed" in refused.get_json()["message"]
        feed = client.get("/health").get_json()["feed"]
        assert feed["state"] == "stale" and feed["age_s"] > 0.5
    finally:
        redis_server.start()
    # Redis is back, empty: the replica reads the feed again, sees that the store lost its
    # data (core/epoch.py), and refuses the token issued before; a new login is served.
    lost = client.get("/auth/me")
    assert lost.status_code == 401
    assert lost.get_json()["error"] == "revocation_state_lost"
    assert login(app)[0].get("/auth/me").status_code == 200


def test_a_revocation_redis_cannot_record_is_a_503_not_a_claim(replicas, login, redis_server):
    app = replicas()
    client, _ = login(app)
    wait_live(app)
    redis_server.stop()
    try:
        answer = client.post("/auth/logout")
        assert answer.status_code == 503
        assert "Nothing was revoked" in answer.get_json()["message"]
    finally:
        redis_server.start()


def test_a_killed_feed_connection_resumes_where_it_stopped(replicas, login, redis_server):
    first, second = replicas("push-1"), replicas("push-2")
    wait_live(first), wait_live(second)
    victim, body = login(first)
    killed = redis_server.client().client_kill_filter(_type="normal", skipme=True)
    assert killed >= 2  # at least the two readers' connections
    assert victim.post("/auth/logout").get_json()["revoked"] is True
    assert bearer(second, body["access_token"]).status_code == 401


def test_a_replica_started_later_warms_up_from_the_stream(replicas, login):
    first = replicas("push-1")
    victim, body = login(first)
    assert victim.post("/auth/logout").get_json()["revoked"] is True
    late = replicas("push-3")
    # Its very first request already knows the logout: it read the stream before answering.
    assert bearer(late, body["access_token"]).status_code == 401
    wait_live(late)
    feed = late.test_client().get("/health").get_json()["feed"]
    assert feed["revoked_tokens"] == 1
    assert feed["warmup"]["entries"] >= 1 or feed["catch_ups"] >= 1


def test_a_replica_silent_past_the_bound_is_not_waited_for_and_cannot_accept(replicas, login):
    settings = {"push_stale_after": 0.5, "push_ack_wait": 2.0}
    first, silent = replicas("push-1", **settings), replicas("push-2", **settings)
    wait_live(first), wait_live(silent)
    victim, body = login(first)
    feed_of(silent).close()
    time.sleep(0.6)  # the silent replica no longer trusts its memory
    started = time.monotonic()
    answer = victim.post("/auth/logout").get_json()
    # Not waited for, so revoked: true; yet only once no read begun earlier can be trusted.
    assert answer["revoked"] is True
    assert time.monotonic() - started >= feed_of(first).max_read
    refused = bearer(silent, body["access_token"])
    assert refused.status_code == 401
    assert refused.headers["Server-Timing"].endswith('desc="store=1"')


def test_the_feed_finds_the_primary_through_sentinel():
    """With REDIS_SENTINELS the feed's two connections ask the sentinels where the primary is
    (at every reconnect), like every other client of the servers: straight to REDIS_URL, a
    failover left the feed on a node that had become a replica, and the replica answered 503
    to every request until that node was primary again (`lab chaos`, push on Sentinel)."""
    config = base_config("redis://127.0.0.1:1/0", "sqlite://", redis_sentinels=("127.0.0.1:2",))
    settings = load_settings({}, config)  # nothing listens there: nothing is dialled here
    feed = PushFeed(settings.redis_url, "feed", lambda *_: None, stale_after=1, ack_wait=0.1,
                    horizon=60, settings=settings)  # fmt: skip
    for client in (feed.client, feed.reader_client()):
        pool = client.connection_pool
        assert isinstance(pool, SentinelConnectionPool) and pool.service_name == "authlab"
    reader = feed.reader_client().connection_pool.connection_kwargs
    assert reader["socket_timeout"] == feed.block + SOCKET_TIMEOUT  # outlasts its XREAD block
