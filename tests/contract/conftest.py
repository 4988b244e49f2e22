"""The contract suite runs once per server, and once per JWT mode: same tests, unchanged."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from lab.latency_proxy import start_proxy, stop_proxy
from lab.processes import free_port
from tests.conftest import base_config

#: (id, factory module, settings) for every server configuration the contract covers.
SERVERS = [
    ("session", "servers.session_server", {"session_store": "redis"}),
    ("jwt-stateless", "servers.jwt_server", {"jwt_mode": "stateless"}),
    ("jwt-denylist", "servers.jwt_server", {"jwt_mode": "denylist"}),
    ("jwt-refresh", "servers.jwt_server", {"jwt_mode": "refresh"}),
]

#: The store-heavy modules run once more with Redis 0.2 ms away, behind the lab's latency proxy:
#: the servers must not notice anything but the time (pipelines, Lua and all).
PROXIED_MODULES = ("test_login", "test_revocation", "test_sessions")
PROXY_LATENCY = "0.2ms"
PROXIED = [(f"{name}@{PROXY_LATENCY}", module, settings) for name, module, settings in SERVERS]

OPENAPI = json.loads((Path(__file__).parents[2] / "servers" / "core" / "openapi.json").read_text())


@dataclass
class Server:
    """One server configuration under test, and a way to build more apps like it."""

    name: str
    make: Callable[..., Flask]

    @property
    def mechanism(self) -> str:
        """ "session" or "jwt"."""
        return "session" if self.name.split("@")[0] == "session" else "jwt"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every server configuration; the store-heavy modules also behind the latency proxy."""
    if "server" in metafunc.fixturenames:
        params = SERVERS + (
            PROXIED if metafunc.module.__name__.split(".")[-1] in PROXIED_MODULES else []
        )
        metafunc.parametrize("server", params, ids=[p[0] for p in params], indirect=True)


@pytest.fixture(scope="session")
def store_proxy(redis_proc) -> Iterator[str]:
    """A latency proxy in front of the private Redis, for the whole run; its redis:// URL."""
    port = free_port()
    proc = start_proxy(port, redis_proc.port, PROXY_LATENCY)
    yield f"redis://127.0.0.1:{port}/0"
    stop_proxy(proc)


@pytest.fixture
def server(request, redis_server, sqlite_url) -> Server:
    """A server configuration bound to the private Redis (maybe via the proxy), a fresh SQL file."""
    name, module, settings = request.param
    factory = importlib.import_module(module).create_app
    redis_url = request.getfixturevalue("store_proxy") if "@" in name else redis_server.url

    def make(**overrides: Any) -> Flask:
        config = base_config(redis_url, sqlite_url, **{**settings, **overrides})
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


class AuthActions:
    """Register and log in, as the tests' users do."""

    def __init__(self, app: Flask):
        self.app = app

    def register(
        self, email: str = "ada@example.com", password: str = "correct-horse-1", name: str = "Ada"
    ) -> dict:
        client = self.app.test_client()
        response = client.post(
            "/auth/register", json={"email": email, "password": password, "name": name}
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()["user"]

    def login(
        self,
        client: FlaskClient | None = None,
        email: str = "ada@example.com",
        password: str = "correct-horse-1",
    ) -> FlaskClient:
        client = client or self.app.test_client()
        response = client.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.get_json()
        return client

    def user_client(self, email: str = "ada@example.com") -> FlaskClient:
        """Register (if needed) and return a logged-in client."""
        with self.app.test_client() as probe:
            probe.post(
                "/auth/register",
                json={"email": email, "password": "correct-horse-1", "name": "Ada"},
            )
        return self.login(email=email)


@pytest.fixture
def auth(app: Flask) -> AuthActions:
    """Register and log in helpers."""
    return AuthActions(app)


def copy_credential(source: FlaskClient, target: FlaskClient) -> None:
    """Give `target` the cookies `source` holds: what an attacker does with a stolen cookie."""
    for cookie in source._cookies.values():  # noqa: SLF001 (the test client's jar)
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def assert_matches(response, path: str, method: str) -> dict:
    """The response body is JSON and matches the OpenAPI schema documented for its status."""
    assert response.is_json, response.get_data(as_text=True)[:200]
    body = response.get_json()
    operation = OPENAPI["paths"][path][method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{method} {path} answered {response.status_code}, undocumented"
    schema = documented.get("content", {}).get("application/json", {}).get("schema")
    if schema is not None:
        root = {**schema, "components": OPENAPI["components"]}
        Draft202012Validator(root).validate(body)
    return body
