"""Algorithms and keys: HS256 secrets by kid, RS256 and EdDSA end to end, rotation, JWKS."""

import logging
import os
import stat

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from servers.core.config import ConfigError
from servers.jwt_server.keys import generate_keypair, hmac_kid
from tests.support.settings import TEST_SECRET
from tests.support.tokens import bearer, unverified

NEW_SECRET = "the-next-secret-that-is-long-enough-for-hs256-987654"


def keyed(make_app, algorithm, private=None, public=None, previous=(), **extra):
    """An app signing with `algorithm` and the given key files."""
    return make_app(
        jwt_algorithm=algorithm,
        jwt_private_key_file=str(private) if private else None,
        jwt_public_key_file=str(public) if public else None,
        jwt_previous_public_key_files=tuple(str(p) for p in previous),
        **extra,
    )


# --- HS256 ------------------------------------------------------------------------------------


def test_hs256_kid_is_a_hash_of_the_secret_never_the_secret(make_app, login):
    _, body = login(make_app())
    header, _ = unverified(body["access_token"])
    assert header == {"alg": "HS256", "kid": hmac_kid(TEST_SECRET), "typ": "JWT"}
    assert TEST_SECRET not in body["access_token"]
    assert TEST_SECRET[:8] not in header["kid"]


def test_every_key_of_the_ring_knows_its_tokens_header_in_advance(make_app, login):
    """The codec finds the key of its own tokens from their first segment, byte for byte what
    PyJWT writes, so the header is not parsed twice; any other header is parsed and checked."""
    rotated = make_app(secret_keys=(NEW_SECRET, TEST_SECRET))
    codec = rotated.extensions["authlab_backend"].codec
    for app in (make_app(), rotated):
        _, body = login(app)
        head = body["access_token"].split(".", 1)[0]
        assert codec._by_header[head].kid == unverified(body["access_token"])[0]["kid"]
    assert len(codec._by_header) == 2


def test_hs256_secret_rotation(make_app, login):
    """SECRET_KEY=new,old: the new secret signs, the old one still verifies until it is dropped."""
    before = make_app()
    _, body = login(before)
    old_token = body["access_token"]

    rotated = make_app(secret_keys=(NEW_SECRET, TEST_SECRET))
    assert bearer(rotated, old_token).status_code == 200
    _, body = login(rotated)
    assert unverified(body["access_token"])[0]["kid"] == hmac_kid(NEW_SECRET)
    assert rotated.test_client().get("/.well-known/jwks.json").get_json() == {"keys": []}

    retired = make_app(secret_keys=(NEW_SECRET,))
    assert bearer(retired, body["access_token"]).status_code == 200
    response = bearer(retired, old_token)
    assert response.status_code == 401 and "kid" in response.get_json()["message"]


# --- RS256 and EdDSA --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("algorithm", "key_type"),
    [("RS256", rsa.RSAPrivateKey), ("EdDSA", ed25519.Ed25519PrivateKey)],
)
@pytest.mark.parametrize("mode", ["stateless", "denylist", "refresh"])
def test_asymmetric_end_to_end(make_app, login, tmp_path, algorithm, key_type, mode):
    private, public = generate_keypair(algorithm, tmp_path)
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    app = keyed(make_app, algorithm, private, public, mode=mode)
    # Parsed once at start: the backend holds key objects, not PEM text.
    assert isinstance(app.extensions["authlab_backend"].keys.signer.signing, key_type)

    client, body = login(app)
    header, claims = unverified(body["access_token"])
    assert header["alg"] == algorithm
    assert client.get("/auth/me").status_code == 200
    assert bearer(app, body["access_token"]).status_code == 200

    # Anyone can verify with the published key, as a separate API would.
    jwks = client.get("/.well-known/jwks.json")
    assert jwks.headers["Cache-Control"] == "public, max-age=300"
    (jwk,) = jwks.get_json()["keys"]
    assert jwk["kid"] == header["kid"] and jwk["alg"] == algorithm and jwk["use"] == "sig"
    assert "d" not in jwk  # never the private part
    verified = jwt.decode(
        body["access_token"],
        jwt.PyJWK(jwk).key,
        algorithms=[algorithm],
        audience="authlab-api",
        issuer="authlab",
    )
    assert verified["jti"] == claims["jti"]

    if mode == "refresh":
        assert client.post("/auth/refresh").status_code == 200
    if mode == "denylist":
        client.post("/auth/logout")
        assert bearer(app, body["access_token"]).status_code == 401


def test_replicas_sharing_key_files_accept_each_others_tokens(make_app, login, tmp_path):
    private, public = generate_keypair("EdDSA", tmp_path)
    replica_1 = keyed(make_app, "EdDSA", private, public)
    replica_2 = keyed(make_app, "EdDSA", private, None, replica_id="test-2")
    _, body = login(replica_1)
    assert bearer(replica_2, body["access_token"]).status_code == 200


def test_asymmetric_key_rotation(make_app, login, tmp_path):
    """A new key signs; the retired public key verifies until its tokens expire; then drop it."""
    old_private, old_public = generate_keypair("RS256", tmp_path / "old")
    new_private, new_public = generate_keypair("RS256", tmp_path / "new")
    _, body = login(keyed(make_app, "RS256", old_private, old_public))
    old_token = body["access_token"]

    rotated = keyed(make_app, "RS256", new_private, new_public, previous=[old_public])
    assert bearer(rotated, old_token).status_code == 200
    _, body = login(rotated)
    new_kid = unverified(body["access_token"])[0]["kid"]
    kids = [k["kid"] for k in rotated.test_client().get("/.well-known/jwks.json").json["keys"]]
    assert kids == [new_kid, unverified(old_token)[0]["kid"]]

    retired = keyed(make_app, "RS256", new_private, new_public)
    assert bearer(retired, old_token).status_code == 401
    assert bearer(retired, body["access_token"]).status_code == 200


def test_rotation_across_algorithms(make_app, login, tmp_path):
    """Each key is bound to the algorithm of its type: RS256 tokens still verify after a move
    to EdDSA, and only as RS256."""
    rsa_private, rsa_public = generate_keypair("RS256", tmp_path)
    ed_private, ed_public = generate_keypair("EdDSA", tmp_path)
    _, body = login(keyed(make_app, "RS256", rsa_private, rsa_public))
    moved = keyed(make_app, "EdDSA", ed_private, ed_public, previous=[rsa_public])
    assert bearer(moved, body["access_token"]).status_code == 200
    algs = [k["alg"] for k in moved.test_client().get("/.well-known/jwks.json").json["keys"]]
    assert algs == ["EdDSA", "RS256"]


def test_no_key_files_means_an_ephemeral_pair_and_a_warning(make_app, login, caplog):
    with caplog.at_level(logging.WARNING, logger="servers.jwt_server.keys"):
        first = make_app(jwt_algorithm="EdDSA")
    assert "ephemeral key pair" in caplog.text
    _, body = login(first)
    assert bearer(first, body["access_token"]).status_code == 200
    # Another process generates another pair: it cannot verify this token.
    assert bearer(make_app(jwt_algorithm="EdDSA"), body["access_token"]).status_code == 401


# --- refusing to start ------------------------------------------------------------------------


def test_bad_key_configuration_refuses_to_start(make_app, tmp_path):
    rsa_private, rsa_public = generate_keypair("RS256", tmp_path / "a")
    _, other_public = generate_keypair("RS256", tmp_path / "b")
    ed_private, _ = generate_keypair("EdDSA", tmp_path / "c")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    cases = [
        ({"jwt_algorithm": "none"}, "JWT_ALGORITHM"),
        ({"jwt_algorithm": "HS512"}, "JWT_ALGORITHM"),
        ({"jwt_algorithm": "RS256", "jwt_private_key_file": str(ed_private)}, "EdDSA"),
        (
            {
                "jwt_algorithm": "RS256",
                "jwt_private_key_file": str(rsa_private),
                "jwt_public_key_file": str(other_public),
            },
            "public half",
        ),
        ({"jwt_algorithm": "RS256", "jwt_public_key_file": str(rsa_public)}, "without"),
        ({"jwt_algorithm": "RS256", "jwt_private_key_file": str(garbage)}, "PEM"),
        ({"jwt_algorithm": "RS256", "jwt_private_key_file": str(tmp_path / "nope")}, "read"),
        ({"jwt_previous_public_key_files": (str(garbage),)}, "PEM"),
        ({"secret_keys": ("too-short",)}, "32"),
        ({"access_token_ttl": -5}, "ACCESS_TOKEN_TTL"),
        ({"refresh_token_ttl": 0}, "REFRESH_TOKEN_TTL"),
    ]
    for settings, words in cases:
        with pytest.raises(ConfigError, match=words):
            make_app(**settings)


def test_leeway_and_grace_come_from_config_or_environment(make_app, monkeypatch):
    monkeypatch.setenv("JWT_LEEWAY", "2")
    monkeypatch.setenv("JWT_REFRESH_GRACE", "1.5")
    backend = make_app("refresh").extensions["authlab_backend"]
    assert (backend.leeway, backend.strategy.store.grace) == (2.0, 1.5)
    backend = make_app("refresh", jwt_leeway=0).extensions["authlab_backend"]
    assert backend.leeway == 0.0
    monkeypatch.setenv("JWT_LEEWAY", "soon")
    with pytest.raises(ConfigError, match="JWT_LEEWAY"):
        make_app()
