"""Helpers for replicas fed by the revocation stream (JWT_MODE=push, SESSION_STORE=cached)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from flask import Flask

from tests.support.contract import close_app


def replica_factory(build: Callable[..., Flask], default_id: str) -> Iterator[Callable[..., Flask]]:
    """Yield `make(replica_id=..., **overrides)`; every replica's feed reader stops afterwards."""
    made: list[Flask] = []

    def make(replica_id: str = default_id, **overrides) -> Flask:
        app = build(replica_id=replica_id, **overrides)
        made.append(app)
        return app

    yield make
    for app in made:
        close_app(app)


def wait_live(app: Flask) -> None:
    """Until the replica's reader has completed a first read (a start takes milliseconds)."""
    deadline = time.monotonic() + 10
    while app.test_client().get("/health").get_json()["feed"]["state"] != "live":
        assert time.monotonic() < deadline, "the feed never became live"
        time.sleep(0.02)
