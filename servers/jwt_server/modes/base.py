"""What a JWT mode decides: the extra check per request, logout, revocation and sessions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Request

from ...core.backend import Issued, Principal, Revocation
from ...core.redis_store import ping

if TYPE_CHECKING:
    from ..kit import TokenKit


def iso(moment: datetime) -> str:
    """A time as the messages show it."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class Mode(ABC):
    """What differs between the modes: the backend checks the signature and delegates the rest
    here; a mode works with its kit and never calls back into the backend."""

    #: JWT_MODE value, reported by /health.
    name: str = ""
    #: Store round trips an authenticated request costs (Server-Timing).
    round_trips: int = 0
    #: Why there is no session list in this mode (modes that keep none).
    untracked_message: str = ""

    def __init__(self, kit: TokenKit):
        self.kit = kit

    def naive(self, message: str) -> str:
        """The message, plus what the naive denylist (JWT_REVOCATION_GUARD=off) cannot see."""
        if self.kit.guard is not None:
            return message
        return (
            f"{message} (JWT_REVOCATION_GUARD=off: should Redis lose its data, restarted empty "
            "or flushed, this revocation is undone and no one is told.)"
        )

    def check(self, claims: dict[str, Any]) -> str | None:
        """Why a validly signed token is refused anyway, or None."""
        return None

    def login(self, user: dict[str, Any], request: Request) -> Issued:
        """The credentials of a fresh login."""
        return self.kit.deliver(self.kit.mint(user))

    @abstractmethod
    def logout(self, principal: Principal) -> Revocation:
        """End this credential, as far as the mode can."""

    @abstractmethod
    def revoke_user(self, user_id: int) -> Revocation:
        """End every credential of a user, as far as the mode can."""

    def renew(self, principal: Principal, request: Request) -> Issued:
        """A fresh credential for a caller after a revocation (the mode's login by default)."""
        return self.login(principal.user, request)

    def list_sessions(self, principal: Principal) -> dict[str, Any]:
        """No list where the server keeps no record of live tokens."""
        return {"tracked": False, "sessions": [], "message": self.untracked_message}

    def revoke_session(self, principal: Principal, session_id: str) -> Revocation | None:
        """Nothing to revoke by id where nothing is tracked (the API answers 404)."""
        return None

    def health(self) -> dict[str, Any]:
        """More for /health (push mode: the state of its feed)."""
        return {}

    def store_up(self) -> bool:
        """Whether Redis answers (stateless mode too: the login rate limits live there)."""
        return ping(self.kit.redis)
