"""One error shape for every failure: `{"error": code, "message": sentence}`, never HTML."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

#: Werkzeug's exception names are not codes a client can switch on; these are.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    429: "rate_limited",
    431: "headers_too_large",
    503: "store_unavailable",
}


class ApiError(Exception):
    """An error the API answers on purpose, with its status, code and a human sentence."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class StoreUnavailable(ApiError):
    """The credential store (Redis) did not answer: fail closed, tell the client to retry."""

    def __init__(self, message: str = "The session store is unavailable; try again shortly."):
        super().__init__(503, "store_unavailable", message, {"Retry-After": "1"})


class NotDurable(StoreUnavailable):
    """A write the client would rely on reached the Redis primary, but no replica acknowledged
    it in time: a failover now could lose it, so the server promises nothing (and retries help:
    the replica may be back, or a new primary elected)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None):
    """A JSON error response."""
    response = jsonify(error=code, message=message)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Turn every error, expected or not, into the JSON shape; a bug becomes a logged 500."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        code = HTTP_CODES.get(status, "http_error")
        message = exc.description or exc.name
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"The request body is larger than the {limit}-byte limit."
        elif status == 429:
            message = f"Too many failed attempts; limit is {exc.description}. Try again later."
        headers = {k: v for k, v in exc.get_headers() if k == "Allow"}
        if status == 429:
            limit = getattr(exc, "limit", None)
            window = limit.limit.get_expiry() if limit is not None else 60
            headers["Retry-After"] = str(window)
        response = error_response(status, code, message, headers)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # Never a stack trace on the wire: log it, answer a generic sentence.
        log.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on the server.")
