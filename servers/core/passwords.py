"""bcrypt password hashing, its input rules, and the dummy check that hides unknown emails.

bcrypt is slow on purpose, and a login storm can put every worker thread of a replica to hashing:
then nothing answers HAProxy's health check, and a busy replica is pulled from the rotation as if
it were dead. So a replica hashes in at most `slots` threads at once (one fewer than its threads,
set by the lab); a login that finds every slot busy is refused at once with 503 and Retry-After
(backpressure the client can honour), and the free thread keeps answering /health and /auth/me.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import bcrypt

from .errors import ApiError

#: OWASP ASVS: at least 8 characters.
MIN_PASSWORD_CHARS = 8
#: bcrypt reads only 72 bytes; bcrypt 5 raises beyond that, so we refuse rather than truncate.
MAX_PASSWORD_BYTES = 72
#: Seconds a client is told to wait when every hashing slot is busy (about one hash at cost 12).
BUSY_RETRY_AFTER = 1

T = TypeVar("T")


class HashingBusy(ApiError):
    """Every hashing slot of this replica is in use: come back in a moment (not an outage)."""

    def __init__(self, slots: int):
        super().__init__(
            503,
            "hashing_busy",
            f"This replica is already checking {slots} password(s), its limit; "
            f"retry after {BUSY_RETRY_AFTER} s.",
            {"Retry-After": str(BUSY_RETRY_AFTER)},
        )


def validate_password(password: object, field: str = "password") -> str:
    """Return the password, or raise a 400 that says what is wrong with it."""
    if not isinstance(password, str):
        raise ApiError(400, "invalid_input", f"'{field}' must be a string.")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ApiError(
            400, "invalid_input", f"'{field}' must be at least {MIN_PASSWORD_CHARS} characters."
        )
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ApiError(
            400,
            "invalid_input",
            f"'{field}' must be at most {MAX_PASSWORD_BYTES} bytes of UTF-8 "
            "(bcrypt ignores anything longer).",
        )
    return password


class PasswordHasher:
    """bcrypt at a fixed cost, plus a dummy hash of the same cost for unknown emails.

    `slots`: how many threads of this process may hash at once (0: no limit).
    """

    def __init__(self, rounds: int = 12, slots: int = 0):
        self.rounds = rounds
        self.slots = slots
        self._slots = threading.BoundedSemaphore(slots) if slots > 0 else None
        # Same cost as real hashes: a login for an unknown email takes as long as a wrong password.
        self._dummy = bcrypt.hashpw(b"authlab-dummy-password", bcrypt.gensalt(rounds))

    @contextmanager
    def _slot(self) -> Iterator[None]:
        """Hold a hashing slot, or refuse at once: a waiting thread could not answer /health."""
        if self._slots is None:
            yield
            return
        if not self._slots.acquire(blocking=False):
            raise HashingBusy(self.slots)
        try:
            yield
        finally:
            self._slots.release()

    def _limited(self, work: Callable[[], T]) -> T:
        with self._slot():
            return work()

    def hash(self, password: str) -> str:
        """Hash a validated password (503 hashing_busy when every slot is in use)."""
        salt = bcrypt.gensalt(self.rounds)
        return self._limited(lambda: bcrypt.hashpw(password.encode("utf-8"), salt)).decode()

    def verify(self, password: str, hashed: str | None) -> bool:
        """Check a password; with no hash, still spend one bcrypt check (timing does not tell)."""
        return self._limited(lambda: self._verify(password, hashed))

    def _verify(self, password: str, hashed: str | None) -> bool:
        candidate = password.encode("utf-8")
        if len(candidate) > MAX_PASSWORD_BYTES:
            candidate = candidate[:MAX_PASSWORD_BYTES]  # bcrypt 5 would raise; the answer is no
            bcrypt.checkpw(candidate, hashed.encode() if hashed else self._dummy)
            return False
        if hashed is None:
            bcrypt.checkpw(candidate, self._dummy)
            return False
        return bcrypt.checkpw(candidate, hashed.encode())
