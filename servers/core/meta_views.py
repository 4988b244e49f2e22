"""The `meta` blueprint: health for the load balancer and the OpenAPI contract."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from flask import Blueprint, Flask, current_app, jsonify

from .clock import clock_guard
from .http import backend

bp = Blueprint("meta", __name__)

#: The one contract both servers honour.
OPENAPI_PATH = Path(__file__).with_name("openapi.json")


@cache
def openapi_document() -> dict:
    """The OpenAPI 3.1 document, read once."""
    return json.loads(OPENAPI_PATH.read_text())


def served_document(app: Flask) -> dict:
    """The contract as this server serves it: the operations it has no route for (the JWT
    server's /auth/refresh outside refresh mode, JWKS on the session server) are left out, so a
    client (or a tool like schemathesis) never expects what is not there."""
    if "authlab_openapi" not in app.extensions:
        document = openapi_document()
        adapter = app.url_map.bind("localhost")
        paths = {
            path: operations
            for path, operations in document["paths"].items()
            if adapter.allowed_methods(re.sub(r"\{[^}]+\}", "1", path))
        }
        app.extensions["authlab_openapi"] = {**document, "paths": paths}
    return app.extensions["authlab_openapi"]


@bp.get("/health")
def health():
    """200 while the process serves; the store's state is reported, not a failed check (HAProxy
    must not pull every replica when Redis blips: they would all go down together). 503 only
    when this replica's own clock is off the store's: that one replica must go."""
    b = backend()
    # The store first: guarded, its check reads the epoch marker that the report below shows.
    store = "up" if b.store_up() else "down"
    feed = b.health()
    epoch = b.revocation_store()
    # The clock is checked here, where HAProxy asks every second, never on the request path;
    # a skewed replica answers 503 so the load balancer takes it out (core/clock.py).
    clock = clock_guard(current_app._get_current_object())  # type: ignore[attr-defined]
    if clock is not None:
        clock.check()
    response = jsonify(
        status="clock_skew" if clock is not None and clock.skewed else "ok",
        mechanism=b.mechanism,
        mode=b.mode,
        replica=current_app.config["AUTHLAB"].replica_id,
        store=store,
        **({"feed": feed} if feed else {}),
        **({"revocation_store": epoch} if epoch else {}),
        **({"clock": clock.status()} if clock is not None else {}),
    )
    if clock is not None and clock.skewed:
        response.status_code = 503
    return response


@bp.get("/openapi.json")
def openapi():
    """The API contract, as this server serves it."""
    return jsonify(served_document(current_app._get_current_object()))  # type: ignore[attr-defined]
