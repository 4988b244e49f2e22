"""Reading, replaying and forging JWTs in tests: what a client (or an attacker) can do."""

from __future__ import annotations

import base64
import json
import time

import jwt

from tests.support.settings import TEST_SECRET

#: The password the JWT tests register their users with.
PASSWORD = "correct-horse-1"


def access_token(client) -> str:
    """The client's access-token cookie."""
    return client.get_cookie("access_token").value


def refresh_token(client) -> str:
    """The client's refresh-token cookie (it lives at Path=/auth/refresh)."""
    return client.get_cookie("refresh_token", path="/auth/refresh").value


def bearer(app, token: str, path: str = "/auth/me"):
    """GET `path` with only an Authorization: Bearer header (a fresh client, no cookies)."""
    return app.test_client().get(path, headers={"Authorization": f"Bearer {token}"})


def b64(data: dict | bytes) -> str:
    """Base64url JSON (or bytes), no padding."""
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unverified(token: str) -> tuple[dict, dict]:
    """(header, claims) of a token, without checking anything: what an attacker can read."""
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def valid_claims(**changes) -> dict:
    """Claims like the server's, for a user that exists (id 1: the admin), with `changes`."""
    now = time.time()
    claims = {
        "sub": "1",
        "iat": now,
        "nbf": int(now),
        "exp": int(now) + 300,
        "jti": "forged-jti",
        "iss": "authlab",
        "aud": "authlab-api",
        "typ": "access",
        "email": "admin@example.com",
        "name": "Administrator",
        "role": "admin",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def sign_hs256(claims: dict, secret: str = TEST_SECRET, kid: str | None = None) -> str:
    """An HS256 token signed with `secret` (by default the server's own)."""
    from servers.jwt_server.keys import hmac_kid

    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": kid or hmac_kid(secret)})


def authenticated_mix(app, client, token: str, n: int) -> list:
    """`n` authenticated requests, cookie and Bearer alike, /auth/me and /notes alike: the
    traffic whose Redis cost the round-trip tests count."""
    return [client.get("/auth/me") if i % 2 else bearer(app, token, "/notes") for i in range(n)]
