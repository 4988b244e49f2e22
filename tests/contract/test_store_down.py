"""Redis down: an authenticated request is served only if the mechanism needs no store;
otherwise it gets 503 with Retry-After. Never a 500, never let through on a guess."""

from tests.support.contract import assert_matches


def test_store_down_fails_closed_and_recovers(auth, redis_server, server):
    client = auth.user_client()
    redis_server.stop()
    try:
        response = client.get("/auth/me")
        assert response.status_code == (503 if server.promises.needs_store else 200)
        if server.promises.needs_store:
            assert assert_matches(response, "/auth/me", "get")["error"] == "store_unavailable"
            assert int(response.headers["Retry-After"]) >= 1
        health = client.get("/health")
        assert (health.status_code, health.get_json()["store"]) == (200, "down")
    finally:
        redis_server.start()
    # Redis is back but empty (nothing persisted): what lived only in Redis is gone, and the
    # server answers without a restart.
    assert client.get("/health").get_json()["store"] == "up"
    assert client.get("/auth/me").status_code in (200, 401)
