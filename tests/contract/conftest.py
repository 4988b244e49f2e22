"""The contract suite runs once per server, and once per JWT mode: same tests, unchanged."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.bound import DPoPClient
from tests.support.contract import BOUND, SERVERS, AuthActions, Server, close_app
from tests.support.redis_proc import free_port, start_proxy, stop_proxy
from tests.support.settings import base_config

#: The store-heavy modules run once more with Redis 0.2 ms away, behind the lab's latency proxy:
#: the servers must not notice anything but the time (pipelines, Lua and all).
PROXIED_MODULES = ("test_login", "test_revocation", "test_sessions")
PROXY_LATENCY = "0.2ms"
PROXIED = [(f"{name}@{PROXY_LATENCY}", module, settings) for name, module, settings in SERVERS]
#: Where the DPoP configurations do not run: there a test's thief copies a credential and
#: expects the copy to work, and a DPoP-bound copy without the key never does (the point).
#: The DBSC configuration runs everywhere: the contract's clients are its unbound fallback.
DPOP_SKIPS = ("test_revocation", "test_cookies_need_a_credential")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every server configuration; the store-heavy modules also behind the latency proxy."""
    chosen = any(m.args[:1] == ("server",) for m in metafunc.definition.iter_markers("parametrize"))
    if "server" in metafunc.fixturenames and not chosen:  # a test may pick its own servers
        module = metafunc.module.__name__.split(".")[-1]
        params = SERVERS + (PROXIED if module in PROXIED_MODULES else [])
        params += [p for p in BOUND if "dpop" not in p[0] or module not in DPOP_SKIPS]
        metafunc.parametrize("server", params, ids=[p[0] for p in params], indirect=True)


@pytest.fixture(scope="session")
def store_proxy(redis_proc) -> Iterator[str]:
    """A latency proxy in front of the private Redis, for the whole run; its redis:// URL."""
    port = free_port()
    proc = start_proxy(port, redis_proc.port, PROXY_LATENCY)
    yield f"redis://127.0.0.1:{port}/0"
    stop_proxy(proc)


@pytest.fixture
def server(request, redis_server, sqlite_url) -> Iterator[Server]:
    """A server configuration bound to the private Redis (maybe via the proxy), a fresh SQL file."""
    name, module, settings = request.param
    factory = importlib.import_module(module).create_app
    redis_url = request.getfixturevalue("store_proxy") if "@" in name else redis_server.url
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        config = base_config(redis_url, sqlite_url, **{**settings, **overrides})
        app = factory(config)
        app.config["TESTING"] = True
        if settings.get("jwt_binding") == "dpop":
            app.test_client_class = DPoPClient  # signs a proof per request with its own key
        made.append(app)
        return app

    yield Server(name, make)
    # Push-fed replicas read Redis in a thread: stop it with the test.
    for app in made:
        close_app(app)


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
