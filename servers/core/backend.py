"""The AuthBackend interface: what a mechanism must do. The API blueprint only talks to this.

Two implementations exist: `servers.session_server.backend.SessionBackend` (an opaque id in a
cookie, the state on the server) and `servers.jwt_server.backend.TokenBackend` (the state in a
signed token). Keeping one interface is what makes the comparison fair: same endpoints, same
tests, only the mechanism differs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Request, Response


@dataclass
class Principal:
    """Who is calling, as proven by their credential."""

    #: The user as the credential carries it: id, email, name, role (no database read).
    user: dict[str, Any]
    #: The public id of this credential (a session's hashed id, a token's jti or family).
    credential_id: str
    #: Anything else the backend needs later (claims, the raw session record...).
    extra: dict[str, Any] = field(default_factory=dict)

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


@dataclass
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
    #: More body fields (the JWT server hands a re-issued access token to the kept client).
    extra: dict[str, Any] = field(default_factory=dict)

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
        body.update(self.extra)
        return body


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
    def login(self, user: dict[str, Any], request: Request, response: Response) -> dict[str, Any]:
        """Issue a fresh credential (cookie) for a user who just proved their password.

        Returns extra fields for the login body (the JWT server adds its access token).
        """

    @abstractmethod
    def logout(self, principal: Principal, response: Response) -> Revocation:
        """End this credential and expire the cookie."""

    @abstractmethod
    def revoke_user(
        self,
        user_id: int,
        keep: Principal | None = None,
        request: Request | None = None,
        response: Response | None = None,
    ) -> Revocation:
        """End every credential of a user except `keep` (password change keeps the current one).

        When keeping one, a backend may re-issue it on `response` (a token minted after the cut).
        """

    @abstractmethod
    def list_sessions(self, principal: Principal) -> dict[str, Any]:
        """`{"tracked": bool, "sessions": [...], "message": str}` for GET /auth/sessions."""

    @abstractmethod
    def revoke_session(self, principal: Principal, session_id: str) -> bool | Revocation:
        """End one of the user's own sessions; False when there is no such session.

        A backend that cannot end it at once (JWT refresh mode) returns a Revocation saying
        until when it still works.
        """

    @abstractmethod
    def clear_cookies(self, response: Response) -> None:
        """Expire every cookie this mechanism sets."""

    @abstractmethod
    def store_up(self) -> bool:
        """Whether the credential store answers (True when there is none to ask)."""

    def health(self) -> dict[str, Any]:
        """More for /health: a replica that pushes state says whether its feed is current."""
        return {}
