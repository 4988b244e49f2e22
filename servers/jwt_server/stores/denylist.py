"""The denylist: what makes a JWT revocable, at the price of one Redis round trip per request.

Layout (both keys expire by themselves once no token they could refuse is still alive):
    deny:<jti>             "1"; a logged-out token, keyed on its id (RFC 8725), never its bytes
    revoked-before:<uid>   epoch seconds (ms precision); the user's tokens issued before it die

One MGET reads both for a request: the server is stateful again, exactly like the session
server, which also costs one round trip. That is the lesson of this mode. Guarded
(JWT_REVOCATION_GUARD=on), the same MGET reads the store's epoch marker too (core/epoch.py): a
store that lost its denylist is noticed at the first request after, at no extra round trip.
"""

from __future__ import annotations

import math

import redis

from ...core.epoch import EPOCH_KEY, EpochGuard
from ...core.redis_store import RedisBacked

DENY_PREFIX = "deny:"
CUT_PREFIX = "revoked-before:"

#: Shown on a 503: the token may be fine, but we cannot tell whether it was revoked.
DOWN_MESSAGE = "The token denylist (Redis) is unavailable; try again shortly."


def ttl_seconds(seconds: float) -> int:
    """A Redis TTL that outlives `seconds` (rounded up, at least 1)."""
    return max(1, math.ceil(seconds))


class DenylistStore(RedisBacked):
    """Revoked token ids and per-user cuts (no per-user index: a cut is one key per user)."""

    #: Round trips an authenticated request costs: one MGET.
    round_trips = 1
    down_message = DOWN_MESSAGE

    def __init__(self, client: redis.Redis, guard: EpochGuard | None = None):
        super().__init__(client)
        self.guard = guard
        self.epoch_keys = [EPOCH_KEY] if guard is not None else []

    def check(self, jti: str, user_id: int, issued_at: float) -> str | None:
        """Why this token is refused, or None. One round trip, and it writes nothing (unless
        the epoch marker is gone: then the guard starts a new epoch)."""
        keys = [DENY_PREFIX + jti, CUT_PREFIX + str(user_id), *self.epoch_keys]
        denied, cut, *marker = self.call(self.client.mget, keys)
        if self.guard is not None:
            self.call(self.guard.observe, marker[0])
        if denied:
            return "This token was revoked (logged out): log in again."
        if cut is not None and issued_at < float(cut):
            return "Every token of this user issued before a revocation was ended: log in again."
        return None

    def deny(self, jti: str, lives_for: float) -> None:
        """Refuse one token from now on, for as long as it would otherwise live."""
        self.call(self.client.set, DENY_PREFIX + jti, "1", ex=ttl_seconds(lives_for))

    def cut(self, user_id: int, at: float, lives_for: float) -> None:
        """Refuse every token of the user issued before `at` (kept while such a token lives)."""
        self.call(self.client.set, CUT_PREFIX + str(user_id), repr(at), ex=ttl_seconds(lives_for))
