"""Access tokens: PyJWT with the algorithm pinned by the key, every claim required, a small leeway.

What the tutorial's token carried: `{userId}`, HS256, nothing else checked. What ours carries:

    header   {"alg": <pinned by the key>, "kid": <allow-listed key id>, "typ": "JWT"}
    claims   sub, iat, nbf, exp, jti, iss, aud, typ ("access"), and the user (email, name, role)
             so that /auth/me needs no SQL (as the session server keeps the user in the session)

`iat` has millisecond precision (RFC 7519 allows fractional NumericDates): the denylist mode
compares it with a user's "revoked before" cut, and a token re-issued right after a cut, in the
same second, must come out on the right side of it.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from ..core.config import Settings
from .keys import Key, KeyRing, b64url

#: The `typ` claim of an access token. Refresh tokens are opaque, and any other token type this
#: server might sign carries another value: one can never pass for the other (RFC 8725 3.11).
ACCESS = "access"
#: Registered claims every token must carry (RFC 8725: validate iss, aud, exp, nbf).
REQUIRED_CLAIMS = ("sub", "iat", "nbf", "exp", "jti", "iss", "aud", "typ")
#: The user, carried in the token so that an authenticated request needs no database read.
USER_CLAIMS = ("email", "name", "role")
#: Seconds of clock skew tolerated on exp/nbf/iat. Small: it lengthens every token's life.
#: (The default lives in Settings; JWT_LEEWAY overrides it.)
DEFAULT_LEEWAY = Settings.jwt_leeway
#: Anything longer is not one of our tokens (ours are ~400 bytes); refuse before parsing.
MAX_TOKEN_BYTES = 4096


class InvalidToken(Exception):
    """The token is refused; `reason` is a sentence for the 401."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class IssuedToken:
    """A freshly signed token and its claims."""

    token: str
    claims: dict[str, Any]

    @property
    def expires_at(self) -> datetime:
        """When it stops working (before the leeway)."""
        return datetime.fromtimestamp(self.claims["exp"], UTC)


#: PyJWT's refusals, in words a person understands. The first matching class wins.
REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "The token has expired: log in again, or refresh it."),
    (jwt.ImmatureSignatureError, "The token is not valid yet (nbf/iat in the future)."),
    (jwt.InvalidAudienceError, "The token was issued for another audience."),
    (jwt.InvalidIssuerError, "The token was issued by another issuer."),
    (jwt.InvalidAlgorithmError, "The token's algorithm is not the one its key is bound to."),
    (jwt.InvalidSignatureError, "The token's signature does not verify."),
    (jwt.DecodeError, "The credential is not a well-formed token."),
)


def now_ms() -> float:
    """Now, in epoch seconds with millisecond precision."""
    return round(time.time(), 3)


def expiry(now: float, ttl: int) -> int:
    """The `exp` of a token issued at `now` for `ttl` seconds (whole seconds, as RFC 7519 shows)."""
    return int(now) + ttl


def user_from_claims(claims: dict[str, Any]) -> dict[str, Any]:
    """The user as the API shows it, rebuilt from a verified token."""
    return {"id": int(claims["sub"]), **{name: claims[name] for name in USER_CLAIMS}}


def unverified_header(token: str) -> dict[str, Any]:
    """The token's header, only to pick the key: jwt.decode then checks the whole token again.
    (jwt.get_unverified_header would decode every segment: a second full parse per request.)"""
    head = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (binascii.Error, ValueError):
        header = None
    if not isinstance(header, dict):
        raise InvalidToken("The credential is not a well-formed token.")
    return header


def header_segment(key: Key) -> str:
    """The first segment of every token this server signs with `key`, byte for byte as PyJWT
    writes it (sorted keys, no spaces): a token that starts with it names this key and its
    algorithm, so reading its header again would only find that out once more."""
    header = {"alg": key.algorithm, "kid": key.kid, "typ": "JWT"}
    return b64url(json.dumps(header, separators=(",", ":"), sort_keys=True).encode())


class TokenCodec:
    """Signs and verifies access tokens with a key ring."""

    def __init__(
        self, keys: KeyRing, issuer: str, audience: str, leeway: float = DEFAULT_LEEWAY
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        # Our own tokens' headers, known in advance: their key is found without parsing them.
        self._by_header = {header_segment(key): key for key in keys}
        # One PyJWT with our options, built once: jwt.decode would merge them on every call.
        self._jwt = jwt.PyJWT({"require": [*REQUIRED_CLAIMS, *USER_CLAIMS]})

    def key_for(self, token: str) -> Key:
        """The allow-listed key a token names, with the algorithm that key is bound to."""
        key = self._by_header.get(token.partition(".")[0])
        if key is not None:
            return key
        header = unverified_header(token)
        # The kid is looked up in our allow-list, and the key decides the algorithm: the token's
        # own `alg` is never trusted (no `none`, no HS256 keyed with an RSA public key).
        key = self.keys.get(header.get("kid"))
        if key is None:
            raise InvalidToken("The token names a signing key (kid) this server does not know.")
        if header.get("alg") != key.algorithm:
            raise InvalidToken("The token's algorithm is not the one its key is bound to.")
        return key

    def issue(
        self,
        user: dict[str, Any],
        ttl: int,
        now: float | None = None,
        typ: str = ACCESS,
        **extra: Any,
    ) -> IssuedToken:
        """Sign a token for a user, valid `ttl` seconds from `now`, with the newest key."""
        now = now_ms() if now is None else now
        claims = {
            "sub": str(user["id"]),
            "iat": now,
            "nbf": int(now),
            "exp": expiry(now, ttl),
            "jti": secrets.token_urlsafe(16),
            "iss": self.issuer,
            "aud": self.audience,
            "typ": typ,
            **{name: user[name] for name in USER_CLAIMS},
            **extra,
        }
        signer = self.keys.signer
        token = jwt.encode(
            claims, signer.signing, algorithm=signer.algorithm, headers={"kid": signer.kid}
        )
        return IssuedToken(token, claims)

    def verify(self, token: str, typ: str = ACCESS) -> dict[str, Any]:
        """The claims of a valid token of type `typ`, or InvalidToken with the reason."""
        if not token or len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("The credential is not a well-formed token.")
        key = self.key_for(token)
        try:
            claims = self._jwt.decode(
                token,
                key.verifying,
                algorithms=[key.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
            )
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"The token lacks the required '{exc.claim}' claim.") from None
        except jwt.InvalidTokenError as exc:
            reason = next((text for cls, text in REASONS if isinstance(exc, cls)), None)
            raise InvalidToken(reason or "The token is not valid.") from None
        if claims["typ"] != typ:
            raise InvalidToken(f"A '{claims['typ']}' token cannot be used as an {typ} token.")
        if not (claims["sub"].isascii() and claims["sub"].isdigit()):
            raise InvalidToken("The token's subject is not a user of this server.")
        return claims
