"""What every JWT mode works with: the codec, the cookies, the lifetimes and the Redis client.

The backend builds one kit and hands it to its mode; the mode never calls back into the
backend. So there is one seam: the backend checks the signature (and, with JWT_BINDING=dpop,
the request's proof) and delegates the rest to the mode, and the mode decides with what the kit
gives it. Every token the kit mints carries what the backend will check: the store's epoch
(`sep`) when guarded, and the client key's thumbprint (`cnf.jkt`) when bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis

from ..core.backend import Cookie, Issued
from ..core.config import Settings
from ..core.epoch import EpochGuard
from .cookies import TokenCookies
from .dpop import NoBinding
from .tokens import IssuedToken, TokenCodec


@dataclass(frozen=True)
class TokenKit:
    """Signing, delivering and the store: everything a mode needs, nothing it must ask for."""

    settings: Settings
    codec: TokenCodec
    cookies: TokenCookies
    #: Seconds an access token lives (ACCESS_TOKEN_TTL, or the mode's default).
    access_ttl: int
    #: The Redis client (stateless mode: only /health and the login rate limits use it).
    redis: redis.Redis
    #: The store's epoch (JWT_REVOCATION_GUARD=on, modes with a store); None: nothing guarded.
    guard: EpochGuard | None = None
    #: JWT_BINDING: bearer tokens (NoBinding), or tokens bound to the client's key (dpop.py).
    binding: NoBinding = field(default_factory=NoBinding)

    @property
    def leeway(self) -> float:
        """Seconds of clock skew tolerated on exp/nbf."""
        return self.codec.leeway

    def mint(
        self, user: dict[str, Any], now: float | None = None, epoch: str | None = None, **extra: Any
    ) -> IssuedToken:
        """Sign an access token for a user; guarded, it names the store's epoch (`sep`), read
        now unless the caller just read it (a refresh reads it inside its script); bound, the
        key this request proved (`cnf.jkt`, and its refresh family is bound to that key)."""
        if self.guard is not None:
            extra["sep"] = epoch or self.guard.read()
        return self.codec.issue(user, self.access_ttl, now=now, **self.binding.claims(extra))

    def deliver(self, issued: IssuedToken, *cookies: Cookie) -> Issued:
        """The access token as a cookie (plus `cookies`), and in the body for Bearer clients."""
        return Issued(
            (*cookies, self.cookies.access(issued.token, self.access_ttl)),
            {
                "access_token": issued.token,
                "token_type": self.binding.token_type,
                "expires_in": self.access_ttl,
            },
        )

    def copy_valid_until(self, exp: float) -> datetime:
        """Until when a copy of a token expiring at `exp` is accepted (the leeway included)."""
        return datetime.fromtimestamp(exp + self.leeway, UTC)
