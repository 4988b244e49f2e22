"""Refresh mode: a short access token checked without Redis, and rotating refresh-token families
(see stores/families.py for rotation, reuse detection and the grace)."""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Request, current_app

from ...core.backend import Issued, Principal, Revocation
from ...core.config import Settings
from ...core.errors import ApiError
from ..cookies import new_refresh_token
from ..stores import FamilyStore, new_family_id
from ..tokens import expiry, now_ms
from .base import Mode, iso

if TYPE_CHECKING:
    from ..kit import TokenKit

log = logging.getLogger(__name__)

#: Seconds during which a just-rotated refresh token may be presented again without counting as
#: theft: two tabs refreshing at once, or a retry after a lost response.
#: (The default lives in Settings; JWT_REFRESH_GRACE overrides it.)
DEFAULT_REFRESH_GRACE = Settings.jwt_refresh_grace


class RefreshMode(Mode):
    """A short access token, checked without Redis, and a rotating refresh token in Redis."""

    name = "refresh"
    round_trips = FamilyStore.round_trips

    def __init__(self, kit: TokenKit):
        super().__init__(kit)
        settings = kit.settings
        self.store = FamilyStore(kit.redis, settings.refresh_token_ttl, settings.jwt_refresh_grace)

    def check(self, claims: dict[str, Any]) -> str | None:
        # Every access token of this mode belongs to a family (e.g. not one minted while the
        # server ran in another mode): revoking a session must be able to name it.
        if not isinstance(claims.get("fam"), str):
            return "This token belongs to no session of this server: log in again."
        guard = self.kit.guard
        if guard is not None and guard.current is None:
            guard.read()  # Redis did not answer at start: learn the epoch once (503 if down)
        return None

    def _report(self, count: int, latest_exp: float, done: str) -> Revocation:
        """`done`, plus the honest part: access tokens already issued live until they expire."""
        until = self.kit.copy_valid_until(latest_exp)
        if until <= datetime.now(UTC):
            return Revocation(revoked=True, count=count, message=f"{done} No access token is left.")
        return Revocation(
            revoked=False,
            valid_until=until,
            count=count,
            message=(
                f"{done} Access tokens are checked without Redis in this mode, so one already "
                f"issued (or a copy of it) keeps working until it expires, at the latest "
                f"{iso(until)}."
            ),
        )

    def login(self, user: dict[str, Any], request: Request) -> Issued:
        # A new family per login: each device is its own session (the tutorial kept one refresh
        # token per user, so logging in on a phone logged the laptop out).
        return self.start_family(user, request)

    def start_family(self, user: dict[str, Any], request: Request) -> Issued:
        """A new family: its first refresh token and an access token naming it."""
        refresh_token, now = new_refresh_token(), now_ms()
        family = new_family_id()
        issued = self.kit.mint(user, now=now, fam=family)
        self.store.create(
            family,
            int(user["id"]),
            refresh_token,
            now,
            issued.claims["exp"],
            (request.user_agent.string or "")[:200],
            request.remote_addr or "",
        )
        return self.kit.deliver(
            issued, self.kit.cookies.refresh(refresh_token, self.store.refresh_ttl)
        )

    def refresh(self, request: Request) -> Issued:
        """POST /auth/refresh: rotate the refresh token and issue a new access token. Every
        refusal is an ApiError (401): the browser's cookies are left as they are."""
        presented = self.kit.cookies.read_refresh(request)
        if presented is None:
            raise ApiError(401, "unauthorized", "No refresh token: log in first.")
        successor, now = new_refresh_token(), now_ms()
        access_exp = expiry(now, self.kit.access_ttl)
        rotation = self.store.rotate(presented, successor, now, access_exp)
        epoch = self.observe(rotation.epoch)
        if rotation.outcome == "unknown" and self.lost_recently():
            raise self.kit.guard.refuse()  # type: ignore[union-attr]
        if rotation.outcome == "reuse":
            log.warning(
                "refresh token reuse: family %s of user %s revoked",
                rotation.family,
                rotation.user_id,
            )
            raise ApiError(
                401,
                "refresh_token_reused",
                "This refresh token was already used, so someone else may hold a copy: the whole "
                "session was revoked. Log in again.",
            )
        if rotation.outcome == "revoked":
            raise ApiError(401, "unauthorized", "This session was revoked: log in again.")
        if not rotation.ok:
            # Unknown to the store: expired, ended long ago, or a write the store lost (a
            # failover that dropped what the old primary took last). The server cannot tell
            # which, so it says all three: the client's answer is the same, log in again.
            raise ApiError(
                401,
                "refresh_token_unknown",
                "The store does not know this refresh token: it expired, its session ended, or "
                "the store lost it (a failover can drop its last writes). Log in again.",
            )
        # The refresh is where the server looks at the account again: a deleted user or a new
        # role shows up here, at most one access lifetime late.
        user = current_app.extensions["authlab_users"].get(rotation.user_id)
        if user is None:
            self.store.revoke(rotation.user_id, rotation.family)
            raise ApiError(401, "unauthorized", "This account no longer exists.")
        issued = self.kit.deliver(
            self.kit.mint(user, now=now, epoch=epoch, fam=rotation.family),
            self.kit.cookies.refresh(successor, self.store.refresh_ttl),
        )
        return Issued(issued.cookies, {"user": user, **issued.body})

    def observe(self, marker: str | None) -> str | None:
        """The store's epoch, as the rotation script read it (None: not guarded)."""
        guard = self.kit.guard
        return None if guard is None else self.store.call(guard.observe, marker)

    def lost_recently(self) -> bool:
        """Whether the store lost its data within a refresh lifetime: an unknown refresh token
        is then most likely one it lost, and the client is told so."""
        guard = self.kit.guard
        lost_at = guard.lost_at if guard is not None else None
        return lost_at is not None and time.time() - lost_at < self.store.refresh_ttl

    def logout(self, principal: Principal) -> Revocation:
        family_exp = self.store.revoke(principal.user_id, principal.credential_id)
        return self._report(
            1 if family_exp is not None else 0,
            max(principal.expires_at, family_exp or 0),
            "The refresh token of this session was revoked: it will never be refreshed again.",
        )

    def revoke_user(self, user_id: int) -> Revocation:
        count, latest_exp = self.store.revoke_user(user_id)
        if not latest_exp:
            # Not on record (Redis lost its data, or no login for a refresh lifetime): assume
            # the worst rather than claim that nothing can still be working.
            latest_exp = time.time() + self.kit.access_ttl
        return self._report(
            count, latest_exp, f"Every refresh-token session of this user was revoked ({count})."
        )

    def renew(self, principal: Principal, request: Request) -> Issued:
        # The current family ended too: a password change is often the reaction to a theft,
        # and its refresh token may be the copied one. The caller gets a brand-new family.
        issued = self.start_family(principal.user, request)
        return Issued(issued.cookies, issued.body, "This client received a new session.")

    def list_sessions(self, principal: Principal) -> dict[str, Any]:
        def when(ts: float) -> str:
            return datetime.fromtimestamp(ts, UTC).isoformat()

        current = principal.credential_id
        families = sorted(self.store.list_user(principal.user_id), key=lambda f: f.created)
        return {
            "tracked": True,
            "sessions": [
                {
                    "id": f.id,
                    "created": when(f.created),
                    "last_seen": when(f.last_seen),
                    "expires": when(f.expires),
                    "user_agent": f.user_agent,
                    "ip": f.ip,
                    "current": f.id == current,
                }
                for f in families
            ],
            "message": (
                "Each session is a refresh-token family; last_seen is its last refresh. Revoking "
                "one takes effect at its next refresh: its access token keeps working for at "
                f"most {self.kit.access_ttl} s."
            ),
        }

    def revoke_session(self, principal: Principal, session_id: str) -> Revocation | None:
        if not re.fullmatch(r"[0-9a-f]{32}", session_id):
            return None
        # Revoked only if it is the caller's own family (checked in the same script).
        family_exp = self.store.revoke(principal.user_id, session_id)
        if family_exp is None:
            return None
        return self._report(1, family_exp, "The session's refresh token was revoked.")
