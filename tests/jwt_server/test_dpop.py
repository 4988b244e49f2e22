"""DPoP (RFC 9449): a bound token works only with a fresh proof from its own key.

Every attack test changes one thing in a request that the control test shows is accepted: the
thief holds everything malware could read (the token, the cookies, even an old proof), never
the key.
"""

from __future__ import annotations

import time

import jwt
import pytest
from flask.testing import FlaskClient

from loadtests.bound import ClientKey
from tests.support.bound import BASE_URL, DPoPClient
from tests.support.tokens import PASSWORD, access_token, b64, refresh_token, unverified

ME = f"{BASE_URL}/auth/me"


@pytest.fixture(params=["stateless", "denylist", "refresh", "push"])
def app(request, make_app):
    """A bound server, in every JWT mode."""
    app = make_app(request.param, jwt_binding="dpop")
    app.test_client_class = DPoPClient
    yield app
    close = getattr(app.extensions["authlab_backend"].strategy, "close", None)
    if close:
        close()


@pytest.fixture
def victim(app):
    """A logged-in DPoP client (its key signs every request) and its access token."""
    client = app.test_client()
    client.post(
        "/auth/register", json={"email": "ada@example.com", "password": PASSWORD, "name": "A"}
    )
    response = client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    return client, response.get_json()["access_token"]


def call(app, token: str, proof: str | None, method: str = "GET", path: str = "/auth/me"):
    """A request from a plain client (no key, no cookies): `Authorization: DPoP` and `proof`."""
    headers = {"Authorization": f"DPoP {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return FlaskClient(app).open(path, method=method, headers=headers)


def assert_proof_refused(response, words: str) -> None:
    """401, the JSON error shape, RFC 9449's challenge, and the reason."""
    assert response.status_code == 401, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "invalid_dpop_proof"
    assert words in body["message"], body["message"]
    assert response.headers["WWW-Authenticate"].startswith('DPoP error="invalid_dpop_proof"')


def test_login_binds_the_token_to_the_key(victim):
    client, token = victim
    _, claims = unverified(token)
    assert claims["cnf"]["jkt"]
    response = client.get("/auth/me")
    assert response.status_code == 200
    assert response.get_json()["user"]["email"] == "ada@example.com"


def test_control_the_victims_key_with_a_fresh_proof_gets_in(app, victim):
    client, token = victim
    assert call(app, token, client.key.dpop_proof("GET", ME, token)).status_code == 200


def test_login_without_a_proof_is_refused(make_app):
    app = make_app(jwt_binding="dpop")  # a plain client: no key
    response = app.test_client().post(
        "/auth/login", json={"email": "admin@example.com", "password": "admin-password-123"}
    )
    assert_proof_refused(response, "DPoP proof")


def test_a_token_without_a_proof_is_refused(app, victim):
    _, token = victim
    assert_proof_refused(call(app, token, None), "DPoP proof")


def test_a_bound_token_as_bearer_is_refused(app, victim):
    client, token = victim
    proof = client.key.dpop_proof("GET", ME, token)
    response = FlaskClient(app).get(
        "/auth/me", headers={"Authorization": f"Bearer {token}", "DPoP": proof}
    )
    assert_proof_refused(response, "Authorization: DPoP")


def test_a_proof_from_another_key_is_refused(app, victim):
    _, token = victim
    thief = ClientKey()
    assert_proof_refused(call(app, token, thief.dpop_proof("GET", ME, token)), "another key")


def test_a_replayed_proof_is_refused(app, victim):
    client, token = victim
    proof = client.key.dpop_proof("GET", ME, token)
    assert call(app, token, proof).status_code == 200
    assert_proof_refused(call(app, token, proof), "already used")


@pytest.mark.parametrize(
    ("method", "url", "words"),
    [
        ("POST", ME, "another method"),
        ("GET", f"{BASE_URL}/auth/sessions", "another URL"),
        ("GET", "https://localhost/auth/me", "another URL"),
        ("GET", "http://evil.example/auth/me", "another URL"),
    ],
)
def test_a_proof_for_another_request_is_refused(app, victim, method, url, words):
    client, token = victim
    assert_proof_refused(call(app, token, client.key.dpop_proof(method, url, token)), words)


def test_the_url_is_compared_normalised(app, victim):
    client, token = victim
    proof = client.key.dpop_proof("GET", "HTTP://LOCALHOST:80/auth/me?x=1", token)
    assert call(app, token, proof).status_code == 200


@pytest.mark.parametrize(
    ("age", "words"), [(61, "too old"), (3600, "too old"), (-30, "in the future")]
)
def test_a_proof_too_old_or_from_the_future_is_refused(app, victim, age, words):
    client, token = victim
    proof = client.key.dpop_proof("GET", ME, token, iat=time.time() - age)
    assert_proof_refused(call(app, token, proof), words)


def test_a_proof_for_another_token_is_refused(app, victim):
    client, token = victim
    proof = client.key.dpop_proof("GET", ME, token + "x")
    assert_proof_refused(call(app, token, proof), "ath")


def test_a_proof_without_ath_is_refused(app, victim):
    client, token = victim
    assert_proof_refused(call(app, token, client.key.dpop_proof("GET", ME)), "ath")


def test_a_stolen_cookie_with_the_thiefs_own_proofs_is_refused(app, victim):
    client, token = victim
    thief = app.test_client()  # a DPoPClient too, but with its own key
    thief.set_cookie("access_token", token)
    assert_proof_refused(thief.get("/auth/me"), "another key")
    assert client.get("/auth/me").status_code == 200  # the victim is still logged in


@pytest.mark.parametrize(
    "proof",
    ["", "not-a-jwt", "a.b.c", "x" * 9000],
)
def test_a_malformed_proof_is_refused(app, victim, proof):
    _, token = victim
    assert_proof_refused(call(app, token, proof), "")


def test_a_server_side_secret_is_not_a_client_key(app, victim):
    """An HS256 proof (a shared secret) proves nothing about a client's key: refused."""
    _, token = victim
    proof = jwt.encode(
        {"jti": "abcdefgh1", "htm": "GET", "htu": ME, "iat": int(time.time())},
        "x" * 32,
        algorithm="HS256",
        headers={"typ": "dpop+jwt", "jwk": {"kty": "oct", "k": "eHh4"}},
    )
    assert_proof_refused(call(app, token, proof), "algorithm")


def test_the_replay_store_costs_one_round_trip(app, victim):
    client, _ = victim
    timing = client.get("/auth/me").headers["Server-Timing"]
    mode = app.config["AUTHLAB"].jwt_mode
    expected = {"stateless": 1, "denylist": 2, "refresh": 1, "push": 1}[mode]
    assert f'store={expected}"' in timing, timing


@pytest.mark.parametrize(("store", "second_replica"), [("redis", 401), ("memory", 200)])
def test_a_proof_replayed_on_another_replica(make_app, store, second_replica):
    """Redis remembers proof ids for every replica; each replica's memory only for itself, so
    a copy of a proof sent to another replica gets in there once (the price of no round trip)."""
    one, two = (make_app(jwt_binding="dpop", dpop_replay_store=store) for _ in range(2))
    one.test_client_class = DPoPClient
    client = one.test_client()
    body = {"email": "admin@example.com", "password": "admin-password-123"}
    token = client.post("/auth/login", json=body).get_json()["access_token"]
    proof = client.key.dpop_proof("GET", ME, token)
    assert call(one, token, proof).status_code == 200
    assert call(one, token, proof).status_code == 401
    assert call(two, token, proof).status_code == second_replica
    assert call(two, token, proof).status_code == 401


@pytest.fixture
def refresh_app(make_app):
    """A bound server in refresh mode."""
    app = make_app("refresh", jwt_binding="dpop")
    app.test_client_class = DPoPClient
    return app


def test_refresh_needs_the_familys_key_and_a_thief_burns_nothing(refresh_app):
    victim = refresh_app.test_client()
    body = {"email": "admin@example.com", "password": "admin-password-123"}
    assert victim.post("/auth/login", json=body).status_code == 200
    thief = refresh_app.test_client()  # its own key
    thief.set_cookie("refresh_token", refresh_token(victim), path="/auth/refresh")
    assert_proof_refused(thief.post("/auth/refresh"), "another key")
    # The victim's refresh token was not rotated by the thief's attempt: it still refreshes.
    refreshed = victim.post("/auth/refresh")
    assert refreshed.status_code == 200, refreshed.get_json()
    assert refreshed.get_json()["token_type"] == "DPoP"
    _, claims = unverified(refreshed.get_json()["access_token"])
    assert claims["cnf"]["jkt"] == unverified(access_token(victim))[1]["cnf"]["jkt"]
    assert victim.get("/auth/me").status_code == 200


def test_refresh_without_a_proof_is_refused(refresh_app):
    victim = refresh_app.test_client()
    body = {"email": "admin@example.com", "password": "admin-password-123"}
    victim.post("/auth/login", json=body)
    plain = FlaskClient(refresh_app)
    plain.set_cookie("refresh_token", refresh_token(victim), path="/auth/refresh")
    assert_proof_refused(plain.post("/auth/refresh"), "DPoP proof")


def test_an_es256_proof_on_another_curve_is_refused(app, victim):
    """Signed by hand (PyJWT itself refuses to make it): ES256 is defined on P-256 only."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm
    from jwt.utils import der_to_raw_signature

    _, token = victim
    private = ec.generate_private_key(ec.SECP384R1())
    jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    header = {"alg": "ES256", "typ": "dpop+jwt", "jwk": jwk}
    claims = {"jti": "abcdefgh12", "htm": "GET", "htu": ME, "iat": int(time.time()), "ath": ""}
    signing_input = f"{b64(header)}.{b64(claims)}".encode()
    der = private.sign(signing_input, ec.ECDSA(hashes.SHA256()))
    proof = signing_input.decode() + "." + b64(der_to_raw_signature(der, private.curve))
    assert_proof_refused(call(app, token, proof), "P-256")


@pytest.mark.parametrize("binding, scheme", [("none", "Bearer "), ("dpop", "DPoP algs=")])
def test_a_refused_token_names_the_scheme_to_use(make_app, binding, scheme):
    """RFC 6750 3 and RFC 9449 7.1: a 401 of a protected resource carries the challenge of the
    server's scheme; a wrong password is no token challenge."""
    app = make_app("stateless", jwt_binding=binding)
    client = FlaskClient(app)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = client.get("/auth/me", headers=headers)
        assert response.status_code == 401 and response.is_json
        assert response.headers["WWW-Authenticate"].startswith(scheme)
    prover = DPoPClient(app) if binding == "dpop" else client  # a login with a good proof
    wrong = prover.post("/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == 401 and "WWW-Authenticate" not in wrong.headers
