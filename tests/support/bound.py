"""A Flask test client that holds a DPoP key and proves it on every request, as a DPoP-aware
browser script would: the contract tests then run unchanged against a bound JWT server."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from werkzeug.datastructures import Headers

from loadtests.bound import ClientKey

#: The test client's default origin (what the server sees as scheme and host).
BASE_URL = "http://localhost"


class DPoPClient(FlaskClient):
    """Signs a fresh proof per request with its own key; a bound token travels as `DPoP`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key = ClientKey()

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        """The request, with a `DPoP` header for its method and URL (and token, if any)."""
        if args and isinstance(args[0], str):
            headers = Headers(kwargs.get("headers") or {})
            token = self.token(headers)
            url = (kwargs.get("base_url") or BASE_URL).rstrip("/") + args[0]
            headers["DPoP"] = self.key.dpop_proof(kwargs.get("method", "GET"), url, token)
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def token(self, headers: Headers) -> str | None:
        """The access token this request carries: the header's (switched to the DPoP scheme,
        as RFC 9449 7.1 wants for a bound token) or the cookie's."""
        scheme, _, token = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and token:
            headers["Authorization"] = f"DPoP {token}"
            return token
        cookie = self.get_cookie("access_token")
        return cookie.value if cookie is not None else None
