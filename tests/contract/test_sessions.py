"""Listing and revoking sessions, where the mechanism keeps any.

The session server and JWT refresh mode track sessions (sessions, refresh families); stateless
and denylist JWTs leave no list on the server, say so, and answer 404 to a revocation by id.
"""

import pytest

from tests.support.contract import PROMISES, SERVERS, assert_matches

TRACKED = [s for s in SERVERS if PROMISES[s[0]].tracks_sessions]
UNTRACKED = [s for s in SERVERS if s not in TRACKED]


def only_on(servers: list) -> pytest.MarkDecorator:
    """Run a test on these server configurations only."""
    return pytest.mark.parametrize("server", servers, ids=[s[0] for s in servers], indirect=True)


@only_on(TRACKED)
def test_sessions_lists_the_current_one(auth):
    auth.register()
    auth.login()
    client = auth.login()
    response = client.get("/auth/sessions", headers={"User-Agent": "pytest-browser"})
    assert response.status_code == 200
    body = assert_matches(response, "/auth/sessions", "get")
    assert body["tracked"] is True
    assert len(body["sessions"]) == 2
    assert [s["current"] for s in body["sessions"]].count(True) == 1


@only_on(UNTRACKED)
def test_untracked_sessions_say_so(auth):
    client = auth.user_client()
    response = client.get("/auth/sessions")
    body = assert_matches(response, "/auth/sessions", "get")
    assert (body["tracked"], body["sessions"]) == (False, [])
    assert body["message"]
    assert client.delete("/auth/sessions/anything").status_code == 404


@only_on(TRACKED)
def test_revoking_one_session_by_id(auth):
    auth.register()
    auth.login()  # a phone
    laptop = auth.login()
    body = laptop.get("/auth/sessions").get_json()
    other = next(s for s in body["sessions"] if not s["current"])
    response = laptop.delete(f"/auth/sessions/{other['id']}")
    assert response.status_code == 200
    report = assert_matches(response, "/auth/sessions/{id}", "delete")
    assert report["id"] == other["id"] and report["message"]
    # Revocation of a tracked session takes effect at the latest at its next refresh.
    ids = [s["id"] for s in laptop.get("/auth/sessions").get_json()["sessions"]]
    assert other["id"] not in ids
    assert laptop.get("/auth/me").status_code == 200


@only_on(TRACKED)
def test_nobody_revokes_someone_elses_session(auth):
    auth.register()
    ada = auth.login()
    bob = auth.user_client("bob@example.com")
    target = ada.get("/auth/sessions").get_json()["sessions"][0]["id"]
    response = bob.delete(f"/auth/sessions/{target}")
    assert response.status_code == 404
    assert_matches(response, "/auth/sessions/{id}", "delete")
    assert ada.get("/auth/me").status_code == 200


@pytest.mark.parametrize("unknown", ["0" * 32, "0" * 64, "not-an-id"])
def test_unknown_session_id_is_404(auth, unknown):
    """Well-formed (32 hex, as both servers list them) or not: no such session of yours."""
    client = auth.user_client()
    response = client.delete(f"/auth/sessions/{unknown}")
    assert response.status_code == 404
