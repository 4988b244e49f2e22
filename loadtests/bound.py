"""The client's half of bound credentials: a key that never leaves memory, and the JWTs it signs.

A browser keeps a DBSC key in the TPM and a DPoP key as a non-extractable WebCrypto key: code
can ask it to sign, never read it. `ClientKey` plays that part for the lab's clients (tests,
the demo's victim, the Locust users): a `cryptography` EC private key object held in memory,
with no method that serializes it, and pickling refused. The attacker in the demo copies
everything else (cookies, tokens, storage), never this object.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from typing import Any, NoReturn

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

DPOP_TYP = "dpop+jwt"
DBSC_TYP = "dbsc+jwt"


def token_hash(token: str) -> str:
    """DPoP's `ath`: base64url(SHA-256(token)), no padding (RFC 9449 4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


class ClientKey:
    """An ES256 key pair whose private half stays in this object (P-256, as TPMs sign)."""

    __slots__ = ("_private", "jwk")

    def __init__(self) -> None:
        self._private = ec.generate_private_key(ec.SECP256R1())
        #: The public half, as a JWK (what a proof's header carries).
        self.jwk: dict[str, Any] = ECAlgorithm.to_jwk(self._private.public_key(), as_dict=True)

    def __reduce__(self) -> NoReturn:
        raise TypeError("A client key cannot be exported (pickled or copied).")

    def __repr__(self) -> str:
        return f"ClientKey(x={self.jwk['x'][:8]}...)"

    def sign(self, claims: dict[str, Any], typ: str, with_jwk: bool = True) -> str:
        """A JWT of type `typ` signed with the private key (its public JWK in the header)."""
        headers: dict[str, Any] = {"typ": typ}
        if with_jwk:
            headers["jwk"] = self.jwk
        return jwt.encode(claims, self._private, algorithm="ES256", headers=headers)

    def dpop_proof(
        self,
        method: str,
        url: str,
        token: str | None = None,
        iat: float | None = None,
        jti: str | None = None,
    ) -> str:
        """A DPoP proof for one request (RFC 9449 4.2): method, URL without query, now."""
        claims: dict[str, Any] = {
            "jti": jti or secrets.token_urlsafe(16),
            "htm": method.upper(),
            "htu": url.split("?", 1)[0].split("#", 1)[0],
            "iat": int(time.time()) if iat is None else iat,
        }
        if token is not None:
            claims["ath"] = token_hash(token)
        return self.sign(claims, DPOP_TYP)

    def dbsc_response(self, challenge: str, with_jwk: bool = True) -> str:
        """A DBSC registration (with the public key) or refresh (without) JWT: the challenge as
        its jti, as the W3C draft's Secure-Session-Response carries it."""
        return self.sign({"jti": challenge}, DBSC_TYP, with_jwk=with_jwk)


def header_param(header: str, name: str) -> str | None:
    """A `name="value"` parameter of a structured header (DBSC's registration and challenge)."""
    match = re.search(rf';\s*{name}="([^"]*)"', header)
    return match.group(1) if match else None


def challenge_of(header: str) -> tuple[str, str | None]:
    """(challenge, session id) of `Secure-Session-Challenge: "c";id="s"`."""
    match = re.match(r'\s*"([^"]*)"', header)
    if match is None:
        raise ValueError(f"not a Secure-Session-Challenge: {header!r}")
    return match.group(1), header_param(header, "id")
