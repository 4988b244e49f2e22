"""bcrypt password hashing, its input rules, and the dummy check that hides unknown emails."""

from __future__ import annotations

import bcrypt

from .errors import ApiError

#: OWASP ASVS: at least 8 characters.
MIN_PASSWORD_CHARS = 8
#: bcrypt reads only 72 bytes; bcrypt 5 raises beyond that, so we refuse rather than truncate.
MAX_PASSWORD_BYTES = 72


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
    """bcrypt at a fixed cost, plus a dummy hash of the same cost for unknown emails."""

    def __init__(self, rounds: int = 12):
        self.rounds = rounds
        # Same cost as real hashes: a login for an unknown email takes as long as a wrong password.
        self._dummy = bcrypt.hashpw(b"authlab-dummy-password", bcrypt.gensalt(rounds))

    def hash(self, password: str) -> str:
        """Hash a validated password."""
        return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(self.rounds)).decode()

    def verify(self, password: str, hashed: str | None) -> bool:
        """Check a password; with no hash, still spend one bcrypt check (timing does not tell)."""
        candidate = password.encode("utf-8")
        if len(candidate) > MAX_PASSWORD_BYTES:
            candidate = candidate[:MAX_PASSWORD_BYTES]  # bcrypt 5 would raise; the answer is no
            bcrypt.checkpw(candidate, hashed.encode() if hashed else self._dummy)
            return False
        if hashed is None:
            bcrypt.checkpw(candidate, self._dummy)
            return False
        return bcrypt.checkpw(candidate, hashed.encode())
