"""The Redis plumbing every credential store shares, written once.

Three stores keep credentials in Redis (the session server's sessions, the JWT denylist, the
refresh-token families). Each needs the same three things, and they live here:

- an outage becomes `StoreUnavailable` (a 503 with Retry-After), never a 500 or a guess;
- `ping`, for /health;
- a *per-user index*: a sorted set of the user's credentials, so that "log out everywhere"
  needs no SCAN. Each member is scored by the moment its credential dies; every write drops
  the dead members, and the index itself expires with its longest-lived member. So the index
  stays bounded by the user's live credentials, however many logins came and went.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import redis

from .errors import StoreUnavailable
from .redis_client import REDIS_DOWN

T = TypeVar("T")

#: Lua helpers for a per-user index; prepend them to a script that writes to one.
#: `index_settle` drops members whose credential died (score <= now) and makes the index expire
#: when its last member does: its TTL never slides past the longest-lived credential.
#: `index_add` adds (or re-scores) a member that dies at `dies_at` (epoch seconds), then settles.
INDEX_LUA = """
local function index_settle(key, now)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIREAT', key, math.ceil(tonumber(last[2]) * 1000))
  end
end
local function index_add(key, member, dies_at, now)
  redis.call('ZADD', key, dies_at, member)
  index_settle(key, now)
end
"""

#: End every credential a user's index names, and the index. Reads one more key in the same
#: step when asked (the refresh store's "latest access-token expiry"), for an honest report.
#: KEYS: the index[, a key to read]   ARGV: the prefix of the credential keys
#: Returns {how many credentials were still there, the extra key's value or false}.
REVOKE_INDEX_SCRIPT = """
local n = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  n = n + redis.call('DEL', ARGV[1] .. m)
end
redis.call('DEL', KEYS[1])
local also = false
if KEYS[2] then also = redis.call('GET', KEYS[2]) end
return {n, also}
"""


def ping(client: redis.Redis) -> bool:
    """Whether Redis answers; /health reports it rather than failing."""
    try:
        return bool(client.ping())
    except REDIS_DOWN:
        return False


class RedisBacked:
    """Base of a store that keeps credentials in Redis: fail closed, ping, per-user index."""

    #: The sentence of the 503 when Redis does not answer.
    down_message = "The session store is unavailable; try again shortly."

    def __init__(self, client: redis.Redis):
        self.client = client
        self._revoke_index = client.register_script(REVOKE_INDEX_SCRIPT)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one Redis operation; an outage becomes StoreUnavailable (fail closed)."""
        try:
            return fn(*args, **kwargs)
        except REDIS_DOWN:
            raise StoreUnavailable(self.down_message) from None

    def ping(self) -> bool:
        """Whether the store answers."""
        return ping(self.client)

    def revoke_index(
        self, index: str, member_prefix: str, also_read: str | None = None
    ) -> tuple[int, str | None]:
        """Delete every credential named in `index` (keys `member_prefix + member`) and the
        index, in one atomic step; returns (how many there were, the value of `also_read`)."""
        keys = [index] if also_read is None else [index, also_read]
        count, also = self.call(self._revoke_index, keys=keys, args=[member_prefix])
        return int(count), also or None
