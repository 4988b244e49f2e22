"""A confirmed revocation is never undone: when Redis loses its data (restarted empty, flushed),
every replica, even one started afterwards, refuses the tokens it can no longer check.

Each test runs replicas (apps) on one private Redis, as the lab runs processes, and makes the
store lose its data for real: redis-server stopped and started again with nothing on disk, or
FLUSHALL. The naive denylist (JWT_REVOCATION_GUARD=off) is run too: the bug, reproduced.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask import Flask

from servers.core.epoch import EPOCH_KEY
from tests.support.feeds import replica_factory, wait_live
from tests.support.tokens import bearer

GUARDED = ["denylist", "push", "refresh"]


def restart_empty(redis_server) -> None:
    """`redis stop|start` without persistence: the store comes back with nothing."""
    redis_server.stop()
    redis_server.start()


def flush(redis_server) -> None:
    """FLUSHALL: the same loss, without a restart (no connection drops)."""
    redis_server.client().flushall()


LOSSES = {"restart-empty": restart_empty, "flushall": flush}


@pytest.fixture
def replicas(make_app):
    """Build replicas of any mode (own memory and feed each); push readers stop afterwards."""
    yield from replica_factory(lambda **kw: make_app(**kw), "r-1")


def started(make: Callable[..., Flask], mode: str, replica_id: str, **overrides) -> Flask:
    """A replica, serving (push mode: once its feed has read the stream)."""
    app = make(mode=mode, replica_id=replica_id, **overrides)
    if mode == "push":
        wait_live(app)
    return app


def answer_once_settled(app: Flask, token: str, code: str, timeout: float = 3.0):
    """The answer to the token, waiting (push mode) until the feed has read the store again."""
    deadline = time.monotonic() + timeout
    while True:
        response = bearer(app, token)
        body = response.get_json() or {}
        if body.get("error") == code or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def look_at_the_store(app: Flask) -> None:
    """What HAProxy does every second: GET /health (it reads the epoch marker)."""
    assert app.test_client().get("/health").status_code == 200


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("mode", GUARDED)
def test_a_token_from_before_the_loss_is_refused_everywhere(
    replicas, login, redis_server, mode, loss
):
    a, b = started(replicas, mode, "r-1"), started(replicas, mode, "r-2")
    client, body = login(a)
    stolen = body["access_token"]
    assert bearer(b, stolen).status_code == 200
    logout = client.post("/auth/logout").get_json()
    # Refresh mode never promises an access token dead before it expires; the others do.
    assert logout["revoked"] is (mode != "refresh")
    LOSSES[loss](redis_server)
    late = started(replicas, mode, "r-3")  # started after the loss, before anyone noticed
    for app in (late, a, b):
        if mode == "refresh":
            look_at_the_store(app)  # its requests never read Redis: it learns at /health
        refused = answer_once_settled(app, stolen, "revocation_state_lost")
        assert refused.status_code == 401, refused.get_json()
        assert refused.is_json
        error = refused.get_json()
        if mode == "push" and app is not late:
            # A push replica that ran through the loss still has the logout in memory.
            assert error["error"] in ("unauthorized", "revocation_state_lost")
            continue
        assert error["error"] == "revocation_state_lost"
        assert "lost its data" in error["message"] and "Log in again" in error["message"]
    # Logging in again is the way back: the new token names the new epoch.
    again, body = login(b)
    for app in (late, a, b):
        assert bearer(app, body["access_token"]).status_code == 200


@pytest.mark.parametrize("mode", GUARDED)
def test_a_live_token_is_refused_too_and_health_says_why(replicas, login, redis_server, mode):
    app = started(replicas, mode, "r-1")
    client, body = login(app)
    before = app.test_client().get("/health").get_json()["revocation_store"]
    assert before["guard"] == "on" and before["epoch"] and before["lost_at"] is None
    restart_empty(redis_server)
    look_at_the_store(app)
    after = app.test_client().get("/health").get_json()["revocation_store"]
    assert after["epoch"] != before["epoch"] and after["lost_at"] is not None
    # Not logged out, but issued before the loss: it cannot be checked, so it is refused.
    refused = bearer(app, body["access_token"])
    assert refused.get_json()["error"] == "revocation_state_lost"


def test_the_loss_is_logged(replicas, login, redis_server, caplog):
    app = started(replicas, "denylist", "r-1")
    _, body = login(app)
    flush(redis_server)
    with caplog.at_level("WARNING", logger="servers.core.epoch"):
        bearer(app, body["access_token"])
    assert any("lost its data" in r.getMessage() for r in caplog.records)


def test_a_refresh_token_from_before_the_loss_says_why(replicas, login, redis_server):
    app = started(replicas, "refresh", "r-1")
    client, _ = login(app)
    flush(redis_server)
    refused = client.post("/auth/refresh")
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "revocation_state_lost"


@pytest.mark.parametrize("mode", GUARDED)
def test_a_store_restarted_with_its_data_logs_nobody_out(replicas, login, redis_server, mode):
    a = started(replicas, mode, "r-1")
    client, body = login(a)
    epoch = redis_server.client().get(EPOCH_KEY)
    dump = redis_server.dir / "dump.rdb"
    try:
        redis_server.client().save()  # what persistence keeps: everything, the marker included
        redis_server.stop()
        redis_server.start()
        assert redis_server.client().get(EPOCH_KEY) == epoch
        late = started(replicas, mode, "r-2")
        for app in (a, late):
            look_at_the_store(app)
            assert bearer(app, body["access_token"]).status_code == 200
            assert (
                app.test_client().get("/health").get_json()["revocation_store"]["lost_at"] is None
            )
    finally:
        dump.unlink(missing_ok=True)  # later restarts must come back empty


@pytest.mark.parametrize("mode", ["denylist", "push"])
def test_the_naive_denylist_undoes_a_confirmed_revocation(replicas, login, redis_server, mode):
    """JWT_REVOCATION_GUARD=off reproduces the bug the guard fixes: the lesson is checked."""
    a = started(replicas, mode, "r-1", jwt_revocation_guard="off")
    client, body = login(a)
    stolen = body["access_token"]
    logout = client.post("/auth/logout").get_json()
    assert logout["revoked"] is True
    assert "JWT_REVOCATION_GUARD=off" in logout["message"]
    assert bearer(a, stolen).status_code == 401
    restart_empty(redis_server)
    late = started(replicas, mode, "r-2", jwt_revocation_guard="off")
    # Denylist: every replica accepts the logged-out copy again. Push: a replica started after.
    assert bearer(late, stolen).status_code == 200
    if mode == "denylist":
        assert bearer(a, stolen).status_code == 200
    health = late.test_client().get("/health").get_json()["revocation_store"]
    assert health["guard"] == "off"


def test_stateless_mode_promises_nothing_and_has_no_store_to_lose(replicas, login):
    app = started(replicas, "stateless", "r-1")
    client, _ = login(app)
    logout = client.post("/auth/logout").get_json()
    assert logout["revoked"] is False and logout["valid_until"]
    assert "revocation_store" not in app.test_client().get("/health").get_json()


def test_a_login_while_redis_is_down_names_the_last_epoch_seen(replicas, login, redis_server):
    """Logging in needs no Redis in denylist mode: the token names the last epoch this process
    saw, so a store that comes back empty refuses it, and one that comes back whole accepts it."""
    app = started(replicas, "denylist", "r-1")
    login(app)  # registers Ada while the store is up
    redis_server.stop()
    try:
        client, body = login(app)
    finally:
        redis_server.start()  # empty
    refused = bearer(app, body["access_token"])
    assert refused.get_json()["error"] == "revocation_state_lost"
