"""Request plumbing shared by the views: JSON bodies, the login guard, and the timing headers."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, request

from .backend import AuthBackend, Principal
from .errors import ApiError


def backend() -> AuthBackend:
    """The app's auth backend."""
    return current_app.extensions["authlab_backend"]


def json_body(*required: str) -> dict[str, Any]:
    """The request's JSON object, with the required fields present (415/400 otherwise)."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "malformed_json", "The body is not valid JSON.")
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_input", "The body must be a JSON object.")
    missing = [name for name in required if name not in body]
    if missing:
        raise ApiError(400, "invalid_input", f"Missing field(s): {', '.join(missing)}.")
    return body


def authenticate() -> Principal | None:
    """Run the backend's check once per request and record its cost for Server-Timing."""
    if "auth_checked" not in g:
        started = time.perf_counter()
        check = backend().authenticate(request)
        g.auth_ms = (time.perf_counter() - started) * 1000
        g.auth_round_trips = check.round_trips
        g.auth_checked = True
        g.principal = check.principal
        g.auth_reason = check.reason
    return g.principal


def with_json(response: Response, body: dict[str, Any], status: int | None = None) -> Response:
    """Put a JSON body into a response that a backend has already set cookies on (the backend
    decides the cookies before the body is known)."""
    response.set_data(current_app.json.dumps(body) + "\n")
    if status is not None:
        response.status_code = status
    return response


def login_required(view: Callable) -> Callable:
    """Guard a view: 401 without a valid credential; the view reads `g.principal`."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        if authenticate() is None:
            raise ApiError(401, "unauthorized", g.auth_reason)
        return view(*args, **kwargs)

    return wrapped


def install_response_headers(app: Flask) -> None:
    """X-Replica on every response; Server-Timing wherever the auth check ran."""

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Replica"] = app.config["AUTHLAB"].replica_id
        if g.get("auth_checked"):
            response.headers["Server-Timing"] = (
                f'auth;dur={g.auth_ms:.3f};desc="store={g.auth_round_trips}"'
            )
        # Responses carry credentials or personal data: never cache them.
        response.headers.setdefault("Cache-Control", "no-store")
        return response
