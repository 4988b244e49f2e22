"""Listing and revoking sessions, where the mechanism keeps any."""

from tests.support.contract import assert_matches


def test_sessions_lists_the_current_one_or_says_untracked(auth, server):
    auth.register()
    auth.login()
    client = auth.login()
    response = client.get("/auth/sessions", headers={"User-Agent": "pytest-browser"})
    assert response.status_code == 200
    body = assert_matches(response, "/auth/sessions", "get")
    assert body["tracked"] is server.promises.tracks_sessions
    if not body["tracked"]:
        assert body["sessions"] == []
        return
    assert len(body["sessions"]) == 2
    assert [s["current"] for s in body["sessions"]].count(True) == 1


def test_revoking_one_session_by_id(app, auth, server):
    auth.register()
    auth.login()  # a phone
    laptop = auth.login()
    body = laptop.get("/auth/sessions").get_json()
    assert body["tracked"] is server.promises.tracks_sessions
    if not body["tracked"]:
        assert laptop.delete("/auth/sessions/anything").status_code == 404
        return
    other = next(s for s in body["sessions"] if not s["current"])
    response = laptop.delete(f"/auth/sessions/{other['id']}")
    assert response.status_code == 200
    assert_matches(response, "/auth/sessions/{id}", "delete")
    # Revocation of a tracked session takes effect at the latest at its next refresh.
    ids = [s["id"] for s in laptop.get("/auth/sessions").get_json()["sessions"]]
    assert other["id"] not in ids
    assert laptop.get("/auth/me").status_code == 200


def test_nobody_revokes_someone_elses_session(auth):
    auth.register()
    ada = auth.login()
    bob = auth.user_client("bob@example.com")
    ada_sessions = ada.get("/auth/sessions").get_json()
    if not ada_sessions["tracked"]:
        return
    target = ada_sessions["sessions"][0]["id"]
    response = bob.delete(f"/auth/sessions/{target}")
    assert response.status_code == 404
    assert_matches(response, "/auth/sessions/{id}", "delete")
    assert ada.get("/auth/me").status_code == 200


def test_unknown_session_id_is_404(auth):
    client = auth.user_client()
    response = client.delete("/auth/sessions/" + "0" * 64)
    assert response.status_code == 404
