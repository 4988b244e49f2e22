"""The Redis store: every replica sees every session, and an authenticated request costs one
round trip.

Layout (all keys hashed: a dump of Redis hands out no live cookie):
    sess:<sha256(id)>    the record, JSON; TTL = min(idle timeout, time left to the absolute one)
    usess:<user id>      sorted set of that user's session hashes, scored by creation time

Reading a session and sliding its idle timeout is one Lua script (one round trip); nothing else
is written when nothing changed. Compare the tutorial's connect-redis, which touches the key and
reloads the user from PostgreSQL on every request, and Flask-Session, which rewrites the whole
record each time.
"""

from __future__ import annotations

import time

import redis

from ...core.errors import StoreUnavailable
from ...core.redis_client import REDIS_DOWN
from .base import ListedSession, SessionRecord, SessionStore

SESSION_PREFIX = "sess:"
INDEX_PREFIX = "usess:"

# Read and slide in one round trip; enforce the absolute deadline on the server side too.
READ_SCRIPT = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local rec = cjson.decode(raw)
local left_ms = math.floor((rec['expires_at'] - tonumber(ARGV[1])) * 1000)
local ttl_ms = math.min(tonumber(ARGV[2]) * 1000, left_ms)
if ttl_ms <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
redis.call('PEXPIRE', KEYS[1], ttl_ms)
return raw
"""

# Create, index, prune dead index entries and evict the oldest beyond the cap, atomically.
# (It touches session keys named in ARGV, fine on a single Redis; a cluster would need hash tags.)
CREATE_SCRIPT = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[5])
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('EXISTS', ARGV[7] .. m) == 0 then redis.call('ZREM', KEYS[2], m) end
end
local evicted = {}
local cap = tonumber(ARGV[6])
if cap > 0 then
  local n = redis.call('ZCARD', KEYS[2])
  if n > cap then
    evicted = redis.call('ZRANGE', KEYS[2], 0, n - cap - 1)
    for _, m in ipairs(evicted) do
      redis.call('DEL', ARGV[7] .. m)
      redis.call('ZREM', KEYS[2], m)
    end
  end
end
return evicted
"""

# End all of a user's sessions but one, from the index: no SCAN over the keyspace.
DELETE_USER_SCRIPT = """
local n = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if m ~= ARGV[2] then
    n = n + redis.call('DEL', ARGV[1] .. m)
    redis.call('ZREM', KEYS[1], m)
  end
end
return n
"""


class RedisStore(SessionStore):
    """Sessions in Redis, shared by every replica."""

    name = "redis"
    read_round_trips = 1

    def __init__(self, client: redis.Redis, absolute_timeout: int):
        self.client = client
        self.absolute_timeout = absolute_timeout
        self._read = client.register_script(READ_SCRIPT)
        self._create = client.register_script(CREATE_SCRIPT)
        self._delete_user = client.register_script(DELETE_USER_SCRIPT)

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except REDIS_DOWN:
            raise StoreUnavailable() from None

    def create(self, key: str, record: SessionRecord, idle: int, max_per_user: int) -> list[str]:
        ttl_ms = int(min(idle, record.expires_at - time.time()) * 1000)
        return self._call(
            self._create,
            keys=[SESSION_PREFIX + key, INDEX_PREFIX + str(record.user_id)],
            args=[
                record.dumps(),
                ttl_ms,
                key,
                record.created,
                self.absolute_timeout,
                max_per_user,
                SESSION_PREFIX,
            ],
        )

    def read(self, key: str, now: float, idle: int) -> SessionRecord | None:
        raw = self._call(self._read, keys=[SESSION_PREFIX + key], args=[now, idle])
        return SessionRecord.loads(raw) if raw else None

    def delete(self, key: str, user_id: int) -> bool:
        def run():
            pipe = self.client.pipeline(transaction=True)
            pipe.delete(SESSION_PREFIX + key)
            pipe.zrem(INDEX_PREFIX + str(user_id), key)
            return pipe.execute()[0] == 1

        return self._call(run)

    def list_user(self, user_id: int, now: float, idle: int) -> list[ListedSession]:
        def run():
            members = self.client.zrange(INDEX_PREFIX + str(user_id), 0, -1)
            if not members:
                return []
            pipe = self.client.pipeline(transaction=False)
            for m in members:
                pipe.get(SESSION_PREFIX + m)
                pipe.pttl(SESSION_PREFIX + m)
            values = pipe.execute()
            rows = []
            for i, m in enumerate(members):
                raw, pttl = values[2 * i], values[2 * i + 1]
                if not raw or pttl < 0:
                    continue
                record = SessionRecord.loads(raw)
                # Last seen is derived from the TTL that the last request set, so tracking it
                # costs no write. When the absolute cap shortened that TTL it is a lower bound.
                last_seen = max(record.created, now + pttl / 1000 - idle)
                rows.append(ListedSession(m, record, last_seen))
            return rows

        return self._call(run)

    def delete_user(self, user_id: int, keep: str | None = None) -> int:
        return int(
            self._call(
                self._delete_user,
                keys=[INDEX_PREFIX + str(user_id)],
                args=[SESSION_PREFIX, keep or ""],
            )
        )

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except REDIS_DOWN:
            return False
