"""The Redis store: every replica sees every session, and an authenticated request costs one
round trip.

Layout (all keys hashed: a dump of Redis hands out no live cookie):
    sess:<sha256(id)>    the record, JSON; TTL = min(idle timeout, time left to the absolute one)
    usess:<user id>      sorted set of that user's session hashes, scored by absolute deadline;
                         pruned on every write, it expires with its last session (see
                         servers/core/redis_store.py: the index stays bounded by live sessions)

Reading a session and sliding its idle timeout is one Lua script (one round trip); nothing else
is written when nothing changed. Compare the tutorial's connect-redis, which touches the key and
reloads the user from PostgreSQL on every request, and Flask-Session, which rewrites the whole
record each time.
"""

from __future__ import annotations

import time

import redis

from ...core.redis_store import INDEX_LUA, RedisBacked
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

# Create and index; drop index entries whose session ended (past its deadline, or idle too
# long), and evict the oldest beyond the cap, atomically.
# (It touches session keys named in ARGV, fine on a single Redis; a cluster would need hash tags.)
# KEYS: sess:<hash>, usess:<uid>   ARGV: record, ttl ms, hash, deadline, cap, sess prefix, now
CREATE_SCRIPT = (
    INDEX_LUA
    + """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
index_add(KEYS[2], ARGV[3], ARGV[4], ARGV[7])
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if redis.call('EXISTS', ARGV[6] .. m) == 0 then redis.call('ZREM', KEYS[2], m) end
end
local evicted = {}
local cap = tonumber(ARGV[5])
if cap > 0 then
  local n = redis.call('ZCARD', KEYS[2])
  if n > cap then
    evicted = redis.call('ZRANGE', KEYS[2], 0, n - cap - 1)
    for _, m in ipairs(evicted) do
      redis.call('DEL', ARGV[6] .. m)
      redis.call('ZREM', KEYS[2], m)
    end
  end
end
return evicted
"""
)

# End one session and drop it from its user's index.
# KEYS: sess:<hash>, usess:<uid>   ARGV: hash, now
DELETE_SCRIPT = (
    INDEX_LUA
    + """
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
index_settle(KEYS[2], ARGV[2])
return n
"""
)


class RedisStore(RedisBacked, SessionStore):
    """Sessions in Redis, shared by every replica."""

    name = "redis"
    read_round_trips = 1

    def __init__(self, client: redis.Redis):
        super().__init__(client)
        self._read = client.register_script(READ_SCRIPT)
        self._create = client.register_script(CREATE_SCRIPT)
        self._delete = client.register_script(DELETE_SCRIPT)

    def redis_client(self) -> redis.Redis:
        return self.client

    def create(self, key: str, record: SessionRecord, idle: int, max_per_user: int) -> list[str]:
        now = time.time()
        ttl_ms = int(min(idle, record.expires_at - now) * 1000)
        return self.call(
            self._create,
            keys=[SESSION_PREFIX + key, INDEX_PREFIX + str(record.user_id)],
            args=[
                record.dumps(),
                ttl_ms,
                key,
                record.expires_at,
                max_per_user,
                SESSION_PREFIX,
                now,
            ],
        )

    def read(self, key: str, now: float, idle: int) -> SessionRecord | None:
        raw = self.call(self._read, keys=[SESSION_PREFIX + key], args=[now, idle])
        return SessionRecord.loads(raw) if raw else None

    def delete(self, key: str, user_id: int) -> bool:
        keys = [SESSION_PREFIX + key, INDEX_PREFIX + str(user_id)]
        return self.call(self._delete, keys=keys, args=[key, time.time()]) == 1

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

        return self.call(run)

    def delete_user(self, user_id: int) -> int:
        ended, _ = self.revoke_index(INDEX_PREFIX + str(user_id), SESSION_PREFIX)
        return ended
