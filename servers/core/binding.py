"""What both bindings share: a JWT signed by a key the client holds, and the key's thumbprint.

A bound credential is worth nothing without the private key that signs each proof, so a copy
of the cookie or token alone (what malware reads from disk) cannot be replayed from elsewhere.
DPoP (RFC 9449) sends the public key in every proof; DBSC (the W3C draft) registers it once
and later proofs are checked against the registered key. Signatures are checked by PyJWT with
the algorithm pinned from a short allow-list: no `none`, no HMAC (a shared secret proves
nothing about a client's key), no home-made crypto.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

import jwt

#: Asymmetric algorithms a client key may use (DBSC lists ES256 and RS256; DPoP also EdDSA).
CLIENT_ALGORITHMS = ("ES256", "RS256", "EdDSA")
#: RFC 7638: the members of a public JWK that its thumbprint covers, per key type.
THUMBPRINT_MEMBERS = {
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}
#: The curve each algorithm is defined on (RFC 7518 3.4: ES256 is P-256; RFC 8037: Ed25519).
CURVES = {"ES256": "P-256", "EdDSA": "Ed25519"}
#: RFC 7518 3.3: an RSA key for RS256 is 2048 bits or more.
MIN_RSA_BITS = 2048
#: Members that only a private JWK has: a proof that carries one leaks its key and is refused.
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")
#: Proofs are small (a header with a public key, a few claims); refuse anything longer unparsed.
MAX_PROOF_BYTES = 8192


class BadProof(Exception):
    """A proof is refused; `reason` is a sentence for the 401."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sha256_b64url(text: str) -> str:
    """base64url(SHA-256(text)): DPoP's `ath` (the access token's hash), RFC 9449 4.2."""
    return b64url(hashlib.sha256(text.encode()).digest())


def thumbprint(jwk: dict[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint: the required members, sorted, no whitespace, hashed."""
    members = THUMBPRINT_MEMBERS.get(jwk.get("kty", ""))
    if members is None or not all(isinstance(jwk.get(m), str) for m in members):
        raise BadProof("The proof's key is not an EC, RSA or OKP public JWK.")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def proof_header(proof: str) -> dict[str, Any]:
    """The proof's JOSE header, read before verifying (to pick the key and the algorithm)."""
    if not proof or len(proof) > MAX_PROOF_BYTES or proof.count(".") != 2:
        raise BadProof("The proof is not a well-formed JWT.")
    head = proof.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (binascii.Error, ValueError):
        header = None
    if not isinstance(header, dict):
        raise BadProof("The proof is not a well-formed JWT.")
    return header


def embedded_key(header: dict[str, Any], algorithms: tuple[str, ...]) -> jwt.PyJWK:
    """The public key a proof carries in its `jwk` header, for the proof's pinned algorithm."""
    alg, jwk = header.get("alg"), header.get("jwk")
    if alg not in algorithms:
        raise BadProof(f"The proof's algorithm must be one of {', '.join(algorithms)}.")
    if not isinstance(jwk, dict):
        raise BadProof("The proof carries no public key (jwk header).")
    if any(member in jwk for member in PRIVATE_MEMBERS):
        raise BadProof("The proof's jwk header holds a private key: refused.")
    if alg in CURVES and jwk.get("crv") != CURVES[alg]:
        raise BadProof(f"An {alg} proof's key must be on the {CURVES[alg]} curve.")
    try:
        key = jwt.PyJWK(jwk, algorithm=alg)
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
        raise BadProof("The proof's jwk header is not a usable public key for its alg.") from None
    if alg == "RS256" and getattr(key.key, "key_size", 0) < MIN_RSA_BITS:
        raise BadProof(f"An RS256 proof's key must have at least {MIN_RSA_BITS} bits.")
    return key


def verify_proof(
    proof: str,
    typ: str,
    algorithms: tuple[str, ...] = CLIENT_ALGORITHMS,
    registered: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) of a proof of type `typ` signed by the key in its own `jwk` header, or
    by `registered` (a JWK stored earlier) when given; BadProof otherwise."""
    header = proof_header(proof)
    if header.get("typ") != typ:
        raise BadProof(f"The proof's typ must be {typ!r}.")
    if registered is not None:
        # The key was registered before: a key in this proof's header is not trusted instead.
        header = {**header, "jwk": registered}
    key = embedded_key(header, algorithms)
    try:
        claims = jwt.decode(
            proof,
            key,
            algorithms=[header["alg"]],
            options={"verify_aud": False, "verify_iat": False, "require": ["jti"]},
        )
    except jwt.InvalidSignatureError:
        raise BadProof("The proof's signature does not verify with its key.") from None
    except jwt.InvalidTokenError:
        raise BadProof("The proof is not a valid signed JWT with a jti.") from None
    return header, claims
