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
from urllib.parse import urlsplit

import jwt
import requests
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


class BoundSession(requests.Session):
    """A `requests` session that plays a binding-aware browser: it signs a DPoP proof for every
    request (`dpop=True`), answers a DBSC registration offer with its key, and renews a bound
    session's short cookie when a request comes back 401 (the browser defers the request and
    refreshes first; retrying once after a 401 is the same exchange, seen from outside)."""

    def __init__(self, dpop: bool = False, dbsc: bool = True) -> None:
        super().__init__()
        self.key = ClientKey()
        self.dpop, self.dbsc = dpop, dbsc
        #: The access token last answered in a body (what a browser script keeps for `ath`).
        self.token: str | None = None
        #: The DBSC session identifier, once registered.
        self.session_id: str | None = None
        #: Short cookies this browser renewed with its key (DBSC).
        self.renewals = 0

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """The request with its proof; then DBSC registration or renewal where the answer asks."""
        response = self.send_signed(method, url, **kwargs)
        offer = response.headers.get("Secure-Session-Registration")
        if self.dbsc and offer and response.status_code == 200:
            self.register(url, offer)
        elif self.dbsc and self.session_id and response.status_code == 401 and self.renewed(url):
            response = self.send_signed(method, url, **kwargs)
        return response

    def send_signed(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request, with a DPoP proof when this client binds tokens."""
        if self.dpop:
            headers = dict(kwargs.pop("headers", None) or {})
            if self.token and "Authorization" not in headers:
                headers["Authorization"] = f"DPoP {self.token}"
            headers["DPoP"] = self.key.dpop_proof(method, url, self.token)
            kwargs["headers"] = headers
        response = super().request(method, url, **kwargs)
        if self.dpop and response.headers.get("Content-Type", "").startswith("application/json"):
            body = response.json() if response.content else {}
            if isinstance(body, dict) and isinstance(body.get("access_token"), str):
                self.token = body["access_token"]
        return response

    def register(self, url: str, offer: str) -> requests.Response:
        """Answer `Secure-Session-Registration` with a new key (the draft's registration)."""
        path, challenge = header_param(offer, "path"), header_param(offer, "challenge")
        response = super().request(
            "POST",
            origin(url) + (path or ""),
            headers={"Secure-Session-Response": self.key.dbsc_response(challenge or "")},
        )
        if response.status_code == 200:
            self.session_id = response.json()["session_identifier"]
        return response

    def renewed(self, url: str) -> bool:
        """Whether a renewal got a new bound cookie."""
        return self.renew(url).status_code == 200

    def renew(self, url: str) -> requests.Response:
        """The draft's refresh: ask, get the challenge (403), answer it with the key."""
        refresh = origin(url) + "/auth/dbsc/refresh"
        headers = {"Sec-Secure-Session-Id": self.session_id or ""}
        first = super().request("POST", refresh, headers=headers)
        if first.status_code != 403 or "Secure-Session-Challenge" not in first.headers:
            return first
        challenge, _ = challenge_of(first.headers["Secure-Session-Challenge"])
        answer = self.key.dbsc_response(challenge, with_jwk=False)
        response = super().request(
            "POST", refresh, headers={**headers, "Secure-Session-Response": answer}
        )
        self.renewals += response.status_code == 200
        return response


def origin(url: str) -> str:
    """scheme://host[:port] of a URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
