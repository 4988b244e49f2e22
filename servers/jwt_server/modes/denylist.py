"""Denylist mode: revocable tokens, at one Redis round trip per authenticated request."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from flask import Request

from ...core.backend import Issued, Principal, Revocation
from ..stores import DenylistStore
from ..tokens import now_ms
from .base import Mode

if TYPE_CHECKING:
    from ..kit import TokenKit


def cut_time() -> float:
    """A per-user cut, 1 ms ahead of now: a token issued in this very millisecond is on the
    dead side; a token minted at a later `cut_time()` is on the live side."""
    return round(now_ms() + 0.001, 3)


class DenylistMode(Mode):
    """Revocable tokens: every request asks Redis whether its token was revoked."""

    name = "denylist"
    round_trips = DenylistStore.round_trips
    untracked_message = (
        "The denylist records revoked tokens, not live ones: there is no list of sessions. "
        "Log out everywhere (POST /auth/logout-all) to revoke every token at once."
    )

    def __init__(self, kit: TokenKit):
        super().__init__(kit)
        self.store = DenylistStore(kit.redis, kit.guard)

    def check(self, claims: dict[str, Any]) -> str | None:
        return self.store.check(claims["jti"], int(claims["sub"]), float(claims["iat"]))

    def logout(self, principal: Principal) -> Revocation:
        jti = principal.token_id or principal.credential_id  # a token's jti is required
        self.store.deny(jti, principal.expires_at + self.kit.leeway - time.time())
        return Revocation(
            revoked=True,
            message=self.naive(
                "The token's id (jti) is on the denylist: this token, and any copy of it, is "
                "refused from now on."
            ),
        )

    def revoke_user(self, user_id: int) -> Revocation:
        # Tokens issued before the cut die; the cut is kept while such a token may live.
        self.store.cut(user_id, cut_time(), self.kit.access_ttl + self.kit.leeway + 1)
        return Revocation(
            revoked=True,
            message=self.naive(
                "Every token of this user issued until now is refused from now on (a per-user "
                "'revoked before' time in Redis)."
            ),
        )

    def renew(self, principal: Principal, request: Request) -> Issued:
        # Minted at a cut time taken after the revocation's: on the live side of it.
        issued = self.kit.deliver(self.kit.mint(principal.user, now=cut_time()))
        return Issued(issued.cookies, issued.body, "This client received a new token.")
