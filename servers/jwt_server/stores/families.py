"""Refresh-token families in Redis: rotation on every use, and reuse detection.

A login starts a *family*. Each refresh presents the family's current token and gets a new one;
the presented token becomes *rotated*. A rotated token presented again means two parties hold
it, the user and a thief, and the server cannot tell which is which: the whole family is revoked
(the approach of Auth0 and SuperTokens). The tutorial stored one bcrypt hash per user, never
rotated it, and so logged every other device out at each login; here each device is a family.

Grace: two tabs of one browser share one cookie jar, and may both refresh with the same token
at the same moment (or a response may be lost and the request retried). A rotated token
presented within `grace` seconds of its rotation is not reuse: it gets a *sibling*, a new token
in the same family. The browser keeps whichever Set-Cookie arrived last; the next normal
rotation supersedes every sibling, so an orphan does not stay usable.

Layout (only SHA-256 hashes of tokens are stored: a dump of Redis hands out no refresh token):
    rt:<sha256(token)>   JSON {"f": family, "u": user id, "s": "a"ctive|"r"otated, "t": rotated at}
                         TTL = refresh lifetime; rotated records stay, that is how reuse is seen
    rfam:<family>        hash: uid, created, last_seen, user_agent, ip, active (token hashes),
                         exp (the latest access token issued in it); TTL slides at each refresh
    ufam:<uid>           sorted set of the user's family ids, scored by when each family dies
                         (its last refresh + the refresh lifetime): pruned on every write, it
                         expires with its longest-lived family (servers/core/redis_store.py)
    uexp:<uid>           the latest `exp` of any access token issued to the user, so a revocation
                         can say until when an already issued access token may still work

Every change is one Lua script: atomic, one round trip, no race between two replicas.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import redis

from ...core.epoch import EPOCH_KEY
from ...core.redis_store import INDEX_LUA, RedisBacked

TOKEN_PREFIX = "rt:"  # noqa: S105 (a key prefix, not a secret)
FAMILY_PREFIX = "rfam:"
INDEX_PREFIX = "ufam:"
LATEST_PREFIX = "uexp:"

DOWN_MESSAGE = "The refresh-token store (Redis) is unavailable; try again shortly."

# Keep the latest access-token expiry of a user, for a refresh lifetime (then "not on record"
# means "nothing issued for that long", not "forgotten").
RAISE_LATEST = """
local function raise_latest(key, exp, ttl)
  if tonumber(exp) > tonumber(redis.call('GET', key) or '0') then
    redis.call('SET', key, exp, 'EX', ttl)
  end
end
"""

# KEYS: rt:<hash>, rfam:<fid>, ufam:<uid>, uexp:<uid>
# ARGV: fid, uid, now, refresh ttl, user agent, ip, access exp, token hash
CREATE_SCRIPT = (
    INDEX_LUA
    + RAISE_LATEST
    + """
redis.call('SET', KEYS[1], cjson.encode({f = ARGV[1], u = ARGV[2], s = 'a'}), 'EX', ARGV[4])
redis.call('HSET', KEYS[2], 'uid', ARGV[2], 'created', ARGV[3], 'last_seen', ARGV[3],
  'user_agent', ARGV[5], 'ip', ARGV[6], 'active', ARGV[8], 'exp', ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[4])
index_add(KEYS[3], ARGV[1], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[3])
raise_latest(KEYS[4], ARGV[7], ARGV[4])
return 1
"""
)

# KEYS: rt:<presented hash>, rt:<new hash>, the epoch marker (core/epoch.py)
# ARGV: now, grace, new hash, refresh ttl, rt prefix, rfam prefix, ufam prefix, uexp prefix,
#       access exp
# Returns {outcome, family, user, epoch marker}: the marker is read in the same round trip.
ROTATE_SCRIPT = (
    INDEX_LUA
    + RAISE_LATEST
    + """
local epoch = redis.call('GET', KEYS[3])
local raw = redis.call('GET', KEYS[1])
if not raw then return {'unknown', false, false, epoch} end
local rec = cjson.decode(raw)
local fam = ARGV[6] .. rec.f
if redis.call('EXISTS', fam) == 0 then return {'revoked', rec.f, rec.u, epoch} end
local now = tonumber(ARGV[1])
local active
local outcome = 'rotated'
if rec.s == 'r' then
  if now - rec.t > tonumber(ARGV[2]) then
    -- A superseded token, presented again after the grace: theft. The family dies.
    redis.call('DEL', fam)
    redis.call('ZREM', ARGV[7] .. rec.u, rec.f)
    index_settle(ARGV[7] .. rec.u, now)
    return {'reuse', rec.f, rec.u, epoch}
  end
  -- Within the grace (two tabs, a retried request): a sibling joins the family.
  active = (redis.call('HGET', fam, 'active') or '') .. ' ' .. ARGV[3]
  outcome = 'grace'
else
  -- The normal case: this token and any grace siblings are superseded, now.
  for h in string.gmatch(redis.call('HGET', fam, 'active') or '', '%S+') do
    local k = ARGV[5] .. h
    local r = redis.call('GET', k)
    if r then
      local d = cjson.decode(r)
      if d.s == 'a' then
        d.s = 'r'
        d.t = now
        redis.call('SET', k, cjson.encode(d), 'KEEPTTL')
      end
    end
  end
  active = ARGV[3]
end
redis.call('SET', KEYS[2], cjson.encode({f = rec.f, u = rec.u, s = 'a'}), 'EX', ARGV[4])
redis.call('HSET', fam, 'active', active, 'last_seen', ARGV[1], 'exp', ARGV[9])
redis.call('EXPIRE', fam, ARGV[4])
index_add(ARGV[7] .. rec.u, rec.f, now + tonumber(ARGV[4]), now)
raise_latest(ARGV[8] .. rec.u, ARGV[9], ARGV[4])
return {outcome, rec.f, rec.u, epoch}
"""
)

# End one family, only if it belongs to the caller. Returns its latest access exp.
# KEYS: rfam:<fid>, ufam:<uid>   ARGV: uid, fid, now
REVOKE_SCRIPT = (
    INDEX_LUA
    + """
if redis.call('HGET', KEYS[1], 'uid') ~= ARGV[1] then return false end
local exp = redis.call('HGET', KEYS[1], 'exp')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
index_settle(KEYS[2], ARGV[3])
return exp
"""
)


def hash_token(token: str) -> str:
    """What Redis stores instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_family_id() -> str:
    """A family id: public to its owner (GET /auth/sessions), useless to anyone else."""
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Rotation:
    """What presenting a refresh token led to."""

    #: "rotated", "grace" (a sibling within the grace), "reuse" (family revoked now),
    #: "revoked" (family already gone) or "unknown" (not a token we issued, or expired).
    outcome: str
    family: str | None = None
    user_id: int | None = None
    #: The store's epoch marker, read in the same script (None: there is none).
    epoch: str | None = None

    @property
    def ok(self) -> bool:
        """Whether a new token was issued."""
        return self.outcome in ("rotated", "grace")


@dataclass(frozen=True)
class Family:
    """One row of GET /auth/sessions in refresh mode."""

    id: str
    created: float
    last_seen: float
    expires: float
    user_agent: str
    ip: str


class FamilyStore(RedisBacked):
    """Refresh-token families in Redis."""

    #: Round trips an authenticated request costs: none, access tokens are checked alone.
    round_trips = 0
    down_message = DOWN_MESSAGE

    def __init__(self, client: redis.Redis, refresh_ttl: int, grace: float):
        super().__init__(client)
        self.refresh_ttl = refresh_ttl
        self.grace = grace
        self._create = client.register_script(CREATE_SCRIPT)
        self._rotate = client.register_script(ROTATE_SCRIPT)
        self._revoke = client.register_script(REVOKE_SCRIPT)

    def create(
        self,
        family: str,
        user_id: int,
        token: str,
        now: float,
        access_exp: float,
        user_agent: str,
        ip: str,
    ) -> None:
        """Start family `family`, whose first refresh token is `token`."""
        uid, token_hash = str(user_id), hash_token(token)
        self.call(
            self._create,
            keys=[
                TOKEN_PREFIX + token_hash,
                FAMILY_PREFIX + family,
                INDEX_PREFIX + uid,
                LATEST_PREFIX + uid,
            ],
            args=[family, uid, now, self.refresh_ttl, user_agent, ip, access_exp, token_hash],
        )

    def rotate(self, presented: str, successor: str, now: float, access_exp: float) -> Rotation:
        """Swap `presented` for `successor`, or detect reuse. One round trip."""
        new_hash = hash_token(successor)
        result = self.call(
            self._rotate,
            keys=[TOKEN_PREFIX + hash_token(presented), TOKEN_PREFIX + new_hash, EPOCH_KEY],
            args=[
                now,
                self.grace,
                new_hash,
                self.refresh_ttl,
                TOKEN_PREFIX,
                FAMILY_PREFIX,
                INDEX_PREFIX,
                LATEST_PREFIX,
                access_exp,
            ],
        )
        outcome, family, user_id, *epoch = result
        return Rotation(
            outcome, family or None, int(user_id) if user_id else None, epoch[0] if epoch else None
        )

    def revoke(self, user_id: int, family: str) -> float | None:
        """End one of the user's families; returns the exp of its latest access token, or None
        when the user has no such family."""
        exp = self.call(
            self._revoke,
            keys=[FAMILY_PREFIX + family, INDEX_PREFIX + str(user_id)],
            args=[str(user_id), family, time.time()],
        )
        return float(exp) if exp is not None else None

    def revoke_user(self, user_id: int) -> tuple[int, float]:
        """End every family of a user; returns (how many, the latest exp of any access token
        issued to the user, 0 when none is on record)."""
        uid = str(user_id)
        count, latest = self.revoke_index(INDEX_PREFIX + uid, FAMILY_PREFIX, LATEST_PREFIX + uid)
        return count, float(latest or 0)

    def list_user(self, user_id: int) -> list[Family]:
        """The user's live families, from the index; dead index entries are pruned."""

        def run() -> list[Family]:
            index = INDEX_PREFIX + str(user_id)
            ids = self.client.zrange(index, 0, -1)
            if not ids:
                return []
            pipe = self.client.pipeline(transaction=False)
            for family in ids:
                pipe.hgetall(FAMILY_PREFIX + family)
            rows, dead = [], []
            for family, fields in zip(ids, pipe.execute(), strict=True):
                if not fields:
                    dead.append(family)
                    continue
                last_seen = float(fields["last_seen"])
                rows.append(
                    Family(
                        id=family,
                        created=float(fields["created"]),
                        last_seen=last_seen,
                        expires=last_seen + self.refresh_ttl,
                        user_agent=fields.get("user_agent", ""),
                        ip=fields.get("ip", ""),
                    )
                )
            if dead:
                self.client.zrem(index, *dead)
            return rows

        return self.call(run)
