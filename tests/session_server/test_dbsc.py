"""DBSC: a bound session's cookie is short-lived, and only the registered key renews it.

The thief copies every cookie the victim's browser holds (what malware reads from disk), never
the key: the copy works until the short cookie expires, then nothing renews it.
"""

from __future__ import annotations

import time

import pytest

from loadtests.bound import ClientKey, challenge_of, header_param
from servers.session_server.dbsc import BOUND_COOKIE
from tests.support.contract import copy_credential

PASSWORD = "correct-horse-1"
#: The bound cookie's life in these tests: short, so that its expiry can be waited for.
TTL = 1


@pytest.fixture
def app(make_app):
    """A session server with DBSC and a one-second bound cookie."""
    return make_app(session_binding="dbsc", dbsc_cookie_ttl=TTL)


def log_in(app):
    """A logged-in client and the login's answer."""
    client = app.test_client()
    client.post(
        "/auth/register", json={"email": "ada@example.com", "password": PASSWORD, "name": "A"}
    )
    response = client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return client, response


def register(client, login_response, key: ClientKey) -> str:
    """Answer the login's registration offer with `key`; the session identifier."""
    offer = login_response.headers["Secure-Session-Registration"]
    assert offer.startswith("(ES256 RS256);")
    path, challenge = header_param(offer, "path"), header_param(offer, "challenge")
    response = client.post(path, headers={"Secure-Session-Response": key.dbsc_response(challenge)})
    assert response.status_code == 200, response.get_json()
    config = response.get_json()
    assert config["credentials"][0]["name"] == BOUND_COOKIE
    assert config["refresh_url"] == "/auth/dbsc/refresh"
    return config["session_identifier"]


def renew(client, session_id: str, key: ClientKey):
    """The draft's refresh: ask, get a challenge (403), answer it signed with `key`."""
    headers = {"Sec-Secure-Session-Id": session_id}
    first = client.post("/auth/dbsc/refresh", headers=headers)
    if first.status_code != 403:
        return first
    challenge, named = challenge_of(first.headers["Secure-Session-Challenge"])
    assert named == session_id
    answer = key.dbsc_response(challenge, with_jwk=False)
    return client.post("/auth/dbsc/refresh", headers={**headers, "Secure-Session-Response": answer})


@pytest.fixture
def bound(app):
    """A victim with a registered key: (client, key, session identifier)."""
    client, response = log_in(app)
    key = ClientKey()
    return client, key, register(client, response, key)


def test_an_unsupporting_client_stays_unbound(app):
    client, response = log_in(app)
    assert "Secure-Session-Registration" in response.headers
    assert client.get("/auth/me").status_code == 200
    assert client.get("/auth/dbsc").get_json()["bound"] is False


def test_registration_binds_the_session_and_drops_the_long_cookie(app, bound):
    client, _, _ = bound
    assert client.get_cookie("sid") is None
    assert client.get_cookie(BOUND_COOKIE) is not None
    assert client.get("/auth/me").status_code == 200
    assert client.get("/auth/dbsc").get_json() == {
        "bound": True,
        "binding": "dbsc",
        "cookie_ttl": TTL,
    }


def test_a_copy_of_the_long_cookie_dies_at_registration(app):
    client, response = log_in(app)
    thief = app.test_client()
    copy_credential(client, thief)  # stolen between login and registration
    register(client, response, ClientKey())
    assert thief.get("/auth/me").status_code == 401


def test_the_stolen_short_cookie_works_until_it_expires_and_is_never_renewed(app, bound):
    client, key, session_id = bound
    thief = app.test_client()
    copy_credential(client, thief)
    assert thief.get("/auth/me").status_code == 200  # the copy works, for now
    time.sleep(TTL + 1.1)
    assert thief.get("/auth/me").status_code == 401  # expired, even if the thief keeps it
    # Renewal without the key: a proof from the thief's own key is refused.
    refused = renew(thief, session_id, ClientKey())
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "invalid_dbsc_proof"
    # The victim renews with the registered key and stays logged in.
    assert client.get("/auth/me").status_code == 401
    assert renew(client, session_id, key).status_code == 200
    assert client.get("/auth/me").status_code == 200
    assert thief.get("/auth/me").status_code == 401


def test_a_challenge_is_good_for_one_answer(app, bound):
    client, key, session_id = bound
    headers = {"Sec-Secure-Session-Id": session_id}
    challenge, _ = challenge_of(
        client.post("/auth/dbsc/refresh", headers=headers).headers["Secure-Session-Challenge"]
    )
    answer = {**headers, "Secure-Session-Response": key.dbsc_response(challenge, False)}
    assert client.post("/auth/dbsc/refresh", headers=answer).status_code == 200
    replay = client.post("/auth/dbsc/refresh", headers=answer)
    assert replay.status_code == 401
    assert "no current challenge" in replay.get_json()["message"]


def test_logout_revokes_the_bound_session_server_side(app, bound):
    client, key, session_id = bound
    thief = app.test_client()
    copy_credential(client, thief)
    assert client.post("/auth/logout").status_code == 200
    assert thief.get("/auth/me").status_code == 401  # the short cookie names a dead session
    assert renew(client, session_id, key).status_code == 401


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 400),
        ({"Sec-Secure-Session-Id": "nope"}, 400),
        ({"Sec-Secure-Session-Id": "0" * 32}, 401),
    ],
)
def test_refresh_validates_its_input(app, headers, status):
    response = app.test_client().post("/auth/dbsc/refresh", headers=headers)
    assert response.status_code == status
    assert response.get_json()["error"]


def test_registration_needs_the_sessions_challenge(app):
    client, _ = log_in(app)
    proof = ClientKey().dbsc_response("a-challenge-the-server-never-gave")
    response = client.post("/auth/dbsc/register", headers={"Secure-Session-Response": proof})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_dbsc_proof"


def test_a_thief_asking_for_challenges_cannot_spoil_the_victims(app, bound):
    client, key, session_id = bound
    headers = {"Sec-Secure-Session-Id": session_id}
    first = client.post("/auth/dbsc/refresh", headers=headers)
    challenge, _ = challenge_of(first.headers["Secure-Session-Challenge"])
    thief = app.test_client()  # the session id is readable in a stolen bound cookie
    assert thief.post("/auth/dbsc/refresh", headers=headers).status_code == 403
    answer = {**headers, "Secure-Session-Response": key.dbsc_response(challenge, False)}
    assert client.post("/auth/dbsc/refresh", headers=answer).status_code == 200


def test_a_new_login_ends_the_bound_session_the_browser_held(app, bound):
    client, key, session_id = bound
    body = {"email": "ada@example.com", "password": PASSWORD}
    assert client.post("/auth/login", json=body).status_code == 200
    assert client.get_cookie(BOUND_COOKIE) is None  # expired by the login's answer
    assert renew(client, session_id, key).status_code == 401


def test_a_bound_session_the_store_lost_is_refused_with_the_reason(app, bound, redis_server):
    """The bound cookie names its session's store epoch, as `sid` does: after a flush the
    session is gone, and the refusal says it may have been lost with the store's data; so does
    the refresh, once the loss is seen."""
    client, key, session_id = bound
    redis_server.client().flushall()
    refused = client.get("/auth/me")
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "revocation_state_lost"
    renewal = renew(client, session_id, key)
    assert renewal.status_code == 401
    assert renewal.get_json()["error"] == "revocation_state_lost"


def test_registering_a_session_the_store_lost_is_refused_with_the_reason(app, redis_server):
    client, response = log_in(app)
    redis_server.client().flushall()
    offer = response.headers["Secure-Session-Registration"]
    challenge = header_param(offer, "challenge")
    answer = client.post(
        header_param(offer, "path"),
        headers={"Secure-Session-Response": ClientKey().dbsc_response(challenge)},
    )
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "revocation_state_lost"
