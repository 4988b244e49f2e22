"""The contract suite runs once per server, and once per JWT mode: same tests, unchanged."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.contract import SERVERS, AuthActions, Server
from tests.support.settings import base_config


@pytest.fixture(params=SERVERS, ids=[s[0] for s in SERVERS])
def server(request, redis_server, sqlite_url) -> Server:
    """A server configuration bound to the private Redis and a fresh SQL file."""
    name, module, settings = request.param
    factory = importlib.import_module(module).create_app

    def make(**overrides: Any) -> Flask:
        config = base_config(redis_server.url, sqlite_url, **{**settings, **overrides})
        app = factory(config)
        app.config["TESTING"] = True
        return app

    return Server(name, make)


@pytest.fixture
def app(server: Server) -> Flask:
    """The app for this server configuration."""
    return server.make()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like client: it keeps cookies."""
    return app.test_client()


@pytest.fixture
def auth(app: Flask) -> AuthActions:
    """Register and log in helpers."""
    return AuthActions(app)
