"""The Redis store: every replica sees every session, and an authenticated request costs one
round trip.

Layout, packed for memory (`python -m lab bench --memory` measures the bytes per live session,
index included). Every key is derived from a hash of the id: a dump of Redis hands out no live
cookie. The store key is 128 bits of sha256(id), 32 hex (servers/session_server/cookies.py).
    s:<first 108 bits of the store key, base64url> the record, packed (see `pack`); TTL = min(idle
                                                  timeout, time left to the absolute one)
    u:<user id // 64>                             the per-user index, 64 users to one sorted set:
                                                  members "<user id>:<store key, base64url>",
                                                  scored by absolute deadline (whole seconds,
                                                  rounded up: an integer packs smaller); pruned
                                                  on every write, it expires with its last
                                                  session (see
                                                  servers/core/redis_store.py: the index stays
                                                  bounded by live sessions)
    ua:<6 characters of a hash of the User-Agent>  the User-Agent string, stored once for every
                                                  session that shares it
Small sorted sets and short strings stay in Redis's compact encodings (listpack, embedded
strings); a key of their own per session and per user would cost ~150 bytes each.

Reading a session is one plain GET (one round trip, no write). The idle timeout slides as
production session stores slide it, by steps rather than on every request: a process renews a
session's TTL (PEXPIRE, capped at the absolute deadline) only when it has not renewed it for
`renew_step(idle)` (a tenth of the idle timeout, at most a minute), so an active session costs
one write a minute, not one per request, and an idle one ends between `idle - step` and `idle`
after its last request: earlier, never later. Compare the tutorial's connect-redis, which touches
the key and reloads the user from PostgreSQL on every request, and Flask-Session, which rewrites
the whole record each time.
"""

from __future__ import annotations

import base64
import hashlib
import math
import socket
import threading
import time

import redis

from ...core.redis_store import INDEX_LUA, RedisBacked
from .base import ListedSession, SessionRecord, SessionStore

SESSION_PREFIX = "s:"
INDEX_PREFIX = "u:"
UA_PREFIX = "ua:"
#: Users per index bucket: small enough to stay a listpack (zset-max-listpack-entries 128).
USERS_PER_BUCKET = 64
#: Separates packed fields; emails and IPs cannot contain it, the name comes last.
SEP = "\x1f"
B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
#: Characters of the hash in a record's key name.
KEY_CHARS = 18
#: The role most users have; stored as an empty field.
DEFAULT_ROLE = "user"
#: The idle timeout slides by steps of this share of it (see `renew_step`)...
RENEW_SHARE = 0.1
#: ...and of at most this many seconds.
RENEW_MAX_STEP = 60.0
#: Sessions a process remembers renewing; past that it forgets them all (which costs each one
#: renewal more, nothing else).
RENEWED_MAX = 10_000


def renew_step(idle: float) -> float:
    """Seconds between two renewals of a session's TTL by one process: the idle timeout ends
    at most this much early, never late."""
    return min(RENEW_MAX_STEP, idle * RENEW_SHARE)


def b36(n: int) -> str:
    """A non-negative integer in base 36 (Lua reads it back with tonumber(s, 36))."""
    out = ""
    while True:
        n, digit = divmod(n, 36)
        out = B36[digit] + out
        if n == 0:
            return out


def b64(raw: bytes) -> str:
    """Base64url without padding: 4 characters per 3 bytes, against hex's 6."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def session_key(key: str) -> str:
    """The record's Redis key for a store key (32 hex characters of sha256(id)): 108 bits of
    the hash are plenty to find it, and still nothing an attacker can turn into a cookie.
    18 base64 characters, the first 18 of the store key's 22 (Lua cuts them out of the index):
    with the prefix, a 20-byte name, the largest in Redis's smallest allocation for keys."""
    return SESSION_PREFIX + b64(bytes.fromhex(key))[:KEY_CHARS]


def index_key(user_id: int) -> str:
    """The index bucket that holds this user's sessions."""
    return INDEX_PREFIX + str(user_id // USERS_PER_BUCKET)


def index_member(user_id: int, key: str) -> str:
    """The index entry of one session: its owner, then the store key (the API's session id)."""
    return f"{user_id}:{b64(bytes.fromhex(key))}"


def key_of_member(member: str) -> str:
    """The store key (32 hex) back from an index entry."""
    digest = member.split(":", 1)[1]
    return base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4)).hex()


def ua_id(user_agent: str) -> str:
    """A short name for a User-Agent string (36 bits of its hash)."""
    return b64(hashlib.blake2b(user_agent.encode(), digest_size=6).digest())[:6]


def pack_ip(ip: str) -> str:
    """An IP address as base64url of its bytes (6 characters for IPv4, 22 for IPv6)."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            return b64(socket.inet_pton(family, ip))
        except OSError:
            continue
    return "~" + ip  # not an address (never from a real socket): kept as text


def unpack_ip(text: str) -> str:
    """The IP address back from `pack_ip`."""
    if not text or text.startswith("~"):
        return text[1:]
    packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return socket.inet_ntop(socket.AF_INET if len(packed) == 4 else socket.AF_INET6, packed)


def deadline_ms(record: SessionRecord) -> int:
    """The absolute deadline in ms, as the packed record keeps it (and the index scores it)."""
    return max(round(record.created * 1000), round(record.expires_at * 1000))


def pack(record: SessionRecord) -> str:
    """The record as one short string (80 bytes for a typical user: Redis's next allocation
    size up is 96). In order: creation time and the lifetime to the absolute deadline (ms, base
    36), User-Agent id, IP, then the user: id, role (empty: the default), email, name (last:
    it may hold SEP)."""
    user = record.user
    created_ms = round(record.created * 1000)
    role = str(user["role"])
    fields = [
        b36(created_ms),
        b36(deadline_ms(record) - created_ms),
        ua_id(record.user_agent) if record.user_agent else "",
        pack_ip(record.ip),
        str(user["id"]),
        "" if role == DEFAULT_ROLE else role,
        str(user["email"]),
        str(user["name"]),
    ]
    return SEP.join(fields)


def unpack(raw: str, user_agent: str) -> SessionRecord:
    """The record back from `pack`, with the User-Agent string the read looked up."""
    created, lifetime, _ua, ip, user_id, role, email, name = raw.split(SEP, 7)
    created_ms = int(created, 36)
    return SessionRecord(
        user={"id": int(user_id), "email": email, "name": name, "role": role or DEFAULT_ROLE},
        created=created_ms / 1000,
        expires_at=(created_ms + int(lifetime, 36)) / 1000,
        user_agent=user_agent,
        ip=unpack_ip(ip),
    )


# Lua helpers shared by the scripts below: a user's index entries, and an entry's record key.
ENTRIES = (
    INDEX_LUA
    + """
local function entries(index, user)
  local prefix, mine = user .. ':', {}
  for _, m in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    if string.sub(m, 1, #prefix) == prefix then table.insert(mine, m) end
  end
  return mine
end
local function record_key(member, prefix)
  local digest = string.sub(member, string.find(member, ':', 1, true) + 1)
  return prefix .. string.sub(digest, 1, 18)
end
"""
)

# Create, index, prune dead index entries and evict the oldest beyond the cap, atomically.
# (It touches session keys named in ARGV, fine on a single Redis; a cluster would need hash tags.)
CREATE_SCRIPT = (
    ENTRIES
    + """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
index_add(KEYS[2], ARGV[3], ARGV[5], ARGV[11])
if ARGV[9] ~= '' then
  -- The User-Agent string outlives every session that names it: its TTL only grows.
  local ttl_ms = math.ceil((tonumber(ARGV[5]) - tonumber(ARGV[11])) * 1000)
  local key = ARGV[8] .. ARGV[9]
  if redis.call('PTTL', key) < ttl_ms then redis.call('SET', key, ARGV[10], 'PX', ttl_ms) end
end
local alive = {}
for _, m in ipairs(entries(KEYS[2], ARGV[4])) do
  local raw = redis.call('GET', record_key(m, ARGV[7]))
  if raw then
    local created = string.match(raw, '^([^\\031]*)')
    table.insert(alive, {string.rep('0', 12 - #created) .. created, m})
  else
    redis.call('ZREM', KEYS[2], m)
  end
end
table.sort(alive, function(a, b) return a[1] < b[1] end)
local evicted = {}
local cap = tonumber(ARGV[6])
if cap > 0 and #alive > cap then
  for i = 1, #alive - cap do
    local m = alive[i][2]
    redis.call('DEL', record_key(m, ARGV[7]))
    redis.call('ZREM', KEYS[2], m)
    table.insert(evicted, m)
  end
end
return evicted
"""
)

# End all of a user's sessions but one, from the index: no SCAN over the keyspace.
DELETE_USER_SCRIPT = (
    ENTRIES
    + """
local n = 0
for _, m in ipairs(entries(KEYS[1], ARGV[2])) do
  if m ~= ARGV[3] then
    n = n + redis.call('DEL', record_key(m, ARGV[1]))
    redis.call('ZREM', KEYS[1], m)
  end
end
index_settle(KEYS[1], ARGV[4])
return n
"""
)

# End one session and drop it from its user's index.
DELETE_SCRIPT = (
    INDEX_LUA
    + """
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
index_settle(KEYS[2], ARGV[2])
return n
"""
)

# A user's live sessions: index entry, record, PTTL and User-Agent, in one round trip.
LIST_SCRIPT = (
    ENTRIES
    + """
local rows = {}
for _, m in ipairs(entries(KEYS[1], ARGV[2])) do
  local k = record_key(m, ARGV[1])
  local raw = redis.call('GET', k)
  if raw then
    local ua_id = string.match(raw, '^[^\\031]*\\031[^\\031]*\\031([^\\031]*)')
    local ua = ''
    if ua_id ~= '' then ua = redis.call('GET', ARGV[3] .. ua_id) or '' end
    table.insert(rows, {m, raw, redis.call('PTTL', k), ua})
  end
end
return rows
"""
)


class RedisStore(RedisBacked, SessionStore):
    """Sessions in Redis, shared by every replica."""

    name = "redis"

    def __init__(self, client: redis.Redis):
        super().__init__(client)
        #: When this process last set each session's TTL (store key -> epoch seconds).
        self._renewed: dict[str, float] = {}
        self._local = threading.local()
        self._create = client.register_script(CREATE_SCRIPT)
        self._delete = client.register_script(DELETE_SCRIPT)
        self._delete_user = client.register_script(DELETE_USER_SCRIPT)
        self._list = client.register_script(LIST_SCRIPT)

    def redis_client(self) -> redis.Redis:
        return self.client

    def create(self, key: str, record: SessionRecord, idle: int, max_per_user: int) -> list[str]:
        now = time.time()
        ttl_ms = int(min(idle, record.expires_at - now) * 1000)
        user_id = record.user_id
        ua = record.user_agent
        evicted = self.call(
            self._create,
            keys=[session_key(key), index_key(user_id)],
            args=[
                pack(record),
                ttl_ms,
                index_member(user_id, key),
                user_id,
                math.ceil(deadline_ms(record) / 1000),  # whole seconds: a compact score
                max_per_user,
                SESSION_PREFIX,
                UA_PREFIX,
                ua_id(ua) if ua else "",
                ua,
                now,
            ],
        )
        self._remember(key, now)
        return [key_of_member(m) for m in evicted]

    @property  # type: ignore[override]
    def read_round_trips(self) -> int:
        """This thread's last read: 1 (a GET), 2 when it also renewed the TTL."""
        return getattr(self._local, "trips", 1)

    def _remember(self, key: str, now: float) -> None:
        """Note that this process just set the session's TTL."""
        if len(self._renewed) >= RENEWED_MAX:
            self._renewed.clear()
        self._renewed[key] = now

    def read(self, key: str, now: float, idle: int) -> SessionRecord | None:
        """One GET; a PEXPIRE besides once per renewal step (the record's User-Agent is left
        empty: only the session list shows it, and reads it there)."""
        name = session_key(key)
        raw = self.call(self.client.get, name)
        self._local.trips = 1
        if raw is None:
            return None
        record = unpack(raw, "")
        left = record.expires_at - now
        if left <= 0:  # Redis drops it at that moment anyway: never serve it past its deadline
            return None
        if now - self._renewed.get(key, 0.0) >= renew_step(idle):
            self._local.trips = 2
            # PEXPIRE never brings a deleted session back: 0 means it ended meanwhile.
            if not self.call(self.client.pexpire, name, int(min(idle, left) * 1000)):
                return None
            self._remember(key, now)
        return record

    def delete(self, key: str, user_id: int) -> bool:
        keys = [session_key(key), index_key(user_id)]
        args = [index_member(user_id, key), time.time()]
        return self.call(self._delete, keys=keys, args=args) == 1

    def list_user(self, user_id: int, now: float, idle: int) -> list[ListedSession]:
        found = self.call(
            self._list, keys=[index_key(user_id)], args=[SESSION_PREFIX, user_id, UA_PREFIX]
        )
        rows = []
        for member, raw, pttl, ua in found:
            if pttl < 0:
                continue
            record = unpack(raw, ua)
            # Last seen is derived from the TTL that the last renewal set, so tracking it
            # costs no write: a lower bound, by up to one renewal step (or more when the
            # absolute cap shortened that TTL).
            last_seen = max(record.created, now + pttl / 1000 - idle)
            rows.append(ListedSession(key_of_member(member), record, last_seen))
        return rows

    def delete_user(self, user_id: int) -> int:
        return int(
            self.call(
                self._delete_user,
                keys=[index_key(user_id)],
                args=[SESSION_PREFIX, user_id, "", time.time()],
            )
        )
