"""The state DPoP brings back: proof ids seen (replay check) and the key of each refresh family.

A stateless JWT needs no store; a DPoP proof does. RFC 9449 (11.1) asks the server to refuse a
proof whose `jti` it has seen within the freshness window, so every proof id must be remembered
for that long by whoever may see the replay:

- `redis`: one SET NX with a TTL per request, shared by every replica: a proof replayed on any
  replica is refused. One round trip per authenticated request, and Redis down is a 503.
- `memory`: each replica remembers the ids it saw. No round trip; but a copy of a proof sent to
  another replica behind round-robin gets in once there, within the window, for the same
  method and URL only (the proof names them, and the token's key must have signed it).

Refresh mode also binds each refresh-token family to the key that started it (RFC 9449 5: a
public client's refresh token is bound): `dpopfam:<family>` holds the thumbprint, for as long
as the family may live.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict

import redis

from ..core.redis_store import RedisBacked
from .stores.families import TOKEN_PREFIX, hash_token

JTI_PREFIX = "dpopjti:"
FAMILY_KEY_PREFIX = "dpopfam:"

# KEYS: rt:<hash of the presented refresh token>. ARGV: dpopfam: prefix.
# The family's bound key in one round trip: the token record names the family. An unknown
# token is nil (the rotation then says why); a known token of an unbound family is "".
FAMILY_KEY_SCRIPT = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local family = cjson.decode(raw).f
return redis.call('GET', ARGV[1] .. family) or ''

"""


def jti_key(jkt: str, jti: str) -> str:
    """A proof id, scoped by its key (two clients may pick one jti), hashed to a fixed size."""
    return hashlib.sha256(f"{jkt}:{jti}".encode()).hexdigest()


class MemoryReplay:
    """Proof ids this replica saw within the window (per process, not shared)."""

    name = "memory"
    round_trips = 0

    def __init__(self, ttl: float, limit: int = 200_000):
        self.ttl = ttl
        self.limit = limit
        self.seen: OrderedDict[str, float] = OrderedDict()
        self.lock = threading.Lock()

    def first_use(self, key: str) -> bool:
        """Remember `key`; False if it was already seen within the window."""
        now = time.monotonic()
        with self.lock:
            # Insertion order is expiry order (one TTL for all): prune from the front.
            while self.seen and (
                next(iter(self.seen.values())) < now or len(self.seen) > self.limit
            ):
                self.seen.popitem(last=False)
            if key in self.seen:
                return False
            self.seen[key] = now + self.ttl
            return True


class RedisReplay(RedisBacked):
    """Proof ids every replica saw, in Redis: SET NX with the window as TTL."""

    name = "redis"
    round_trips = 1
    down_message = "The DPoP replay store (Redis) is unavailable; try again shortly."

    def __init__(self, client: redis.Redis, ttl: float):
        super().__init__(client)
        self.ttl_ms = max(1, int(ttl * 1000))

    def first_use(self, key: str) -> bool:
        """Remember `key` for the window; False if any replica already did."""
        return bool(self.call(self.client.set, JTI_PREFIX + key, 1, nx=True, px=self.ttl_ms))


class FamilyKeys(RedisBacked):
    """The thumbprint each refresh family is bound to."""

    down_message = "The refresh-token store (Redis) is unavailable; try again shortly."

    def __init__(self, client: redis.Redis, ttl: int):
        super().__init__(client)
        self.ttl = ttl
        self._lookup = client.register_script(FAMILY_KEY_SCRIPT)

    def bind(self, family: str, jkt: str) -> None:
        """Bind a family to a key for a refresh lifetime from now (it slides as the family's
        does). A refresh only gets here after `key_of` matched, so the key never changes."""
        self.call(self.client.set, FAMILY_KEY_PREFIX + family, jkt, ex=self.ttl)

    def key_of(self, refresh_token: str) -> str | None:
        """The thumbprint the presented refresh token's family is bound to; "" for a family bound
        to no key; None for a token this server does not know."""
        return self.call(
            self._lookup, keys=[TOKEN_PREFIX + hash_token(refresh_token)], args=[FAMILY_KEY_PREFIX]
        )
