"""Fixtures for the JWT server's own tests: apps per mode and algorithm, logins, forged tokens."""

from __future__ import annotations

import pytest

from servers.jwt_server import create_app
from tests.support.settings import base_config
from tests.support.tokens import PASSWORD


@pytest.fixture
def make_app(redis_server, sqlite_url):
    """Build JWT-server apps (replicas) sharing the private Redis and one SQL file.

    Keyword overrides are Settings fields (e.g. jwt_leeway, jwt_refresh_grace).
    """

    def make(mode: str = "stateless", **overrides):
        app = create_app(base_config(redis_server.url, sqlite_url, jwt_mode=mode, **overrides))
        app.config["TESTING"] = True
        return app

    return make


@pytest.fixture
def login():
    """Register a user on `app` (once) and return a logged-in client and the login body."""

    def do(app, email="ada@example.com", password=PASSWORD, user_agent="pytest"):
        client = app.test_client()
        client.environ_base["HTTP_USER_AGENT"] = user_agent
        client.post("/auth/register", json={"email": email, "password": password, "name": "Ada"})
        response = client.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.get_json()
        return client, response.get_json()

    return do
