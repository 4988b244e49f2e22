"""Redis down: 503 with Retry-After, never a 500, never let through; recovery on its own."""

import contextlib

import redis


def test_redis_down_gives_503_and_recovers(make_app, login, redis_server):
    app = make_app()
    client = login(app)
    redis_server.stop()
    try:
        for path in ("/auth/me", "/notes", "/auth/sessions"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert response.get_json()["error"] == "store_unavailable"
            assert response.headers["Retry-After"] == "1"
        login_attempt = app.test_client().post(
            "/auth/login", json={"email": "ada@example.com", "password": "correct-horse-1"}
        )
        assert login_attempt.status_code == 503  # no store, no session: fail closed
    finally:
        redis_server.start()
    # Same process, no restart: it reconnects by itself. The empty Redis lost the session.
    assert client.get("/auth/me").status_code == 401
    fresh = login(app)
    assert fresh.get("/auth/me").status_code == 200


def test_redis_paused_longer_than_the_timeout_is_503_not_a_hang(make_app, login, redis_server):
    client = login(make_app())
    r = redis_server.client()
    r.execute_command("CLIENT", "PAUSE", 1500, "ALL")
    try:
        assert client.get("/auth/me").status_code == 503
    finally:
        with contextlib.suppress(redis.RedisError):
            r.execute_command("CLIENT", "UNPAUSE")
    assert client.get("/auth/me").status_code == 200
