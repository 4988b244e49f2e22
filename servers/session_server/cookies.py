"""The session cookie: a random id, signed (as express-session does), HttpOnly and SameSite.

The signature adds little to a 256-bit random id, but it lets a replica reject a forged or
truncated cookie without asking Redis, and it is what the tutorial does. SECRET_KEY may hold
several secrets: the first signs, all of them verify, so a secret can be rotated without
logging everyone out. The flags (HttpOnly, SameSite=Lax, Secure) are set where every cookie
is written, `servers.core.backend.reply`.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import Request
from itsdangerous import BadSignature, Signer

from ..core.backend import Cookie

#: Cookie name. (`__Host-sid` would pin it to HTTPS and this host; the lab runs plain HTTP.)
COOKIE_NAME = "sid"
#: OWASP asks for at least 64 bits of entropy; we use 256 bits from the OS CSPRNG.
ID_BYTES = 32


def new_session_id() -> str:
    """A fresh, unguessable session id."""
    return secrets.token_urlsafe(ID_BYTES)


#: Hex characters of a store key: 128 bits of the id's SHA-256, as many as the id's own
#: guessing resistance needs and half the bytes of the full hash in every index entry.
STORE_KEY_HEX = 32


def store_key(session_id: str) -> str:
    """The store's key for an id (and the API's session id): the first 128 bits of its SHA-256,
    so nothing stored or listed is a usable cookie."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:STORE_KEY_HEX]


#: Between a cookie's value and the store epoch it was issued under, inside what is signed.
EPOCH_SEP = ":"


def stamp(value: str, epoch: str | None) -> str:
    """`value` with the store epoch it is issued under (core/epoch.py), for the signer.

    A session lost with the store's data cannot be read to learn when it began; its cookie can.
    So a replica that never saw the loss (started after it) still knows the session is older
    than what the store holds, and says so, rather than the bare "this session has ended"."""
    return f"{value}{EPOCH_SEP}{epoch}" if epoch else value


def unstamp(value: str) -> tuple[str, str | None]:
    """(value, epoch) from a stamped value (epoch None: issued without a store epoch)."""
    found, _, epoch = value.partition(EPOCH_SEP)
    return found, epoch or None


class KeyedSigner(Signer):
    """itsdangerous's Signer, deriving each secret's HMAC key once: the stock one hashes the
    secret again (SHA-1) for every cookie it checks, the same key each time."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        """The key for `secret_key` (the newest secret by default), derived on first use."""
        if secret_key is None:
            secret_key = self.secret_keys[-1]
        cache = self.__dict__.setdefault("_derived", {})
        if (key := cache.get(secret_key)) is None:
            key = cache[secret_key] = super().derive_key(secret_key)
        return key


class SessionCookie:
    """Signs and reads the session cookie; says what to set or expire (`reply` writes it)."""

    def __init__(self, secret_keys: tuple[str, ...], max_age: int):
        # itsdangerous signs with the *last* key and verifies with all: hand it oldest first.
        self.signer = KeyedSigner(list(reversed(secret_keys)), salt="authlab.session")
        self.max_age = max_age

    def read(self, request: Request) -> str | None:
        """The session id from a validly signed cookie, or None."""
        found = self.read_stamped(request)
        return found[0] if found is not None else None

    def read_stamped(self, request: Request) -> tuple[str, str | None] | None:
        """(session id, the store epoch it was issued under) from a validly signed cookie."""
        raw = request.cookies.get(COOKIE_NAME)
        if not raw or len(raw) > 256:
            return None
        try:
            return unstamp(self.signer.unsign(raw).decode())
        except (BadSignature, UnicodeDecodeError):
            return None

    def issue(self, session_id: str, epoch: str | None = None) -> Cookie:
        """The signed id (and store epoch), kept by the browser as long as the absolute
        timeout."""
        value = self.signer.sign(stamp(session_id, epoch)).decode()
        return Cookie(COOKIE_NAME, value, "/", self.max_age)

    @staticmethod
    def expired() -> Cookie:
        """Tell the browser to drop the cookie."""
        return Cookie.expired(COOKIE_NAME)
