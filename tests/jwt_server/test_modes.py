"""Stateless and denylist modes: what logout and revocation really do, and the API says so."""

import time
from datetime import datetime

import pytest

from tests.support.tokens import (
    PASSWORD,
    access_token,
    bearer,
    sign_hs256,
    unverified,
    valid_claims,
)


def until(body) -> float:
    """valid_until as epoch seconds."""
    return datetime.fromisoformat(body["valid_until"]).timestamp()


def admin(app, login):
    """A logged-in admin client."""
    client, _ = login(app, email="admin@example.com", password="admin-password-123")
    return client


# --- stateless --------------------------------------------------------------------------------


def test_stateless_logout_says_the_copy_works_until_exp(make_app, login):
    app = make_app("stateless")
    client, body = login(app)
    stolen = body["access_token"]
    exp = unverified(stolen)[1]["exp"]

    response = client.post("/auth/logout")
    report = response.get_json()
    assert report["revoked"] is False
    assert until(report) == exp + 5  # the leeway is part of the truth
    assert "keeps working until" in report["message"]
    assert client.get("/auth/me").status_code == 401  # the cookie is gone from this browser
    assert bearer(app, stolen).status_code == 200  # but the copy works, as the API said


def test_stateless_cannot_revoke_anything_and_says_so(make_app, login):
    app = make_app("stateless")
    user_client, body = login(app)
    stolen = body["access_token"]
    for path, client in (
        ("/auth/logout-all", user_client),
        (f"/admin/users/{unverified(stolen)[1]['sub']}/revoke", admin(app, login)),
    ):
        report = client.post(path).get_json()
        assert report["revoked"] is False
        assert "Nothing was revoked" in report["message"]
        assert abs(until(report) - (time.time() + 900 + 5)) < 5
        assert bearer(app, stolen).status_code == 200


def test_stateless_password_change_keeps_every_token(make_app, login):
    app = make_app("stateless")
    laptop, _ = login(app)
    phone, _ = login(app)
    response = laptop.post(
        "/auth/password", json={"current_password": PASSWORD, "new_password": "battery-staple-2"}
    )
    report = response.get_json()
    assert report["password_changed"] is True and report["revoked"] is False
    assert phone.get("/auth/me").status_code == 200
    assert laptop.get("/auth/me").status_code == 200


def test_stateless_sessions_are_not_tracked(make_app, login):
    client, _ = login(make_app("stateless"))
    body = client.get("/auth/sessions").get_json()
    assert body["tracked"] is False and body["sessions"] == [] and body["message"]
    assert client.delete("/auth/sessions/" + "a" * 32).status_code == 404


def test_stateless_token_dies_at_exp(make_app, login):
    app = make_app("stateless", access_token_ttl=1, jwt_leeway=0)
    client, body = login(app)
    assert client.get("/auth/me").status_code == 200
    time.sleep(2.05)
    response = bearer(app, body["access_token"])
    assert response.status_code == 401
    assert "expired" in response.get_json()["message"]


# --- denylist ---------------------------------------------------------------------------------


def test_denylist_logout_kills_the_copy_at_once(make_app, login, redis_server):
    app = make_app("denylist")
    client, body = login(app)
    stolen = body["access_token"]
    jti = unverified(stolen)[1]["jti"]
    report = client.post("/auth/logout").get_json()
    assert report == {
        "revoked": True,
        "valid_until": None,
        "message": report["message"],
    }
    response = bearer(app, stolen)
    assert response.status_code == 401
    assert "revoked" in response.get_json()["message"]
    # Keyed on the jti (RFC 8725), and kept only while the token could otherwise live.
    ttl = redis_server.client().ttl(f"deny:{jti}")
    assert 900 <= ttl <= 900 + 5 + 1


def test_denylist_logout_all_kills_every_token_and_a_new_login_works(make_app, login):
    app = make_app("denylist")
    laptop, _ = login(app)
    phone, phone_body = login(app)
    report = laptop.post("/auth/logout-all").get_json()
    assert report["revoked"] is True and report["valid_until"] is None
    assert phone.get("/auth/me").status_code == 401
    assert bearer(app, phone_body["access_token"]).status_code == 401
    # A login right after the cut (same second, even the same millisecond) is on the live side.
    fresh, _ = login(app)
    assert fresh.get("/auth/me").status_code == 200


def test_denylist_password_change_reissues_the_current_token(make_app, login):
    app = make_app("denylist")
    laptop, laptop_body = login(app)
    phone, _ = login(app)
    old_laptop_token = laptop_body["access_token"]
    response = laptop.post(
        "/auth/password", json={"current_password": PASSWORD, "new_password": "battery-staple-2"}
    )
    report = response.get_json()
    assert report["revoked"] is True and report["password_changed"] is True
    # The current client got a new token: in its cookie, and in the body for Bearer clients.
    assert report["access_token"] == access_token(laptop) != old_laptop_token
    assert report["token_type"] == "Bearer" and report["expires_in"] == 900
    assert laptop.get("/auth/me").status_code == 200
    assert bearer(app, report["access_token"]).status_code == 200
    # Every token issued before, a copy of the current one included, is dead.
    assert bearer(app, old_laptop_token).status_code == 401
    assert phone.get("/auth/me").status_code == 401


def test_denylist_password_change_for_a_bearer_client(make_app, login):
    app = make_app("denylist")
    _, body = login(app)
    client = app.test_client()  # no cookies: a mobile app with the token in its keychain
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    response = client.post(
        "/auth/password",
        json={"current_password": PASSWORD, "new_password": "battery-staple-2"},
        headers=headers,
    )
    new_token = response.get_json()["access_token"]
    assert bearer(app, new_token).status_code == 200
    assert bearer(app, body["access_token"]).status_code == 401


def test_denylist_admin_revoke_is_immediate(make_app, login):
    app = make_app("denylist")
    victim, _ = login(app)
    boss = admin(app, login)
    user_id = victim.get("/auth/me").get_json()["user"]["id"]
    report = boss.post(f"/admin/users/{user_id}/revoke").get_json()
    assert report["revoked"] is True
    assert victim.get("/auth/me").status_code == 401
    assert boss.get("/auth/me").status_code == 200


def test_denylist_sessions_are_not_tracked(make_app, login):
    client, _ = login(make_app("denylist"))
    body = client.get("/auth/sessions").get_json()
    assert body["tracked"] is False and body["sessions"] == []
    assert "logout-all" in body["message"]


def test_denylist_is_shared_by_replicas(make_app, login):
    replica_1, replica_2 = make_app("denylist"), make_app("denylist", replica_id="test-2")
    client, body = login(replica_1)
    assert bearer(replica_2, body["access_token"]).status_code == 200
    client.post("/auth/logout")
    assert bearer(replica_2, body["access_token"]).status_code == 401


# --- every mode -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["stateless", "denylist", "refresh"])
def test_a_refused_bearer_header_leaves_the_cookies_alone(make_app, login, mode):
    """The header wins over the cookie; when it proves nothing, the answer changes no cookie."""
    app = make_app(mode)
    browser, _ = login(app)
    forged = "Bearer " + sign_hs256(valid_claims(), "another-secret-" * 3)
    response = browser.post("/auth/logout", headers={"Authorization": forged})
    assert response.status_code == 401
    assert response.headers.getlist("Set-Cookie") == []
    assert browser.get("/auth/me").status_code == 200
