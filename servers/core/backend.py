"""The AuthBackend interface: what a mechanism must do. The API blueprints only talk to this.

Two implementations exist: `servers.session_server.backend.SessionBackend` (an opaque id in a
cookie, the state on the server) and `servers.jwt_server.backend.TokenBackend` (the state in a
signed token). Keeping one interface is what makes the comparison fair: same endpoints, same
tests, only the mechanism differs.

A backend never touches the response. It *returns* what the client should receive (`Issued`:
cookies to set or expire, body fields) and what a revocation achieved (`Revocation`); `reply`
is the one place where cookies are written, as Flask-Session's `save_session` is. Because
`reply` only builds success answers, a request that proved no credential (any 4xx or 5xx)
can never change the browser's cookies: another site cannot log a browser out.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Request, Response, current_app, jsonify


@dataclass(frozen=True)
class Principal:
    """Who is calling, as proven by their credential."""

    #: The user as the credential carries it: id, email, name, role (no database read).
    user: dict[str, Any]
    #: What revoking this credential names: a session's hashed id, a refresh family, a jti.
    credential_id: str
    #: When the credential was first issued (epoch seconds): a session's creation, a token's iat.
    issued_at: float
    #: When it stops working by itself: a session's absolute deadline, a token's exp.
    expires_at: float
    #: The token's own id (jti), what a denylist refuses; None for a session.
    token_id: str | None = None

    @property
    def user_id(self) -> int:
        """The user's id."""
        return int(self.user["id"])


@dataclass
class AuthCheck:
    """The result of checking one request's credential, and what the check cost."""

    principal: Principal | None
    #: Store round trips the check cost (Redis commands or pipelines); shown in Server-Timing.
    round_trips: int = 0
    #: Why there is no principal, in a sentence for the 401.
    reason: str = "Log in first: this request carries no valid credential."
    #: The 401's error code (`revocation_state_lost`: the store lost data, log in again).
    code: str = "unauthorized"


@dataclass(frozen=True)
class Cookie:
    """One cookie a backend wants the browser to store, or (value None) to drop."""

    name: str
    value: str | None
    #: The browser sends it to this path and below; an expiry must name the same path.
    path: str = "/"
    #: Seconds the browser keeps it.
    max_age: int = 0

    @classmethod
    def expired(cls, name: str, path: str = "/") -> Cookie:
        """Tell the browser to drop cookie `name` (set at `path`)."""
        return cls(name, None, path)


@dataclass(frozen=True)
class Issued:
    """A fresh credential for the client: the cookies that carry it, and body fields for
    clients that keep no cookies (the JWT server's access token)."""

    cookies: tuple[Cookie, ...] = ()
    body: dict[str, Any] = field(default_factory=dict)
    #: What a person should know about it (a renewal says why the old copy is useless).
    message: str = ""


@dataclass(frozen=True)
class Revocation:
    """What a logout or revoke achieved on the server: the API reports it, never pretends."""

    #: True when every affected credential is dead on the server now.
    revoked: bool
    #: When the last credential that could not be killed stops working (None if revoked).
    valid_until: datetime | None = None
    #: How many server-side credentials were ended (sessions, families); None if not tracked.
    count: int | None = None
    #: A sentence for people: what happened, and what did not.
    message: str = ""
    #: The caller's fresh credential, when one was issued after the cut (password change).
    renewed: Issued | None = None
    #: REVOCATION_DURABILITY=wait: whether a Redis replica acknowledged it (redis_client.py).
    durability: str | None = None

    def renewed_by(self, issued: Issued) -> Revocation:
        """This revocation, plus the caller's fresh credential and what it means."""
        message = f"{self.message} {issued.message}".strip()
        return replace(self, renewed=issued, message=message)

    def to_json(self) -> dict[str, Any]:
        """The revocation as the API answers it."""
        body: dict[str, Any] = {
            "revoked": self.revoked,
            "valid_until": self.valid_until.astimezone(UTC).isoformat()
            if self.valid_until
            else None,
            "message": self.message,
        }
        if self.count is not None:
            body["sessions_revoked"] = self.count
        if self.renewed is not None:
            body.update(self.renewed.body)
        if self.durability is not None:
            body["durability"] = self.durability
        return body


def reply(body: dict[str, Any], cookies: Iterable[Cookie] = ()) -> Response:
    """A 200 JSON answer carrying the cookies a backend asked for: the one place Set-Cookie is
    written. Every credential cookie is HttpOnly (no JavaScript can read it, so an XSS cannot
    steal it) and SameSite=Lax (not sent on cross-site POSTs: CSRF); Secure from COOKIE_SECURE.
    Errors are raised, never replied: they cannot carry a cookie."""
    response = jsonify(body)
    secure = current_app.config["AUTHLAB"].cookie_secure
    for cookie in cookies:
        if cookie.value is None:
            response.delete_cookie(
                cookie.name, path=cookie.path, httponly=True, secure=secure, samesite="Lax"
            )
        else:
            response.set_cookie(
                cookie.name,
                cookie.value,
                max_age=cookie.max_age,
                path=cookie.path,
                httponly=True,
                secure=secure,
                samesite="Lax",
            )
    return response


class AuthBackend(ABC):
    """One authentication mechanism behind the shared API."""

    #: "session" or "jwt", reported by /health.
    mechanism: str = ""

    @property
    @abstractmethod
    def mode(self) -> str:
        """The store (session server) or mode (JWT server), reported by /health."""

    def init_app(self, app: Flask) -> None:  # noqa: B027 (optional hook)
        """Bind to an app: read settings, connect stores, add mechanism-specific routes."""
        return None

    @abstractmethod
    def authenticate(self, request: Request) -> AuthCheck:
        """Check the request's credential. Raises StoreUnavailable rather than letting it in."""

    @abstractmethod
    def login(self, user: dict[str, Any], request: Request) -> Issued:
        """A brand-new credential for a user who just proved their password."""

    @abstractmethod
    def logout(self, principal: Principal) -> Revocation:
        """End this credential (the view expires the cookies)."""

    @abstractmethod
    def revoke_user(self, user_id: int) -> Revocation:
        """End every credential of a user (log out everywhere, password change, admin)."""

    @abstractmethod
    def renew(self, principal: Principal, request: Request) -> Issued:
        """A fresh credential for a caller whose credentials were just revoked (a password
        change keeps the person logged in, never the old, possibly stolen, credential)."""

    @abstractmethod
    def list_sessions(self, principal: Principal) -> dict[str, Any]:
        """`{"tracked": bool, "sessions": [...], "message": str}` for GET /auth/sessions."""

    @abstractmethod
    def revoke_session(self, principal: Principal, session_id: str) -> Revocation | None:
        """End one of the user's own sessions; None when the user has no such session."""

    @abstractmethod
    def expired_cookies(self) -> tuple[Cookie, ...]:
        """Every cookie this mechanism sets, expired (for a logout that proved a credential)."""

    @abstractmethod
    def store_up(self) -> bool:
        """Whether the credential store answers (True when there is none to ask)."""

    def health(self) -> dict[str, Any]:
        """More for /health: a replica that pushes state says whether its feed is current."""
        return {}

    def revocation_store(self) -> dict[str, Any] | None:
        """For /health: the store's epoch and the last loss of data seen (None: no store)."""
        return None
