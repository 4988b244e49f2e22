"""Fixtures for the session server's own tests."""

from __future__ import annotations

import pytest

from servers.session_server import create_app
from tests.support.settings import base_config


@pytest.fixture
def make_app(redis_server, sqlite_url):
    """Build session-server apps (replicas) sharing the private Redis and one SQL file."""

    def make(**overrides):
        app = create_app(base_config(redis_server.url, sqlite_url, **overrides))
        app.config["TESTING"] = True
        return app

    return make


@pytest.fixture
def login(make_app):
    """Register Ada on `app` (once) and return a logged-in client of `app`."""

    def do(app, email="ada@example.com", password="correct-horse-1"):
        client = app.test_client()
        client.post("/auth/register", json={"email": email, "password": password, "name": "A"})
        response = client.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.get_json()
        return client

    return do
