"""Logout and revocation: each server says whether a copied credential is dead, and it is true.

The lesson of the lab in one rule: `revoked: true` means a stolen copy gets 401 right now;
`revoked: false` comes with `valid_until`, and until then the copy still works. No server may
claim more than it does.
"""

from datetime import UTC, datetime

from tests.support.contract import assert_matches, copy_credential


def assert_honest(body: dict, copy_status: int, revokes: bool) -> None:
    """The report says what the server promises, and matches what a copied credential gets."""
    assert body["revoked"] is revokes
    if revokes:
        assert body["valid_until"] is None
        assert copy_status == 401, "claims revoked, but the copy still works"
    else:
        assert body["valid_until"] is not None, "not revoked must say until when"
        until = datetime.fromisoformat(body["valid_until"])
        assert until > datetime.now(UTC)
        assert copy_status == 200, "claims the copy works until valid_until, but it was refused"
    assert body["message"]


def test_logout_ends_this_credential_and_expires_the_cookie(app, auth, server):
    auth.register()
    victim = auth.login()
    attacker = app.test_client()
    copy_credential(victim, attacker)
    assert attacker.get("/auth/me").status_code == 200

    response = victim.post("/auth/logout")
    assert response.status_code == 200
    body = assert_matches(response, "/auth/logout", "post")
    assert any(
        "Max-Age=0" in c or "Expires=Thu, 01 Jan 1970" in c
        for c in response.headers.getlist("Set-Cookie")
    )
    assert victim.get("/auth/me").status_code == 401  # the browser dropped the cookie
    assert_honest(body, attacker.get("/auth/me").status_code, server.promises.revokes)


def test_logout_without_a_credential_is_401(client):
    response = client.post("/auth/logout")
    assert response.status_code == 401
    assert_matches(response, "/auth/logout", "post")


def test_password_change_keeps_this_session_and_reports_the_others(app, auth, server):
    auth.register()
    laptop, phone = auth.login(), auth.login()
    response = laptop.post(
        "/auth/password",
        json={"current_password": "correct-horse-1", "new_password": "battery-staple-2"},
    )
    assert response.status_code == 200
    body = assert_matches(response, "/auth/password", "post")
    assert laptop.get("/auth/me").status_code == 200  # the current one is kept
    assert_honest(body, phone.get("/auth/me").status_code, server.promises.revokes)
    # The new password works, the old one does not.
    assert (
        app.test_client()
        .post("/auth/login", json={"email": "ada@example.com", "password": "correct-horse-1"})
        .status_code
        == 401
    )
    auth.login(password="battery-staple-2")


def test_password_change_from_the_stolen_session_reports_the_copy_honestly(app, auth, server):
    """The victim changes the password from the very session whose cookie was copied."""
    auth.register()
    victim = auth.login()
    attacker = app.test_client()
    copy_credential(victim, attacker)
    response = victim.post(
        "/auth/password",
        json={"current_password": "correct-horse-1", "new_password": "battery-staple-2"},
    )
    assert response.status_code == 200
    assert victim.get("/auth/me").status_code == 200
    assert_honest(
        response.get_json(), attacker.get("/auth/me").status_code, server.promises.revokes
    )


def test_password_change_checks_the_current_password(auth):
    auth.register()
    client = auth.login()
    response = client.post(
        "/auth/password", json={"current_password": "nope-nope-1", "new_password": "whatever-22"}
    )
    assert response.status_code == 401
    response = client.post(
        "/auth/password", json={"current_password": "correct-horse-1", "new_password": "short"}
    )
    assert response.status_code == 400
    assert client.get("/auth/me").status_code == 200


def test_logout_all_reports_honestly(app, auth, server):
    auth.register()
    laptop, phone = auth.login(), auth.login()
    response = laptop.post("/auth/logout-all")
    assert response.status_code == 200
    body = assert_matches(response, "/auth/logout-all", "post")
    assert_honest(body, phone.get("/auth/me").status_code, server.promises.revokes)


def test_admin_revokes_a_user(app, auth, server):
    user = auth.register()
    victim = auth.login()
    admin = auth.login(email="admin@example.com", password="admin-password-123")
    response = admin.post(f"/admin/users/{user['id']}/revoke")
    assert response.status_code == 200
    body = assert_matches(response, "/admin/users/{id}/revoke", "post")
    assert_honest(body, victim.get("/auth/me").status_code, server.promises.revokes)
    assert admin.get("/auth/me").status_code == 200


def test_only_admins_revoke(auth):
    user = auth.register()
    client = auth.login()
    response = client.post(f"/admin/users/{user['id']}/revoke")
    assert response.status_code == 403
    assert assert_matches(response, "/admin/users/{id}/revoke", "post")["error"] == "forbidden"


def test_admin_revoke_of_an_unknown_user_is_404(auth):
    admin = auth.login(email="admin@example.com", password="admin-password-123")
    response = admin.post("/admin/users/999999/revoke")
    assert response.status_code == 404
    assert_matches(response, "/admin/users/{id}/revoke", "post")
