"""Every classic JWT attack gets a 401 with a JSON error (RFC 8725, OWASP JWT cheat sheet).

Each forged token differs from an accepted one in exactly one way: the control test shows that
the same claims, properly signed, get in.
"""

import hashlib
import hmac
import time

import pytest

from servers.jwt_server.keys import generate_keypair, hmac_kid
from tests.support.redis_stats import count_commands
from tests.support.tokens import (
    access_token,
    b64,
    bearer,
    refresh_token,
    sign_hs256,
    unverified,
    valid_claims,
)


def assert_refused(response, words: str | None = None) -> None:
    """401, the JSON error shape, and (optionally) a reason that mentions `words`."""
    assert response.status_code == 401, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "unauthorized"
    assert body["message"]
    if words:
        assert words in body["message"], body["message"]


@pytest.fixture
def app(make_app):
    """A stateless HS256 server (the default)."""
    return make_app()


def test_control_a_properly_signed_token_is_accepted(app):
    response = bearer(app, sign_hs256(valid_claims()))
    assert response.status_code == 200
    assert response.get_json()["user"] == {
        "id": 1,
        "email": "admin@example.com",
        "name": "Administrator",
        "role": "admin",
    }


@pytest.mark.parametrize("kid", ["server", None])
def test_alg_none_is_refused(app, kid):
    header = {"alg": "none", "typ": "JWT"}
    if kid:
        header["kid"] = hmac_kid(app.config["AUTHLAB"].secret_key)
    token = f"{b64(header)}.{b64(valid_claims())}."
    assert_refused(bearer(app, token))


def test_key_confusion_hs256_signed_with_the_rs256_public_key_is_refused(make_app, tmp_path):
    """The classic: take the server's public key (it is public) and use it as an HMAC secret."""
    private, public = generate_keypair("RS256", tmp_path)
    app = make_app(
        jwt_algorithm="RS256", jwt_private_key_file=str(private), jwt_public_key_file=str(public)
    )
    kid = app.test_client().get("/.well-known/jwks.json").get_json()["keys"][0]["kid"]
    signing_input = f"{b64({'alg': 'HS256', 'kid': kid, 'typ': 'JWT'})}.{b64(valid_claims())}"
    signature = hmac.new(public.read_bytes(), signing_input.encode(), hashlib.sha256).digest()
    assert_refused(bearer(app, f"{signing_input}.{b64(signature)}"), "algorithm")


def test_expired_token_is_refused(app):
    now = int(time.time())
    assert_refused(bearer(app, sign_hs256(valid_claims(iat=now - 600, exp=now - 60))), "expired")


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_token_not_yet_valid_is_refused(app, claim):
    future = int(time.time()) + 120
    claims = valid_claims(**{claim: future, "exp": future + 300})
    assert_refused(bearer(app, sign_hs256(claims)), "not valid yet")


def test_wrong_audience_is_refused(app):
    assert_refused(bearer(app, sign_hs256(valid_claims(aud="another-api"))), "audience")


def test_wrong_issuer_is_refused(app):
    assert_refused(bearer(app, sign_hs256(valid_claims(iss="evil"))), "issuer")


@pytest.mark.parametrize(
    "claim", ["exp", "sub", "iat", "nbf", "jti", "iss", "aud", "typ", "email", "role"]
)
def test_a_token_missing_a_required_claim_is_refused(app, claim):
    assert_refused(bearer(app, sign_hs256(valid_claims(**{claim: None}))), f"'{claim}'")


def test_tampered_payload_is_refused(app, login):
    client, _ = login(app)
    header, claims = unverified(access_token(client))
    encoded_header, _, signature = access_token(client).split(".")
    claims["role"] = "admin"  # promote ourselves, keep the signature
    assert_refused(bearer(app, f"{encoded_header}.{b64(claims)}.{signature}"), "signature")


def test_token_signed_with_another_secret_is_refused(app):
    other = "another-secret-that-is-also-long-enough-0123456789"
    # Claiming the server's kid: the signature check fails.
    server_kid = hmac_kid(app.config["AUTHLAB"].secret_key)
    assert_refused(bearer(app, sign_hs256(valid_claims(), other, kid=server_kid)), "signature")
    # With its own kid: not on the allow-list.
    assert_refused(bearer(app, sign_hs256(valid_claims(), other)), "kid")


def test_unknown_or_missing_kid_is_refused(app):
    secret = app.config["AUTHLAB"].secret_key
    assert_refused(bearer(app, sign_hs256(valid_claims(), kid="../../etc/passwd")), "kid")
    import jwt

    no_kid = jwt.encode(valid_claims(), secret, algorithm="HS256")
    assert_refused(bearer(app, no_kid), "kid")


def test_a_token_of_another_type_is_refused(app):
    """A token this server signed, but not an access token (typ), never passes for one."""
    assert_refused(bearer(app, sign_hs256(valid_claims(typ="refresh"))), "'refresh' token")


def test_a_refresh_token_used_as_an_access_token_is_refused(make_app, login):
    app = make_app("refresh")
    client, _ = login(app)
    opaque = refresh_token(client)
    assert_refused(bearer(app, opaque))
    thief = app.test_client()
    thief.set_cookie("access_token", opaque)
    assert_refused(thief.get("/auth/me"))
    # And the other way round: an access token is no refresh token.
    thief.set_cookie("refresh_token", access_token(client), path="/auth/refresh")
    assert thief.post("/auth/refresh").status_code == 401


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer ...",
        "Bearer " + "A" * 5000,
        "Bearer eyJhbGciOiJIUzI1NiJ9.e30",
        "Bearer",
        "Basic YWRhOnBhc3N3b3Jk",
        "garbage",
        "Bearer \x00\x01",
    ],
)
def test_garbage_in_the_authorization_header_is_refused(app, authorization):
    response = app.test_client().get("/auth/me", headers={"Authorization": authorization})
    assert_refused(response)


@pytest.mark.parametrize("cookie", ["garbage", "a.b.c", "%%%", "x" * 3000, "e30.e30.e30"])
def test_garbage_in_the_cookie_is_refused(app, cookie):
    client = app.test_client()
    client.set_cookie("access_token", cookie)
    assert_refused(client.get("/auth/me"))


def test_the_same_token_works_as_cookie_and_as_bearer(app, login):
    client, body = login(app)
    assert body["access_token"] == access_token(client)
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert bearer(app, body["access_token"]).status_code == 200
    assert client.get("/auth/me").status_code == 200


def test_forged_tokens_never_reach_redis_in_denylist_mode(make_app, redis_server):
    """The signature is checked first: junk costs CPU, not a Redis round trip."""
    app = make_app("denylist")
    forged = sign_hs256(valid_claims(), "another-secret-that-is-also-long-enough-0123456789")
    responses = []
    calls = count_commands(
        redis_server.client(), lambda: responses.extend(bearer(app, forged) for _ in range(5))
    )
    assert calls == {}
    assert all(r.status_code == 401 for r in responses)
    assert responses[0].headers["Server-Timing"].endswith('desc="store=0"')


def test_any_change_to_header_or_payload_is_refused(app, login):
    """Flip every character of the signed part: the signature covers the encoded text, so each
    change is caught (and none of them makes the server fail with a 500)."""
    _, body = login(app)
    token = body["access_token"]
    signed_part = token.rsplit(".", 1)[0]
    alphabet = "AQgw"  # base64url characters differing in every bit position
    client = app.test_client()
    statuses = set()
    for i, char in enumerate(signed_part):
        if char == ".":
            continue
        replacement = next(c for c in alphabet if c != char)
        forged = token[:i] + replacement + token[i + 1 :]
        statuses.add(
            client.get("/auth/me", headers={"Authorization": f"Bearer {forged}"}).status_code
        )
    assert statuses == {401}
