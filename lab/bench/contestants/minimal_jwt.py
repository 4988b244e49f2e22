"""The JWT mechanism's own limit: one PyJWT HS256 decode with the JWT server's claim checks.

The smallest app that does stateless JWTs at all, under the same gunicorn: login signs a token
with the same claims as the JWT server (sub, iat, nbf, exp, jti, iss, aud, typ and the user) and
sets it as a cookie; /auth/me runs one `jwt.decode` with the algorithm pinned, the audience and
issuer checked, every claim required and the same leeway, checks `typ`, and answers the user.
No key ring, no `kid` allow-list, no Bearer header, no security headers: whatever the JWT server
does beyond this is its own cost, measured against this.
"""

from __future__ import annotations

import os
import secrets
import time

import jwt
from flask import Flask, jsonify, request

#: The cookie that carries the token, as the JWT server names it.
COOKIE = "access_token"
#: The JWT server's defaults: lifetime, leeway, issuer, audience, required claims.
TTL = 900
LEEWAY = 5.0
ISSUER = "authlab"
AUDIENCE = "authlab-api"
REQUIRED = ["sub", "iat", "nbf", "exp", "jti", "iss", "aud", "typ", "email", "name", "role"]


def create_app(secret_key: str | None = None) -> Flask:
    """Login (no password check: only /auth/me is measured) and /auth/me, HS256."""
    app = Flask(__name__)
    secret = secret_key or os.environ["SECRET_KEY"]

    @app.post("/auth/login")
    def login():
        body = request.get_json(force=True)
        now = round(time.time(), 3)
        claims = {
            "sub": "1", "iat": now, "nbf": int(now), "exp": int(now) + TTL,
            "jti": secrets.token_urlsafe(16), "iss": ISSUER, "aud": AUDIENCE, "typ": "access",
            "email": body["email"], "name": body.get("name", "Bench"), "role": "user",
        }  # fmt: skip
        response = jsonify(user={"id": 1, "email": claims["email"], "name": claims["name"]})
        token = jwt.encode(claims, secret, algorithm="HS256")
        response.set_cookie(COOKIE, token, max_age=TTL, httponly=True, samesite="Lax")
        return response

    @app.get("/auth/me")
    def me():
        try:
            claims = jwt.decode(
                request.cookies.get(COOKIE, ""),
                secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=LEEWAY,
                options={"require": REQUIRED},
            )
        except jwt.InvalidTokenError:
            return jsonify(error="unauthorized"), 401
        if claims["typ"] != "access":
            return jsonify(error="unauthorized"), 401
        user = {"id": int(claims["sub"]), **{k: claims[k] for k in ("email", "name", "role")}}
        return jsonify(user=user)

    return app
