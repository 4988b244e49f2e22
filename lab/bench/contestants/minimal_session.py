"""The session mechanism's own limit: one Redis GET of the id an opaque cookie carries.

The smallest app that does server-side sessions at all, under the same gunicorn and on the same
kind of Redis as the session server: login stores the user as JSON under a random 256-bit id
(with a TTL) and sets the id as a cookie; /auth/me reads that one key and answers the user. No
signature, no hashing of the id, no sliding expiry, no per-user index, no security headers:
whatever the session server does beyond this is its own cost, measured against this.
"""

from __future__ import annotations

import json
import os
import secrets

import redis
from flask import Flask, jsonify, request

#: The cookie that carries the id, as the session server names it.
COOKIE = "sid"
#: Seconds a session lives (the session server's idle timeout by default).
TTL = 1800


def create_app(redis_url: str | None = None) -> Flask:
    """Login (no password check: only /auth/me is measured) and /auth/me on one Redis."""
    app = Flask(__name__)
    store = redis.Redis.from_url(redis_url or os.environ["REDIS_URL"], decode_responses=True)

    @app.post("/auth/login")
    def login():
        body = request.get_json(force=True)
        user = {"id": 1, "email": body["email"], "name": body.get("name", "Bench"), "role": "user"}
        session_id = secrets.token_urlsafe(32)
        store.set("s:" + session_id, json.dumps(user), ex=TTL)
        response = jsonify(user=user)
        response.set_cookie(COOKIE, session_id, max_age=TTL, httponly=True, samesite="Lax")
        return response

    @app.get("/auth/me")
    def me():
        raw = store.get("s:" + request.cookies.get(COOKIE, ""))
        if raw is None:
            return jsonify(error="unauthorized"), 401
        return jsonify(user=json.loads(raw))

    return app
