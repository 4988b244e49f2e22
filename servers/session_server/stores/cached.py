"""The cached store: sessions in Redis, recently seen ones also in this replica's memory, dropped
when any replica pushes an invalidation. A hit costs no round trip; the answers stay honest.

How it stays correct (the same feed as the JWT server's push mode, servers/core/push_feed.py):
- every delete (logout, log out everywhere, password change, admin revoke, eviction) deletes in
  Redis, then appends `{"kind": "session", "key"}` or `{"kind": "user", "uid"}` to a
  stream every replica reads; each replica drops the matching cached sessions and acknowledges;
- the backend says `revoked: true` only once every live replica has acknowledged; otherwise it
  says until when a cached copy may still be served (the stale-feed bound);
- memory is used only while the feed is current (PUSH_STALE_AFTER): past that, the cache is
  emptied and every read goes to Redis (one round trip), as the plain Redis store does;
- a session read from Redis is cached only if no invalidation arrived during the read (a
  generation counter), so a delete racing with a read cannot leave a dead session cached;
- every read of the feed also reads the store's epoch marker (core/epoch.py): when Redis lost
  its data (restarted empty, flushed), the sessions it lost are dropped from memory too, so no
  replica keeps serving a session the store no longer has.

What it gives up: the idle timeout slides in Redis only when a cached session goes back to Redis
(at most every TOUCH_EVERY seconds), so Redis may end an idle session up to that much early.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ...core.backend import Revocation
from ...core.errors import StoreUnavailable
from ...core.push_feed import Delivery, PushFeed
from ...core.redis_client import REDIS_DOWN
from .base import ListedSession, SessionRecord, SessionStore
from .redis import RedisStore

if TYPE_CHECKING:
    from ...core.config import Settings

#: The stream of session invalidations every replica reads.
STREAM = "push:sessions"
#: Seconds of stream kept: a replica behind by more was stale, and emptied its cache anyway.
HORIZON = 300.0
#: Sessions kept in memory per process, at most (the oldest cached goes first).
MAX_ENTRIES = 10_000
#: A cached session goes back to Redis at least this often (slides its idle timeout there).
TOUCH_EVERY = 60.0

NOT_RECORDED = "The logout could not be recorded: Redis is unavailable. Nothing was revoked."


@dataclass
class Cached:
    """One session in memory."""

    record: SessionRecord
    #: Local idle deadline (epoch seconds), slid by each hit here.
    idle_until: float
    #: When this replica last read it from Redis (which slid the idle timeout there).
    fetched: float


class CachedStore(SessionStore):
    """Redis behind a per-replica cache that pushed invalidations keep honest."""

    name = "cached"

    def __init__(
        self,
        redis_store: RedisStore,
        url: str,
        *,
        stale_after: float,
        ack_wait: float,
        idle: int,
        label: str = "",
        settings: Settings | None = None,
    ):
        self.redis = redis_store
        self.guard = redis_store.guard
        self.touch_every = min(TOUCH_EVERY, idle / 10)
        self._cache: dict[str, Cached] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self._local = threading.local()
        self.feed = PushFeed(
            url,
            STREAM,
            self._invalidate,
            stale_after=stale_after,
            ack_wait=ack_wait,
            horizon=HORIZON,
            label=label,
            guard=self.guard,
            settings=settings,  # through Sentinel when there are sentinels
        )
        if self.guard is not None:
            self.guard.on_loss(self._forget_all)
        self.feed.start()

    @property  # type: ignore[override]
    def read_round_trips(self) -> int:
        """This thread's last read: 0 on a hit, 1 when it went to Redis."""
        return getattr(self._local, "trips", 0)

    # --- what the feed applies -----------------------------------------------------------------

    def _invalidate(self, entry_id: str, fields: dict[str, str]) -> None:
        """Drop what an entry names from memory (idempotent)."""
        with self._lock:
            self._generation += 1
            if fields.get("kind") == "session":
                self._cache.pop(fields.get("key", ""), None)
            elif fields.get("kind") == "user":
                uid = fields.get("uid", "")
                for key in [k for k, c in self._cache.items() if str(c.record.user_id) == uid]:
                    del self._cache[key]

    def _forget_all(self) -> None:
        """The store lost its data: nothing remembered from before may be served."""
        with self._lock:
            self._generation += 1
            self._cache.clear()

    # --- reads ---------------------------------------------------------------------------------

    def read(self, key: str, now: float, idle: int) -> SessionRecord | None:
        self.feed.start()
        if not self.feed.fresh():
            # The feed is quiet: memory may miss an invalidation. Forget it, ask Redis.
            with self._lock:
                self._cache.clear()
                self._generation += 1
        elif (hit := self._hit(key, now, idle)) is not None:
            self._local.trips = 0
            return hit
        return self._fetch(key, now, idle)

    def _hit(self, key: str, now: float, idle: int) -> SessionRecord | None:
        entry = self._cache.get(key)
        if entry is None or now >= entry.idle_until or now >= entry.record.expires_at:
            return None
        if now - entry.fetched >= self.touch_every:
            return None  # time to slide the idle timeout in Redis too
        entry.idle_until = now + idle
        return entry.record

    def _fetch(self, key: str, now: float, idle: int) -> SessionRecord | None:
        """Read through to Redis (one round trip; slides the idle timeout by steps); cache it
        unless an invalidation arrived meanwhile."""
        generation = self._generation
        record = self.redis.read(key, now, idle)
        self._local.trips = self.redis.read_round_trips  # 2 when it renewed the TTL too
        with self._lock:
            if record is None:
                self._cache.pop(key, None)
            elif generation == self._generation and self.feed.fresh():
                if len(self._cache) >= MAX_ENTRIES:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[key] = Cached(record, now + idle, now)
        return record

    def list_user(self, user_id: int, now: float, idle: int) -> list[ListedSession]:
        return self.redis.list_user(user_id, now, idle)

    # --- writes: Redis first, then the push --------------------------------------------------

    def create(self, key: str, record: SessionRecord, idle: int, max_per_user: int) -> list[str]:
        evicted = self.redis.create(key, record, idle, max_per_user)
        for old in evicted:
            self._publish({"kind": "session", "key": old})
        return evicted

    def delete(self, key: str, user_id: int) -> bool:
        deleted = self.redis.delete(key, user_id)
        self._publish({"kind": "session", "key": key})
        return deleted

    def delete_user(self, user_id: int) -> int:
        ended = self.redis.delete_user(user_id)
        self._publish({"kind": "user", "uid": user_id})
        return ended

    def _publish(self, fields: dict[str, Any]) -> Delivery:
        try:
            delivery = self.feed.publish(fields)
        except REDIS_DOWN:
            raise StoreUnavailable(NOT_RECORDED) from None
        self._local.delivery = delivery
        return delivery

    def redis_client(self) -> Any:
        return self.redis.redis_client()

    def vouch(self, revocation: Revocation) -> Revocation:
        """`revoked: true` only if every live replica dropped its cached copy; else until when."""
        delivery: Delivery | None = getattr(self._local, "delivery", None)
        self._local.delivery = None
        if not revocation.revoked or delivery is None or delivery.applied_everywhere:
            return revocation
        until = datetime.fromtimestamp(delivery.settled_by, UTC)
        if until <= datetime.now(UTC):
            return revocation
        return Revocation(
            revoked=False,
            valid_until=until,
            count=revocation.count,
            renewed=revocation.renewed,
            message=(
                f"{revocation.message} But {len(delivery.pending)} replica process(es) had not "
                f"confirmed dropping a cached copy within {self.feed.ack_wait:g} s: each does, "
                f"or stops trusting its memory, by {until.isoformat(timespec='seconds')}."
            ),
        )

    def ping(self) -> bool:
        return self.redis.ping()

    def health(self) -> dict[str, Any]:
        """The feed's state and the cache's size, for /health."""
        return {**self.feed.status(), "cached_sessions": len(self._cache)}

    def close(self) -> None:
        """Stop the feed's reader (tests)."""
        self.feed.close()

    def __len__(self) -> int:
        return len(self._cache)
