"""The floor: a bare Flask app that answers /auth/me with a fixed user and checks nothing.

No auth server can be faster than this under the same gunicorn: every contestant of
`python -m lab bench --http` is reported as a share of its req/s, measured in the same round.
"""

from __future__ import annotations

from flask import Flask, jsonify

#: The body every contestant answers /auth/me with, give or take the fields.
USER = {"id": 1, "email": "bench@example.com", "name": "Bench", "role": "user"}


def create_app() -> Flask:
    """One JSON route, as small as Flask allows."""
    app = Flask(__name__)

    @app.get("/auth/me")
    def me():
        return jsonify(user=USER)

    return app
