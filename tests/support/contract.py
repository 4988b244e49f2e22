"""What the contract tests share: the servers they cover, the OpenAPI document, and helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

#: (id, factory module, settings) for every server configuration the contract covers.
SERVERS = [
    ("session", "servers.session_server", {"session_store": "redis"}),
    ("session-cached", "servers.session_server", {"session_store": "cached"}),
    ("jwt-stateless", "servers.jwt_server", {"jwt_mode": "stateless"}),
    ("jwt-denylist", "servers.jwt_server", {"jwt_mode": "denylist"}),
    ("jwt-refresh", "servers.jwt_server", {"jwt_mode": "refresh"}),
    ("jwt-push", "servers.jwt_server", {"jwt_mode": "push"}),
]

#: Bound configurations (docs/binding.md). The contract's clients do not answer DBSC's
#: registration offer, so "session-dbsc" runs the whole contract as the draft's fallback (an
#: unsupporting browser); the DPoP ones sign a proof per request (tests/support/bound.py).
BOUND = [
    ("session-dbsc", "servers.session_server", {"session_binding": "dbsc"}),
    ("jwt-stateless-dpop", "servers.jwt_server", {"jwt_mode": "stateless", "jwt_binding": "dpop"}),
    ("jwt-denylist-dpop", "servers.jwt_server", {"jwt_mode": "denylist", "jwt_binding": "dpop"}),
    ("jwt-refresh-dpop", "servers.jwt_server", {"jwt_mode": "refresh", "jwt_binding": "dpop"}),
]

OPENAPI = json.loads((Path(__file__).parents[2] / "servers" / "core" / "openapi.json").read_text())


@dataclass(frozen=True)
class Promises:
    """What a configuration promises, so each test checks the branch its server must take."""

    #: A copied credential is dead (401) right after logout or revocation.
    revokes: bool
    #: It lists the user's sessions (and can revoke one by id).
    tracks_sessions: bool
    #: An authenticated request needs Redis (503 while Redis is down).
    needs_store: bool


#: One row per entry of SERVERS: a new configuration must say what it promises.
PROMISES = {
    "session": Promises(revokes=True, tracks_sessions=True, needs_store=True),
    "jwt-stateless": Promises(revokes=False, tracks_sessions=False, needs_store=False),
    "jwt-denylist": Promises(revokes=True, tracks_sessions=False, needs_store=True),
    "jwt-refresh": Promises(revokes=False, tracks_sessions=True, needs_store=False),
    # Push-fed memory: revoked once every replica confirmed; during a Redis outage a session
    # not cached yet needs Redis, while a push replica serves from memory up to its bound.
    "session-cached": Promises(revokes=True, tracks_sessions=True, needs_store=True),
    "jwt-push": Promises(revokes=True, tracks_sessions=False, needs_store=False),
    "session-dbsc": Promises(revokes=True, tracks_sessions=True, needs_store=True),
    # The replay check (DPOP_REPLAY_STORE=redis) makes every bound request need the store.
    "jwt-stateless-dpop": Promises(revokes=False, tracks_sessions=False, needs_store=True),
    "jwt-denylist-dpop": Promises(revokes=True, tracks_sessions=False, needs_store=True),
    "jwt-refresh-dpop": Promises(revokes=False, tracks_sessions=True, needs_store=True),
}


@dataclass
class Server:
    """One server configuration under test, and a way to build more apps like it."""

    name: str
    make: Callable[..., Flask]

    @property
    def promises(self) -> Promises:
        """What this configuration promises (PROMISES)."""
        return PROMISES[self.configuration]

    @property
    def configuration(self) -> str:
        """The entry of SERVERS ("session@0.2ms" is "session" with Redis behind a proxy)."""
        return self.name.split("@")[0]

    @property
    def mechanism(self) -> str:
        """ "session" or "jwt"."""
        return "session" if self.configuration.startswith("session") else "jwt"


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


def close_app(app: Flask) -> None:
    """Stop whatever the app runs in the background (a push feed's reader thread)."""
    backend = app.extensions["authlab_backend"]
    for part in (backend, getattr(backend, "strategy", None), getattr(backend, "store", None)):
        close = getattr(part, "close", None)
        if callable(close):
            close()


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
    if "$ref" in documented:  # a shared answer: "#/components/responses/Name"
        documented = OPENAPI["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
    schema = documented.get("content", {}).get("application/json", {}).get("schema")
    if schema is not None:
        root = {**schema, "components": OPENAPI["components"]}
        Draft202012Validator(root).validate(body)
    return body
