"""Denylist mode: revocable tokens, at one Redis round trip per authenticated request."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from flask import Response

from ...core.backend import Principal, Revocation
from ..stores import DenylistStore
from ..tokens import now_ms
from .base import Mode

if TYPE_CHECKING:
    from ..backend import TokenBackend


class DenylistMode(Mode):
    """Revocable tokens: every request asks Redis whether its token was revoked."""

    name = "denylist"
    round_trips = DenylistStore.round_trips
    untracked_message = (
        "The denylist records revoked tokens, not live ones: there is no list of sessions. "
        "Log out everywhere (POST /auth/logout-all) to revoke every token at once."
    )

    def __init__(self, backend: TokenBackend):
        super().__init__(backend)
        self.store = DenylistStore(backend.redis)

    def check(self, claims: dict[str, Any]) -> str | None:
        return self.store.check(claims["jti"], int(claims["sub"]), float(claims["iat"]))

    def logout(self, principal: Principal, response: Response) -> Revocation:
        claims = principal.extra["claims"]
        self.store.deny(claims["jti"], claims["exp"] + self.backend.leeway - time.time())
        self.backend.cookies.expire(response)
        return Revocation(
            revoked=True,
            message=(
                "The token's id (jti) is on the denylist: this token, and any copy of it, is "
                "refused from now on."
            ),
        )

    def revoke_user(self, user_id, keep=None, request=None, response=None) -> Revocation:
        # Tokens issued before the cut die. The cut is 1 ms ahead of now, so that a token issued
        # in this very millisecond is on the dead side; the kept client's new token is issued at
        # the cut itself, on the live side.
        cut = round(now_ms() + 0.001, 3)
        self.store.cut(user_id, cut, self.backend.access_ttl + self.backend.leeway + 1)
        extra: dict[str, Any] = {}
        if keep is not None and response is not None:
            # The current token was issued before the cut too: hand the client a fresh one.
            extra = self.backend.deliver(response, self.backend.mint(keep.user, now=cut))
        others = "every other token" if keep is not None else "every token"
        kept = " This client received a new token." if extra else ""
        return Revocation(
            revoked=True,
            extra=extra,
            message=(
                f"{others.capitalize()} of this user is refused from now on (a per-user "
                f"'revoked before' time in Redis).{kept}"
            ),
        )
