"""Login: a fresh credential in an HttpOnly, SameSite cookie; failures say nothing about emails."""

import bcrypt
import pytest

from tests.support.contract import assert_matches, copy_credential


def test_login_sets_an_httponly_samesite_cookie(client, auth):
    auth.register()
    response = client.post(
        "/auth/login", json={"email": "ada@example.com", "password": "correct-horse-1"}
    )
    assert response.status_code == 200
    assert assert_matches(response, "/auth/login", "post")["user"]["email"] == "ada@example.com"
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies
    for cookie in cookies:
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
    assert client.get("/auth/me").status_code == 200


def test_me_requires_a_credential(client):
    response = client.get("/auth/me")
    assert response.status_code == 401
    assert assert_matches(response, "/auth/me", "get")["error"] == "unauthorized"


@pytest.mark.parametrize(
    ("email", "password"),
    [("ada@example.com", "wrong-password"), ("nobody@example.com", "correct-horse-1")],
)
def test_login_failure_is_the_same_for_unknown_emails(client, auth, email, password):
    auth.register()
    response = client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 401
    assert assert_matches(response, "/auth/login", "post") == {
        "error": "invalid_credentials",
        "message": "The email or the password is wrong.",
    }
    assert "Set-Cookie" not in response.headers


def test_login_with_unknown_email_still_runs_bcrypt(client, auth, monkeypatch):
    """Timing hides which emails exist only if both paths pay for one bcrypt check."""
    auth.register()
    calls = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda pw, h: calls.append(h) or real(pw, h))
    for email in ("ada@example.com", "nobody@example.com"):
        client.post("/auth/login", json={"email": email, "password": "wrong-password"})
    assert len(calls) == 2
    assert calls[0] != calls[1]  # the real hash, then the dummy of the same cost
    assert calls[0][:7] == calls[1][:7]  # same algorithm and cost prefix: "$2b$04$"


def test_failed_logins_are_rate_limited_per_email(client, auth):
    auth.register()
    statuses = [
        client.post(
            "/auth/login", json={"email": "ada@example.com", "password": "wrong-password"}
        ).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    response = client.post(
        "/auth/login", json={"email": "ada@example.com", "password": "correct-horse-1"}
    )
    assert response.status_code == 429  # the budget is spent, even for the right password
    assert assert_matches(response, "/auth/login", "post")["error"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0
    # Another email from the same client is not locked out by Ada's failures.
    auth.register(email="bob@example.com")
    auth.login(email="bob@example.com")


def test_failed_logins_are_rate_limited_per_ip(server, redis_server):
    app = server.make(login_rate_limit="100 per minute", login_ip_rate_limit="3 per minute")
    client = app.test_client()
    statuses = [
        client.post(
            "/auth/login", json={"email": f"u{i}@example.com", "password": "wrong-password"}
        ).status_code
        for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    other_ip = app.test_client()
    other_ip.environ_base["REMOTE_ADDR"] = "127.0.0.2"
    response = other_ip.post(
        "/auth/login", json={"email": "u9@example.com", "password": "wrong-password"}
    )
    assert response.status_code == 401


def test_rate_limit_is_shared_by_replicas(server, redis_server):
    """Two app instances (two replicas) count failures in the same Redis."""
    replica_1, replica_2 = server.make(), server.make(replica_id="test-2")
    for replica in (replica_1, replica_2, replica_1, replica_2, replica_1):
        replica.test_client().post(
            "/auth/login", json={"email": "ada@example.com", "password": "wrong-password"}
        )
    response = replica_2.test_client().post(
        "/auth/login", json={"email": "ada@example.com", "password": "wrong-password"}
    )
    assert response.status_code == 429


def test_a_cookie_planted_before_login_is_not_adopted(app, auth):
    """Session fixation: whatever the client held before login, it gets a brand-new credential."""
    auth.register()
    attacker = auth.login()  # the attacker's own valid credential...
    victim = app.test_client()
    copy_credential(attacker, victim)  # ...planted in the victim's browser
    planted = sorted((c.key, c.value) for c in victim._cookies.values())  # noqa: SLF001
    auth.login(victim)
    issued = sorted((c.key, c.value) for c in victim._cookies.values())  # noqa: SLF001
    assert issued != planted
    for (_, before), (_, after) in zip(planted, issued, strict=False):
        assert before != after
    assert victim.get("/auth/me").status_code == 200
