"""Request plumbing shared by the views: JSON bodies, path ids, the login guard, OPTIONS, and
the timing headers."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from .backend import AuthBackend, Principal
from .errors import ApiError
from .models import MAX_ID


def _refuse_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (RFC 8259), though Python's parser accepts them."""
    raise ValueError(f"{name} is not valid JSON")


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A key given twice is ambiguous: two parsers may each believe a different value."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate key in a JSON object")
    return obj


def _refuse_lone_surrogates(value: Any) -> None:
    """ "\\ud800" parses to a string no UTF-8 encoder (SQL, bcrypt) accepts: refuse it here
    (I-JSON, RFC 7493). Iterative: the value may be nested as deep as the parser allows."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")  # UnicodeEncodeError is a ValueError
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, but parsing refuses whatever is not plain RFC 8259 JSON with a ValueError,
    which `request.get_json` turns into "no JSON": every reader of the body (the views, the rate
    limiter's key) sees one verdict, and nesting too deep is a 400, not a RecursionError."""

    sort_keys = False  # keep the documented field order in answers

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Decode strictly (UTF-8 only), then parse with the refusals above."""
        if isinstance(s, bytes):
            s = s.decode("utf-8")  # UnicodeDecodeError is a ValueError
        try:
            value = json.loads(
                s, parse_constant=_refuse_constant, object_pairs_hook=_refuse_duplicates
            )
        except RecursionError as exc:  # "[[[[...": the parser's stack, not ours, gave up
            raise ValueError("JSON nested too deeply") from exc
        _refuse_lone_surrogates(value)
        return value


class DatabaseId(IntegerConverter):
    """`<int:...>` in a route: 1 to MAX_ID, the ids SQL can hold; anything else is a 404 from the
    router, never an overflow in the database driver."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def install_request_parsing(app: Flask) -> None:
    """Strict JSON bodies and bounded integer path ids; call before registering blueprints."""
    app.json = StrictJSONProvider(app)
    app.url_map.converters["int"] = DatabaseId


def backend() -> AuthBackend:
    """The app's auth backend."""
    return current_app.extensions["authlab_backend"]


def json_body(*required: str) -> dict[str, Any]:
    """The request's JSON object, with the required fields present (415/400 otherwise)."""
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(
            400, "malformed_json", "The body is not valid JSON (UTF-8, RFC 8259, no duplicates)."
        )
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_input", "The body must be a JSON object.")
    missing = [name for name in required if name not in body]
    if missing:
        raise ApiError(400, "invalid_input", f"Missing field(s): {', '.join(missing)}.")
    return body


def authenticate() -> Principal | None:
    """Run the backend's check once per request and record its cost for Server-Timing."""
    state = g._get_current_object()  # the request's g, looked up once rather than per field
    if "auth_checked" not in state:
        started = time.perf_counter()
        check = current_app.extensions["authlab_backend"].authenticate(request)
        state.auth_ms = (time.perf_counter() - started) * 1000
        state.auth_round_trips = check.round_trips
        state.auth_checked = True
        state.principal = check.principal
        state.auth_reason = check.reason
        state.auth_code = check.code
    return state.principal


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
            raise ApiError(401, g.auth_code, g.auth_reason)
        return view(*args, **kwargs)

    return wrapped


def install_options(app: Flask) -> None:
    """OPTIONS answers JSON naming the allowed methods (Flask's default is an empty 200). No
    CORS headers: another origin's preflight finds nothing that lets it through."""

    @app.before_request
    def _options() -> Response | None:
        if request.method != "OPTIONS" or request.url_rule is None:
            return None
        # Every method of every rule on this path (GET /notes and POST /notes are two rules).
        allowed = sorted(app.make_default_options_response().allow)
        response = jsonify(allow=allowed)
        response.headers["Allow"] = ", ".join(allowed)
        return response


def install_response_headers(app: Flask) -> None:
    """X-Replica on every response; Server-Timing wherever the auth check ran."""

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        # Only this hook writes these two: added, not searched for (`set` scans every header).
        headers.add("X-Replica", app.config["AUTHLAB"].replica_id)
        state = g._get_current_object()
        if "auth_checked" in state:
            headers.add(
                "Server-Timing",
                f'auth;dur={state.auth_ms:.3f};desc="store={state.auth_round_trips}"',
            )
        # Responses carry credentials or personal data: never cache them.
        headers.setdefault("Cache-Control", "no-store")
        return response
