"""A replica whose clock is off the store's serves nothing, on both servers (core/clock.py).

The clock is the real one, read through `time.time` as the servers read it; a skew is made by
shifting what this process's `time.time` answers, as a drifting host would (the lab's `chaos`
command does the same to a real gunicorn replica).
"""

from __future__ import annotations

import time

import pytest

from servers.core import clock as clock_module
from servers.jwt_server import create_app as create_jwt_app
from servers.session_server import create_app as create_session_app
from tests.support.contract import AuthActions
from tests.support.settings import base_config

FACTORIES = {"session": create_session_app, "jwt-denylist": create_jwt_app}
SETTINGS = {"session": {}, "jwt-denylist": {"jwt_mode": "denylist"}}


@pytest.fixture(params=sorted(FACTORIES))
def app(request, redis_server, sqlite_url):
    """A server on the private Redis, clock checked at start (right, here)."""
    name = request.param
    app = FACTORIES[name](base_config(redis_server.url, sqlite_url, **SETTINGS[name]))
    app.config["TESTING"] = True
    return app


def shift_clock(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """This process's clock runs `seconds` ahead (negative: behind) of the store's."""
    real = time.time
    monkeypatch.setattr(clock_module.time, "time", lambda: real() + seconds)


def logged_in(app):
    """A registered user's browser-like client, logged in."""
    actions = AuthActions(app)
    actions.register()
    return actions.login()


def test_a_right_clock_serves_and_says_so(app):
    client = logged_in(app)
    health = client.get("/health")
    assert health.status_code == 200
    assert health.get_json()["clock"]["skewed"] is False
    assert abs(health.get_json()["clock"]["offset_s"]) < 1
    assert client.get("/auth/me").status_code == 200


@pytest.mark.parametrize("skew", [120.0, -120.0], ids=["ahead", "behind"])
def test_a_skewed_replica_refuses_everything_with_an_honest_503(app, monkeypatch, skew):
    client = logged_in(app)
    shift_clock(monkeypatch, skew)
    health = client.get("/health")  # where the clock is checked: HAProxy pulls the replica
    assert health.status_code == 503
    assert health.get_json()["status"] == "clock_skew"
    assert health.get_json()["clock"]["skewed"] is True
    refused = client.get("/auth/me")
    assert refused.status_code == 503
    body = refused.get_json()
    assert body["error"] == "clock_skew"
    assert ("ahead of" if skew > 0 else "behind") in body["message"]
    assert refused.headers["Retry-After"] == "1"
    login = client.post(
        "/auth/login", json={"email": "ada@example.com", "password": "correct-horse-1"}
    )
    assert login.status_code == 503  # no token minted with a wrong iat


def test_the_replica_serves_again_once_its_clock_is_right(app, monkeypatch):
    client = logged_in(app)
    shift_clock(monkeypatch, 60.0)
    assert client.get("/health").status_code == 503
    monkeypatch.undo()
    assert client.get("/health").status_code == 200
    assert client.get("/auth/me").status_code == 200


def test_a_skew_within_the_allowance_is_served(app, monkeypatch):
    client = logged_in(app)
    shift_clock(monkeypatch, 0.5)  # CLOCK_MAX_SKEW defaults to 1 s
    assert client.get("/health").status_code == 200
    assert client.get("/auth/me").status_code == 200
