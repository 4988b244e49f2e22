"""TokenBackend: the state in a signed token, checked without the server remembering it.

Compared with the tutorial's JWT parts (HS256 `{userId}` in a cookie, logout that only expires
the cookie, one non-rotating refresh token per user), this backend: pins the algorithm by key,
requires and checks every registered claim, rotates keys by `kid`, carries the user so an
authenticated request reads no database, accepts the token from the cookie or a Bearer header,
and says plainly, per mode, what a logout can and cannot revoke (see modes/).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request

from ..core.backend import AuthBackend, AuthCheck, Cookie, Issued, Principal, Revocation
from ..core.config import ConfigError, Settings
from ..core.epoch import LOST_CODE, EpochGuard
from ..core.redis_client import confirm_revocation, make_redis
from .config import DEFAULT_ACCESS_TTL
from .cookies import BadCredential, TokenCookies
from .dpop import make_binding
from .keys import KeyRing
from .kit import TokenKit
from .modes import MODES, Mode
from .tokens import InvalidToken, TokenCodec, user_from_claims


class TokenBackend(AuthBackend):
    """JSON Web Tokens in one of four modes (JWT_MODE): the signature here, the rest in the mode."""

    mechanism = "jwt"

    def __init__(self, settings: Settings):
        self.settings = settings
        # Keys are parsed once, here: never a PEM string per request.
        self.keys = KeyRing.from_settings(settings)
        self.codec = TokenCodec(
            self.keys, settings.jwt_issuer, settings.jwt_audience, settings.jwt_leeway
        )
        self.cookies = TokenCookies()
        self.access_ttl = settings.access_token_ttl or DEFAULT_ACCESS_TTL[settings.jwt_mode]
        if self.access_ttl < 1 or settings.refresh_token_ttl < 1:
            raise ConfigError("ACCESS_TOKEN_TTL and REFRESH_TOKEN_TTL must be positive seconds.")
        # Stateless mode never calls Redis to authenticate; /health still reports it (the
        # login rate limits live there).
        self.redis = make_redis(settings.redis_url, settings)
        # A mode that keeps revocations in Redis notices when Redis loses them (core/epoch.py);
        # stateless mode has nothing to lose, JWT_REVOCATION_GUARD=off is the naive denylist.
        self.guard = (
            EpochGuard(self.redis, settings.replica_id)
            if settings.jwt_mode != "stateless" and settings.jwt_revocation_guard == "on"
            else None
        )
        if self.guard is not None:
            self.guard.probe()  # the epoch now, if Redis answers (else at the first request)
        # JWT_BINDING: bearer tokens, or tokens bound to the client's key (DPoP, dpop.py).
        self.binding = make_binding(settings, self.redis)
        # The mode gets what it needs in a kit, and never calls back into the backend.
        kit = TokenKit(
            settings,
            self.codec,
            self.cookies,
            self.access_ttl,
            self.redis,
            self.guard,
            self.binding,
        )
        self.strategy: Mode = MODES[settings.jwt_mode](kit)

    @property
    def mode(self) -> str:
        return self.strategy.name

    @property
    def leeway(self) -> float:
        """Seconds of clock skew tolerated on exp/nbf."""
        return self.codec.leeway

    def init_app(self, app: Flask) -> None:
        """DPoP: a login or refresh proves its key before the view runs (the factory installs
        the views themselves)."""
        self.binding.init_app(app)

    # --- the AuthBackend interface -------------------------------------------------------------

    def authenticate(self, request: Request) -> AuthCheck:
        try:
            found = self.cookies.read_access(request)
        except BadCredential as exc:
            return AuthCheck(None, 0, str(exc))
        if found is None:
            return AuthCheck(None, 0, "Log in first: no access token (cookie or Bearer header).")
        token, source = found
        # The signature and claims first: a forged token never costs a Redis call.
        try:
            claims = self.codec.verify(token)
        except InvalidToken as exc:
            return AuthCheck(None, 0, exc.reason)
        # DPoP: the request's proof, signed by the token's key (401 otherwise); replay check.
        bound_trips = self.binding.check(request, token, claims, source)
        reason = self.strategy.check(claims)  # denylist: one MGET; StoreUnavailable if down
        round_trips = self.strategy.round_trips + bound_trips
        if reason is not None:
            return AuthCheck(None, round_trips, reason)
        # The mode's check has just read the store's epoch (or knows it): a token issued before
        # the store lost its data cannot be checked against the revocations it lost.
        if self.guard is not None and self.guard.stale(claims.get("sep")):
            return AuthCheck(None, round_trips, self.guard.refusal(), LOST_CODE)
        principal = Principal(
            user=user_from_claims(claims),
            credential_id=claims.get("fam") or claims["jti"],
            issued_at=float(claims["iat"]),
            expires_at=float(claims["exp"]),
            token_id=claims["jti"],
        )
        return AuthCheck(principal, round_trips)

    def login(self, user: dict[str, Any], request: Request) -> Issued:
        # Every login mints a brand-new token (new jti); whatever the client held is not reused.
        return self.strategy.login(user, request)

    def logout(self, principal: Principal) -> Revocation:
        return self._answer(self.strategy.logout(principal))

    def revoke_user(self, user_id: int) -> Revocation:
        return self._answer(self.strategy.revoke_user(user_id))

    def _answer(self, revocation: Revocation) -> Revocation:
        """The mode's revocation, made durable as configured, explained for bound tokens."""
        return self.binding.explain(confirm_revocation(revocation, self.redis, self.settings))

    def renew(self, principal: Principal, request: Request) -> Issued:
        return self.strategy.renew(principal, request)

    def list_sessions(self, principal: Principal) -> dict[str, Any]:
        return self.strategy.list_sessions(principal)

    def revoke_session(self, principal: Principal, session_id: str) -> Revocation | None:
        done = self.strategy.revoke_session(principal, session_id)
        return done and self._answer(done)

    def expired_cookies(self) -> tuple[Cookie, ...]:
        return self.cookies.expired()

    def store_up(self) -> bool:
        # Guarded, /health reads the epoch marker instead of a PING: the same one round trip,
        # and a replica whose requests never read Redis (refresh mode) learns of a loss here.
        return self.guard.probe() if self.guard is not None else self.strategy.store_up()

    def health(self) -> dict[str, Any]:
        return self.strategy.health()

    def revocation_store(self) -> dict[str, Any] | None:
        if self.guard is not None:
            return self.guard.status()
        if self.mode == "stateless":
            return None  # no store: nothing to lose, and nothing is ever promised revoked
        return {
            "guard": "off",
            "message": "JWT_REVOCATION_GUARD=off: if Redis loses its data, every revocation "
            "it held is undone and nobody is told.",
        }
