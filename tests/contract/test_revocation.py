"""Logout and revocation: each server says whether a copied credential is dead, and it is true.

The lesson of the lab in one rule: `revoked: true` means a stolen copy gets 401 right now;
`revoked: false` comes with `valid_until`, and until then the copy still works. No server may
claim more than it does.
"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from tests.support.contract import SERVERS, assert_matches, copy_credential


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


# --- a password change does both or neither (issue 11, class 6) -------------------------------

NEW_PASSWORD = {"current_password": "correct-horse-1", "new_password": "battery-staple-2"}
#: The servers whose password change needs the credential store (stateless has nothing to end).
WITH_A_STORE = [s for s in SERVERS if s[0] != "jwt-stateless"]


def logs_in(app, password: str) -> bool:
    """Whether Ada's login with `password` succeeds."""
    response = app.test_client().post(
        "/auth/login", json={"email": "ada@example.com", "password": password}
    )
    return response.status_code == 200


@pytest.mark.parametrize("server", WITH_A_STORE, ids=[s[0] for s in WITH_A_STORE], indirect=True)
def test_password_change_with_the_store_down_does_neither_then_both(
    server, app, auth, redis_server
):
    """Redis down: 503, the password is unchanged and nothing was revoked. Redis comes back with
    its data (a snapshot, as a persistent Redis would): the retry does both."""
    auth.register()
    victim = auth.login()
    thief = app.test_client()
    copy_credential(victim, thief)
    redis_server.client().save()  # the data survives the restart: the worst case
    redis_server.stop()
    try:
        response = victim.post("/auth/password", json=NEW_PASSWORD)
    finally:
        redis_server.start()
        (redis_server.dir / "dump.rdb").unlink()
    assert response.status_code == 503
    assert response.headers.getlist("Set-Cookie") == []
    assert assert_matches(response, "/auth/password", "post")["error"] == "store_unavailable"
    assert (logs_in(app, "correct-horse-1"), logs_in(app, "battery-staple-2")) == (True, False)
    assert thief.get("/auth/me").status_code == 200  # neither half: the copy still works

    retry = victim.post("/auth/password", json=NEW_PASSWORD)
    assert retry.status_code == 200
    body = assert_matches(retry, "/auth/password", "post")
    assert body["password_changed"] is True
    assert (logs_in(app, "correct-horse-1"), logs_in(app, "battery-staple-2")) == (False, True)
    assert_honest(body, thief.get("/auth/me").status_code, server.promises.revokes)
    assert victim.get("/auth/me").status_code == 200  # the caller continues, renewed


def test_password_not_saved_after_the_revocation_is_a_503_that_says_so(
    server, app, auth, sqlite_url
):
    """The failure between the two halves: the store revoked, then SQL refused the commit. The
    answer says the password did not change and the revocation did (the safe half-way)."""
    auth.register()
    laptop, phone = auth.login(), auth.login()
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:  # a database that refuses the write, for real
        conn.execute(text(REFUSE_PASSWORD_WRITES))
    try:
        response = laptop.post("/auth/password", json=NEW_PASSWORD)
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER refuse_password_writes"))
        engine.dispose()
    assert response.status_code == 503
    assert response.headers.getlist("Set-Cookie") == []
    body = assert_matches(response, "/auth/password", "post")
    assert body["error"] == "database_unavailable"
    assert "NOT changed" in body["message"] and "revocation was done" in body["message"]
    assert (logs_in(app, "correct-horse-1"), logs_in(app, "battery-staple-2")) == (True, False)
    # The revocation is what each mode's logout-all does: sessions and denylisted tokens die;
    # stateless tokens and refresh mode's access tokens live until they expire, as reported.
    assert phone.get("/auth/me").status_code == (401 if server.promises.revokes else 200)


REFUSE_PASSWORD_WRITES = """
CREATE TRIGGER refuse_password_writes BEFORE UPDATE OF password_hash ON users
BEGIN SELECT RAISE(ABORT, 'the database refuses this write'); END
"""
