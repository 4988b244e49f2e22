"""Stateless mode: nothing on the server, so nothing can be revoked, and the API says so."""

from __future__ import annotations

import time

from flask import Request

from ...core.backend import Issued, Principal, Revocation
from .base import Mode, iso


class StatelessMode(Mode):
    """Nothing on the server: a token is valid until it expires, whatever happens."""

    name = "stateless"
    round_trips = 0
    untracked_message = (
        "Stateless tokens leave no trace on the server: there is no list of sessions, and none "
        "can be revoked by id. Each token works until it expires."
    )

    def logout(self, principal: Principal) -> Revocation:
        until = self.kit.copy_valid_until(principal.expires_at)
        return Revocation(
            revoked=False,
            valid_until=until,
            message=(
                "Stateless tokens cannot be revoked: the cookie was deleted from this browser, "
                f"but a copy of the token keeps working until {iso(until)}."
            ),
        )

    def revoke_user(self, user_id: int) -> Revocation:
        until = self.kit.copy_valid_until(time.time() + self.kit.access_ttl)
        return Revocation(
            revoked=False,
            valid_until=until,
            message=(
                "Nothing was revoked: stateless mode keeps no record of the tokens it issued, so "
                "every token already issued to this user keeps working until it expires, at the "
                f"latest {iso(until)}."
            ),
        )

    def renew(self, principal: Principal, request: Request) -> Issued:
        # Nothing was revoked, so the current token still works: nothing to renew.
        return Issued()
