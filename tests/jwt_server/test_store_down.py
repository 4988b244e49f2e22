"""Redis down: stateless keeps working; denylist fails closed with 503; refresh mode serves
access tokens (they never needed Redis) and answers 503 where it needs the store."""

from tests.support.tokens import PASSWORD, sign_hs256, valid_claims


def assert_unavailable(response) -> None:
    """503, the JSON error, and Retry-After."""
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.get_json()["error"] == "store_unavailable"
    assert int(response.headers["Retry-After"]) >= 1


def relogin(client):
    """POST /auth/login for Ada."""
    return client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})


def change_password_with_store_down(client, redis_server):
    """POST a password change while the private Redis is stopped; Redis comes back after."""
    redis_server.stop()
    try:
        return client.post(
            "/auth/password",
            json={"current_password": PASSWORD, "new_password": "battery-staple-2"},
        )
    finally:
        redis_server.start()


def test_stateless_does_not_notice(make_app, login, redis_server):
    app = make_app("stateless")
    client, _ = login(app)
    redis_server.stop()
    try:
        assert client.get("/auth/me").status_code == 200
        assert client.get("/health").get_json()["store"] == "down"
        assert relogin(client).status_code == 200  # rate limits fall back to memory
        assert client.post("/auth/logout").get_json()["revoked"] is False
    finally:
        redis_server.start()


def test_denylist_fails_closed_and_recovers(make_app, login, redis_server):
    app = make_app("denylist")
    client, _ = login(app)
    redis_server.stop()
    try:
        assert_unavailable(client.get("/auth/me"))
        assert_unavailable(client.post("/auth/logout"))
        # A forged token is refused on its signature, before Redis is asked: 401, not 503.
        forged = app.test_client().get(
            "/auth/me",
            headers={"Authorization": "Bearer " + sign_hs256(valid_claims(), "x" * 40)},
        )
        assert forged.status_code == 401
    finally:
        redis_server.start()
    # Redis came back empty: the token from before cannot be checked against the denylist it
    # lost, so it is refused (test_store_loss.py); a new login works, no restart needed.
    assert client.get("/auth/me").get_json()["error"] == "revocation_state_lost"
    assert login(app)[0].get("/auth/me").status_code == 200


def test_refresh_mode_serves_access_tokens_and_503s_the_rest(make_app, login, redis_server):
    app = make_app("refresh")
    client, _ = login(app)
    redis_server.stop()
    try:
        assert client.get("/auth/me").status_code == 200  # checked without Redis, by design
        assert_unavailable(client.post("/auth/refresh"))
        assert_unavailable(client.get("/auth/sessions"))
        assert_unavailable(client.post("/auth/logout"))
        assert_unavailable(relogin(app.test_client()))
    finally:
        redis_server.start()
    # Redis came back empty (nothing persisted): the family is gone, the access token is not.
    assert client.get("/auth/me").status_code == 200
    assert client.post("/auth/refresh").status_code == 401


def test_refresh_mode_password_change_with_redis_down_changes_nothing(
    make_app, login, redis_server
):
    """The access token proves the caller without Redis, so the view gets as far as revoking:
    that fails first, and the password is left as it was (issue 11, class 6)."""
    app = make_app("refresh")
    client, _ = login(app)
    response = change_password_with_store_down(client, redis_server)
    assert_unavailable(response)
    assert "password was NOT changed" in response.get_json()["message"]
    assert response.headers.getlist("Set-Cookie") == []
    assert relogin(app.test_client()).status_code == 200  # the old password still works


def test_stateless_password_change_needs_no_store(make_app, login, redis_server):
    """Nothing to revoke, so nothing to wait for: the password changes, and the answer says
    that no token was revoked."""
    app = make_app("stateless")
    client, _ = login(app)
    response = change_password_with_store_down(client, redis_server)
    body = response.get_json()
    assert (response.status_code, body["password_changed"], body["revoked"]) == (200, True, False)
