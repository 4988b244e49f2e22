"""Where the tokens travel: an HttpOnly cookie (as in the tutorial) or `Authorization: Bearer`.

- `access_token`: the JWT, Path=/, HttpOnly (no JavaScript can read it, so an XSS cannot steal
  it), SameSite=Lax (not sent on cross-site POSTs: CSRF), Secure from COOKIE_SECURE.
- `refresh_token` (refresh mode): the opaque refresh token, Path=/auth/refresh, so the browser
  sends it to that one endpoint and nowhere else; a leak through any other route is impossible.

The same access token works either way. When both are present the header wins: a client that
sends one means it. The flags are set where every cookie is written, `servers.core.backend.reply`.
"""

from __future__ import annotations

import secrets

from flask import Request

from ..core.backend import Cookie

ACCESS_COOKIE = "access_token"
REFRESH_COOKIE = "refresh_token"
#: The refresh token is sent to this path only (and its sub-paths).
REFRESH_PATH = "/auth/refresh"
#: 256 bits from the OS CSPRNG, like a session id.
REFRESH_TOKEN_BYTES = 32


class BadCredential(Exception):
    """A credential is present but malformed (e.g. `Authorization: Basic ...`)."""


def new_refresh_token() -> str:
    """A fresh, unguessable refresh token: opaque, it means something only to our Redis."""
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


class TokenCookies:
    """Reads the tokens from a request; says which cookies to set or expire (`reply` writes)."""

    @staticmethod
    def read_access(request: Request) -> tuple[str, str] | None:
        """(token, "bearer"|"dpop"|"cookie"), None if absent; BadCredential when malformed."""
        header = request.headers.get("Authorization")
        if header is not None:
            scheme, _, token = header.strip().partition(" ")
            if scheme.lower() not in ("bearer", "dpop") or not token.strip():
                raise BadCredential("The Authorization header must be 'Bearer <token>'.")
            # "dpop": a DPoP-bound token (RFC 9449 7.1); the binding decides if it is allowed.
            return token.strip(), scheme.lower()
        cookie = request.cookies.get(ACCESS_COOKIE)
        return (cookie, "cookie") if cookie else None

    @staticmethod
    def read_refresh(request: Request) -> str | None:
        """The refresh token cookie, if the browser sent it (it does only to /auth/refresh)."""
        return request.cookies.get(REFRESH_COOKIE) or None

    @staticmethod
    def access(token: str, max_age: int) -> Cookie:
        """The access token; the cookie dies with the token."""
        return Cookie(ACCESS_COOKIE, token, "/", max_age)

    @staticmethod
    def refresh(token: str, max_age: int) -> Cookie:
        """The refresh token, scoped to the refresh endpoint."""
        return Cookie(REFRESH_COOKIE, token, REFRESH_PATH, max_age)

    @staticmethod
    def expired() -> tuple[Cookie, ...]:
        """Drop both cookies (each expiry names the path it was set with)."""
        return (Cookie.expired(ACCESS_COOKIE), Cookie.expired(REFRESH_COOKIE, REFRESH_PATH))
