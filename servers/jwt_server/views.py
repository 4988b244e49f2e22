"""The JWT server's own routes: POST /auth/refresh (refresh mode) and the JWKS document."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from flask import Blueprint, Flask, current_app, g, jsonify, request

from ..core.backend import reply

if TYPE_CHECKING:
    from .backend import TokenBackend

#: Served in every mode.
keys_bp = Blueprint("jwt_keys", __name__)
#: Served in refresh mode only: elsewhere there is no refresh token to present.
refresh_bp = Blueprint("jwt_refresh", __name__, url_prefix="/auth")


def token_backend() -> TokenBackend:
    """The app's token backend."""
    return current_app.extensions["authlab_backend"]


@keys_bp.get("/.well-known/jwks.json")
def jwks():
    """The public keys that verify our tokens (RS256/EdDSA; an HMAC secret is never published).
    Retired keys stay listed while tokens they signed may live, so verifiers can rotate too."""
    response = jsonify(token_backend().keys.jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@refresh_bp.post("/refresh")
def refresh():
    """Trade the refresh token (cookie, Path=/auth/refresh) for a new one and a new access token.
    A refresh token presented twice, after the grace, revokes its whole family. A refused
    refresh is a 401 that changes no cookie: a cross-site POST carries no refresh cookie, and
    must not be able to log the browser out."""
    backend = token_backend()
    started = time.perf_counter()
    try:
        issued = backend.strategy.refresh(request)  # type: ignore[attr-defined]
    finally:
        # Server-Timing shows the price of a refresh too: one round trip (the rotation script).
        g.auth_ms = (time.perf_counter() - started) * 1000
        g.auth_round_trips = 1 if backend.cookies.read_refresh(request) else 0
        g.auth_checked = True
    return reply(issued.body, issued.cookies)


def register_views(app: Flask, backend: TokenBackend) -> None:
    """JWKS always; /auth/refresh only where there is a refresh token."""
    app.register_blueprint(keys_bp)
    if backend.mode == "refresh":
        app.register_blueprint(refresh_bp)
