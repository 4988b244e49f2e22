"""The usual Flask stack, as a reference: Flask-Session (Redis) + Flask-Login, their defaults.

This is what most Flask tutorials build: the session dict lives in Redis under a random id,
Flask-Login keeps the user id in it and loads the user on every request. With the defaults,
every request rewrites the Redis key and re-sends Set-Cookie (SESSION_REFRESH_EACH_REQUEST).
The user loader builds the user from its id, reading no database: generous to this stack, since
the AuthLab servers read no database on /auth/me either. Login checks no password: only /auth/me
is measured.
"""

from __future__ import annotations

import os
from typing import Any

import redis
from flask import Flask, jsonify, request
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from flask_session import Session


class User(UserMixin):
    """An account, held in memory."""

    def __init__(self, user_id: int, email: str, name: str):
        self.id = user_id
        self.email = email
        self.name = name

    def to_json(self) -> dict[str, Any]:
        """The fields /auth/me answers with."""
        return {"id": self.id, "email": self.email, "name": self.name, "role": "user"}


def create_app(redis_url: str | None = None, secret_key: str | None = None) -> Flask:
    """Flask-Session on Redis, Flask-Login on top; REDIS_URL and SECRET_KEY from the
    environment unless given."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret_key or os.environ["SECRET_KEY"]
    app.config["SESSION_TYPE"] = "redis"
    app.config["SESSION_REDIS"] = redis.Redis.from_url(redis_url or os.environ["REDIS_URL"])
    Session(app)
    login_manager = LoginManager(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> User:
        # Stands in for a database read, at no cost: any worker can serve any session.
        return User(int(user_id), f"user{user_id}@example.com", "Bench")

    @app.post("/auth/login")
    def login():
        body = request.get_json(force=True)
        user = User(int(body.get("id", 1)), body["email"], body.get("name", "Bench"))
        login_user(user)
        return jsonify(user=user.to_json())

    @app.get("/auth/me")
    @login_required
    def me():
        return jsonify(user=current_user.to_json())

    return app
