"""Signing keys: loaded once at start, looked up by `kid` in an allow-list, rotated, published.

RFC 8725 in code:
- each key is bound to exactly one algorithm (an RSA key verifies RS256 and nothing else, so an
  RSA public key can never be used as an HMAC secret: no key confusion);
- the token's `kid` header is resolved only against the keys configured here (never a URL or a
  file name taken from the token);
- the newest key signs, the previous ones only verify, until the tokens they signed expire.

PEM files are parsed once here: PyJWT given a PEM string re-parses it on every call, which makes
RS256 cost tens of milliseconds per request instead of about a tenth of one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

from ..core.config import ConfigError, Settings

log = logging.getLogger(__name__)

#: The algorithms this server signs with. `none` is not one of them, and never will be.
ALGORITHMS = ("HS256", "RS256", "EdDSA")
#: NIST SP 800-57: 2048-bit RSA is the minimum for new keys.
RSA_KEY_BITS = 2048


def b64url(data: bytes) -> str:
    """Base64url without padding, as JOSE writes it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class Key:
    """One key, bound to one algorithm. `signing` is None for a verify-only (retired) key."""

    kid: str
    algorithm: str
    verifying: Any
    signing: Any = None

    def public_jwk(self) -> dict[str, Any] | None:
        """The public key as a JWK for /.well-known/jwks.json; None for HMAC (a shared secret
        is never published)."""
        if self.algorithm == "HS256":
            return None
        codec = RSAAlgorithm if self.algorithm == "RS256" else OKPAlgorithm
        jwk = codec.to_jwk(self.verifying, as_dict=True)
        jwk.pop("key_ops", None)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}


def hmac_kid(secret: str) -> str:
    """A kid for an HMAC secret: a hash of it, never the secret (a short, salted digest of a
    256-bit random secret tells nothing that a signed token does not already)."""
    digest = hashlib.sha256(b"authlab-hs256-kid\x00" + secret.encode()).digest()
    return "hs-" + b64url(digest)[:16]


def thumbprint(public_key: Any) -> str:
    """RFC 7638 JWK thumbprint: the SHA-256 of the key's required members, canonical JSON."""
    if isinstance(public_key, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
        members = {"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}
    elif isinstance(public_key, ed25519.Ed25519PublicKey):
        jwk = OKPAlgorithm.to_jwk(public_key, as_dict=True)
        members = {"crv": "Ed25519", "kty": "OKP", "x": jwk["x"]}
    else:
        raise ConfigError(f"Unsupported public key type: {type(public_key).__name__}.")
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return b64url(hashlib.sha256(canonical).digest())


def algorithm_for(public_key: Any) -> str:
    """The one algorithm a key type may be used with."""
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < RSA_KEY_BITS:
            raise ConfigError(f"RSA keys must have at least {RSA_KEY_BITS} bits.")
        return "RS256"
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    raise ConfigError(
        f"Unsupported key type {type(public_key).__name__}: use RSA (RS256) or Ed25519 (EdDSA)."
    )


def new_private_key(algorithm: str) -> Any:
    """A fresh private key for an asymmetric algorithm."""
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ConfigError(f"No key pair for {algorithm!r}: use RS256 or EdDSA.")


def generate_keypair(algorithm: str, directory: str | os.PathLike) -> tuple[Path, Path]:
    """Write a new key pair as PEM files; returns (private_path, public_path).

    The file names carry the key's thumbprint, so a rotation can write the next pair beside the
    current one. The private key file is readable by its owner only.
    """
    private = new_private_key(algorithm)
    kid = thumbprint(private.public_key())
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"jwt-{algorithm.lower()}-{kid[:8]}"
    private_path, public_path = directory / f"{stem}.key.pem", directory / f"{stem}.pub.pem"
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    public_path.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"Cannot read the {what} {path!r}: {exc.strerror}.") from exc


def load_private_key(path: str) -> Any:
    """A PEM private key (unencrypted), parsed once."""
    try:
        return serialization.load_pem_private_key(_read(path, "private key file"), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{path!r} is not an unencrypted PEM private key: {exc}") from exc


def load_public_key(path: str) -> Any:
    """A PEM public key, parsed once."""
    try:
        return serialization.load_pem_public_key(_read(path, "public key file"))
    except ValueError as exc:
        raise ConfigError(f"{path!r} is not a PEM public key: {exc}") from exc


def _public_bytes(key: Any) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class KeyRing:
    """The signing key and the allow-list of verifying keys, by kid."""

    def __init__(self, signer: Key, verifiers: list[Key] | None = None):
        self.signer = signer
        self._by_kid: dict[str, Key] = {signer.kid: signer}
        for key in verifiers or []:
            self._by_kid.setdefault(key.kid, key)

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        """Build the ring from SECRET_KEY (HS256) or the key files (RS256, EdDSA)."""
        algorithm = settings.jwt_algorithm
        if algorithm not in ALGORITHMS:
            raise ConfigError(f"JWT_ALGORITHM must be one of {', '.join(ALGORITHMS)}.")
        previous = [cls._retired(path) for path in settings.jwt_previous_public_key_files]
        if algorithm == "HS256":
            # SECRET_KEY is a list: the first secret signs, the others verify (rotation).
            keys = [
                Key(hmac_kid(s), "HS256", s.encode(), s.encode() if i == 0 else None)
                for i, s in enumerate(settings.secret_keys)
            ]
            return cls(keys[0], keys[1:] + previous)
        return cls(cls._asymmetric_signer(settings, algorithm), previous)

    @staticmethod
    def _retired(path: str) -> Key:
        public = load_public_key(path)
        return Key(thumbprint(public), algorithm_for(public), public)

    @staticmethod
    def _asymmetric_signer(settings: Settings, algorithm: str) -> Key:
        if settings.jwt_private_key_file:
            private = load_private_key(settings.jwt_private_key_file)
        elif settings.jwt_public_key_file:
            raise ConfigError("JWT_PUBLIC_KEY_FILE is set without JWT_PRIVATE_KEY_FILE.")
        else:
            log.warning(
                "JWT_ALGORITHM=%s with no JWT_PRIVATE_KEY_FILE: using an ephemeral key pair "
                "generated in memory. Tokens die with this process and other replicas cannot "
                "verify them; generate shared keys with "
                "servers.jwt_server.keys.generate_keypair() for anything but development.",
                algorithm,
            )
            private = new_private_key(algorithm)
        public = private.public_key()
        if algorithm_for(public) != algorithm:
            raise ConfigError(
                f"JWT_PRIVATE_KEY_FILE holds a key for {algorithm_for(public)}, "
                f"but JWT_ALGORITHM is {algorithm}."
            )
        if settings.jwt_public_key_file:
            declared = load_public_key(settings.jwt_public_key_file)
            if _public_bytes(declared) != _public_bytes(public):
                raise ConfigError("JWT_PUBLIC_KEY_FILE is not the public half of the private key.")
        return Key(thumbprint(public), algorithm, public, private)

    def get(self, kid: object) -> Key | None:
        """The key for a token's kid, if it is on the allow-list."""
        return self._by_kid.get(kid) if isinstance(kid, str) else None

    def __iter__(self):
        return iter(self._by_kid.values())

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JWK Set of every public key that may verify a live token (HMAC keys: none)."""
        return {"keys": [jwk for key in self if (jwk := key.public_jwk()) is not None]}
