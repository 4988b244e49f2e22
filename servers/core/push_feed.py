"""A Redis Stream that pushes invalidations into every process's memory, and the acknowledgements
that let a revoker say when every live process has applied one.

Why a stream, not pub/sub: a pub/sub message sent while a subscriber is reconnecting is gone,
and nothing tells the subscriber it missed one (it would need a sequence number, and then a
second copy of the state to replay from). A stream is both the message and the record: a
process that reconnects reads on from the last entry it applied, and a process that starts
reads the whole (trimmed) stream, so warm-up and gap recovery are the same one command.

Keys (`<name>` is the stream):
    <name>        one entry per invalidation; trimmed to the last `horizon` seconds (older
                  entries only concern credentials that have expired anyway)
    <name>:acks   hash: process -> "<last applied entry id> <epoch s its last complete read began>"

The stale-feed bound: a process trusts its memory only while its last *complete* read of the
stream (one that returned every entry the stream held when the read began) began less than
`stale_after` seconds ago. Past the bound, a request reads the stream itself first (one round
trip), and if Redis does not answer it is refused with a 503. So an entry appended at time t is
applied, or the process refuses, by t + stale_after at the latest, whatever happened to the feed.

The acknowledgements make the revoker honest: it appends, then waits (at most `ack_wait`) until
every process has applied the entry, or has not completed a read for longer than `stale_after`
(by the rule above it reads the stream before it answers) *and* `max_read` has passed since the
append. The second condition covers a stalled process waking up with a read that began before
the append: a process acknowledges a read before it trusts it, and never trusts a read that took
longer than `max_read`, so by then any such read is either visible or worthless.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis

from .epoch import EPOCH_KEY, EpochGuard
from .errors import StoreUnavailable
from .redis_client import REDIS_DOWN, SOCKET_TIMEOUT, make_redis

if TYPE_CHECKING:
    from .config import Settings

#: Entries read per XREAD. A read returning fewer is complete: the stream held no more.
BATCH = 1000
#: Seconds between the revoker's looks at the acknowledgements.
ACK_POLL = 0.005
#: Acknowledgements of processes silent this long are removed (dead replicas).
FORGET_AFTER = 300.0

#: Applies one entry (its id and fields) to a process's memory.
Apply = Callable[[str, dict[str, str]], None]


def entry_order(entry_id: str) -> tuple[int, int]:
    """A stream id ("<ms>-<seq>") as something that sorts."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


@dataclass(frozen=True)
class Delivery:
    """What publishing one invalidation achieved."""

    entry_id: str
    #: Epoch seconds when Redis had the entry (XADD returned).
    published_at: float
    #: Every live process acknowledged it within the wait.
    applied_everywhere: bool
    #: Live processes that had not acknowledged it when the wait ended.
    pending: tuple[str, ...]
    #: When every process has applied it or stopped trusting its memory (epoch seconds).
    settled_by: float
    #: Seconds spent waiting for acknowledgements.
    waited: float


class PushFeed:
    """One process's reader of the stream, its freshness, and the publish-and-wait side."""

    def __init__(
        self,
        url: str,
        stream: str,
        apply: Apply,
        *,
        stale_after: float,
        ack_wait: float,
        horizon: float,
        label: str = "",
        guard: EpochGuard | None = None,
        settings: Settings | None = None,
    ):
        self.url = url
        #: With REDIS_SENTINELS, both connections find the primary through Sentinel at every
        #: (re)connect. Straight to REDIS_URL, a failover left the feed on a node that had become
        #: a replica (READONLY at its first acknowledgement) or was gone: every request of this
        #: replica got 503 until that node was primary again (`lab chaos`, push on Sentinel).
        self.settings = settings
        #: Reads the store's epoch marker with every read of the stream (core/epoch.py).
        self.guard = guard
        self.stream = stream
        self.acks_key = stream + ":acks"
        self.apply = apply
        self.stale_after = stale_after
        self.ack_wait = ack_wait
        self.horizon = horizon
        #: XREAD blocks this long: an idle process proves it is current 8 times per bound.
        self.block = max(0.05, min(0.25, stale_after / 8))
        #: A read that took longer (a stalled process) is not trusted; see `pending`.
        self.max_read = 2 * self.block
        self.label = label
        self.client = make_redis(url, settings)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: The Redis client id of the reader's blocking connection: close() unblocks it.
        self._reader_id: int | None = None
        self._pid: int | None = None
        self._reset()

    def _reset(self) -> None:
        """Per-process state (a forked worker starts its own)."""
        self.instance = f"{self.label or 'replica'}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.last_id = "0-0"
        self._fresh_mono = float("-inf")
        self.started_mono = time.monotonic()
        #: Seconds and entries of the first complete read (the warm-up after a start).
        self.warmup: dict[str, float] | None = None
        self.applied = 0
        self.catch_ups = 0
        self.last_error = ""

    # --- the reader ----------------------------------------------------------------------------

    def start(self) -> None:
        """Start reading in this process (idempotent; after a fork, a new reader). A reader that
        died is restarted; one stopped by close() is not."""
        if self._stop.is_set():
            return
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            new_process = self._pid != os.getpid()
            if new_process:
                self._reset()
                self._pid = os.getpid()
        if new_process:
            # Warm up before serving: read the whole stream now, so the first request is
            # already answered from memory (if Redis is down, requests will try again).
            self.bootstrap()
            atexit.register(_forget_at_exit, weakref.ref(self))
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=_read_forever, args=(weakref.ref(self),), daemon=True, name="push-feed"
            )
            self._thread.start()

    def bootstrap(self) -> None:
        """Read the stream until complete, once; a Redis outage leaves the feed `starting`."""
        try:
            while self.read(self.client, block=False) >= BATCH:
                pass
        except REDIS_DOWN as exc:
            self.last_error = type(exc).__name__

    def close(self) -> None:
        """Stop reading for good (the thread ends within one block); memory is kept but goes
        stale, so past the bound requests read the stream themselves."""
        self._stop.set()
        if self._thread is None:
            return
        if self._reader_id is not None:
            # Wake the reader out of its XREAD at once (it answers as a timeout), rather than
            # waiting out the block: a test suite closes thousands of these.
            with contextlib.suppress(redis.RedisError):
                self.client.client_unblock(self._reader_id)
        self._thread.join(self.block + SOCKET_TIMEOUT + 1)

    def reader_client(self) -> redis.Redis:
        """A connection for blocking reads: its timeout outlasts the block."""
        return make_redis(
            self.url,
            self.settings,
            socket_timeout=self.block + SOCKET_TIMEOUT,
            client_name="authlab-push-feed",
        )

    def read(self, client: redis.Redis, block: bool) -> int:
        """One XREAD from the last applied entry; apply what came. Returns entries applied."""
        began_mono, began_wall = time.monotonic(), time.time()
        streams, block_ms = {self.stream: self.last_id}, int(self.block * 1000) if block else None
        if self.guard is None:
            answer = client.xread(streams, count=BATCH, block=block_ms)
        else:
            # The marker after the read, in the same round trip: a store that lost its data
            # before or during this read is seen before the read is trusted.
            pipe = client.pipeline(transaction=False)
            pipe.xread(streams, count=BATCH, block=block_ms)
            pipe.get(EPOCH_KEY)
            answer, marker = pipe.execute()
            self.guard.observe(marker)
        entries = answer[0][1] if answer else []
        with self._lock:
            for entry_id, fields in entries:
                if entry_order(entry_id) > entry_order(self.last_id):
                    self.apply(entry_id, fields)
                    self.last_id = entry_id
                    self.applied += 1
        if len(entries) < BATCH:
            # Acknowledge first, trust after: a revoker that did not see this acknowledgement
            # yet must not meet a process already trusting the read it reports.
            client.hset(self.acks_key, self.instance, f"{self.last_id} {began_wall:.6f}")
            self._trust(began_mono)
        return len(entries)

    def _trust(self, began: float) -> None:
        """Trust memory as of a complete read that began at `began` (monotonic), unless the
        read took longer than `max_read`: revokers count on no read lasting longer."""
        if time.monotonic() - began > self.max_read:
            return
        with self._lock:
            if began > self._fresh_mono:
                self._fresh_mono = began
                if self.warmup is None:
                    self.warmup = {
                        "seconds": round(time.monotonic() - self.started_mono, 4),
                        "entries": self.applied,
                    }

    # --- the hot path --------------------------------------------------------------------------

    def age(self) -> float:
        """Seconds since this process's last complete read began."""
        return time.monotonic() - self._fresh_mono

    def fresh(self) -> bool:
        """Whether memory may be trusted without asking Redis."""
        return self.age() <= self.stale_after

    def ensure_fresh(self, down_message: str) -> int:
        """0 round trips while fresh; otherwise read the stream now (StoreUnavailable if down)."""
        self.start()
        if self.fresh():
            return 0
        trips = 0
        try:
            while True:
                trips += 1
                self.catch_ups += 1
                if self.read(self.client, block=False) < BATCH:
                    return trips
        except REDIS_DOWN as exc:
            self.last_error = type(exc).__name__
            raise StoreUnavailable(down_message) from None

    # --- the write path ------------------------------------------------------------------------

    def publish(self, fields: dict[str, Any]) -> Delivery:
        """Append an invalidation, apply it here, and wait (bounded) for every live process.

        Raises REDIS_DOWN errors: the caller decides what an unrecorded revocation means.
        """
        minid = f"{int((time.time() - self.horizon) * 1000)}-0"
        entry_id = self.client.xadd(self.stream, fields, minid=minid, approximate=True)
        published_at = time.time()
        with self._lock:
            # Idempotent: the reader applies it again later, in order.
            self.apply(entry_id, {k: str(v) for k, v in fields.items()})
        started = time.monotonic()
        while True:
            pending = self.pending(entry_id, published_at)
            waited = time.monotonic() - started
            if not pending or waited >= self.ack_wait:
                break
            time.sleep(ACK_POLL)
        return Delivery(
            entry_id,
            published_at,
            applied_everywhere=not pending,
            pending=tuple(pending),
            settled_by=published_at + self.stale_after,
            waited=round(waited, 4),
        )

    def pending(self, entry_id: str, published_at: float) -> list[str]:
        """Processes that may still accept what `entry_id` revokes.

        A process is done when it acknowledged the entry. One that did not is done only when
        (a) its last acknowledged read began more than `stale_after` ago, so it trusts none of
        its memory, and (b) `max_read` has passed since the entry was stored, so no read that
        began before the entry can still complete and be trusted (a stalled process waking up).
        """
        now = time.time()
        wanted = entry_order(entry_id)
        settled = now >= published_at + self.max_read
        late, forgotten = [], []
        for instance, value in self.client.hgetall(self.acks_key).items():
            applied, _, since = value.partition(" ")
            seen = float(since or 0)
            if now - seen > FORGET_AFTER:
                forgotten.append(instance)  # long dead: drop it from the table
            if entry_order(applied) >= wanted:
                continue
            if not (settled and now - seen > self.stale_after):
                late.append(instance)
        if forgotten:
            self.client.hdel(self.acks_key, *forgotten)
        return late

    def forget(self) -> None:
        """Remove this process from the acknowledgements (a clean exit): revokers stop
        waiting `max_read` for it."""
        with contextlib.suppress(redis.RedisError):
            self.client.hdel(self.acks_key, self.instance)

    def status(self) -> dict[str, Any]:
        """What /health shows about the feed."""
        age = self.age()
        if self._fresh_mono == float("-inf"):
            state = "starting"
        else:
            state = "live" if age <= self.stale_after else "stale"
        return {
            "state": state,
            "age_s": round(age, 3) if age != float("inf") else None,
            "stale_after_s": self.stale_after,
            "applied_entry": self.last_id,
            "entries_applied": self.applied,
            "catch_ups": self.catch_ups,
            "warmup": self.warmup,
            "last_error": self.last_error or None,
            "process": self.instance,
        }


def _forget_at_exit(ref: weakref.ref[PushFeed]) -> None:
    """At a clean process exit, leave the acknowledgements table."""
    feed = ref()
    if feed is not None and feed._pid == os.getpid():  # noqa: SLF001
        feed.forget()


def _read_forever(ref: weakref.ref[PushFeed]) -> None:
    """The reader thread: block on the stream, apply, acknowledge; reconnect after a failure.

    It holds the feed only weakly between reads, so a feed nobody uses any more ends it.
    """
    client: redis.Redis | None = None
    backoff = 0.05
    catching_up = True  # after a start or a reconnect: read without waiting until complete
    while True:
        feed = ref()
        if feed is None or feed._stop.is_set():  # noqa: SLF001 (the feed's own thread)
            return
        try:
            if client is None:
                client, catching_up = feed.reader_client(), True
                feed._reader_id = client.client_id()  # noqa: SLF001
            catching_up = feed.read(client, block=not catching_up) >= BATCH
            backoff = 0.05
        except redis.RedisError as exc:
            # Down, restarted, or a reply we did not expect: reconnect and read on.
            feed.last_error = type(exc).__name__
            client = None
            stop = feed._stop  # noqa: SLF001
            del feed
            stop.wait(backoff)
            backoff = min(backoff * 2, 0.5)
            continue
        del feed
