"""The `meta` blueprint: health for the load balancer and the OpenAPI contract."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from flask import Blueprint, current_app, jsonify

from .http import backend

bp = Blueprint("meta", __name__)

#: The one contract both servers honour.
OPENAPI_PATH = Path(__file__).with_name("openapi.json")


@cache
def openapi_document() -> dict:
    """The OpenAPI 3.1 document, read once."""
    return json.loads(OPENAPI_PATH.read_text())


@bp.get("/health")
def health():
    """Always 200 while the process serves; the store's state is reported, not a failed check
    (HAProxy must not pull every replica when Redis blips: they would all go down together)."""
    b = backend()
    feed = b.health()
    return jsonify(
        status="ok",
        mechanism=b.mechanism,
        mode=b.mode,
        replica=current_app.config["AUTHLAB"].replica_id,
        store="up" if b.store_up() else "down",
        **({"feed": feed} if feed else {}),
    )


@bp.get("/openapi.json")
def openapi():
    """The API contract."""
    return jsonify(openapi_document())
