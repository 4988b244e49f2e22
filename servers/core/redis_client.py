"""A Redis client that fails fast, finds its primary through Sentinel, and can wait for a replica.

A down store must give a quick 503, not a hung request. With REDIS_SENTINELS set, the client asks
the sentinels where the primary is at every (re)connect, so a failover needs no restart: the
requests in between get 503 (the primary is gone, or is a replica now: redis-py turns its
READONLY answer into a ConnectionError) until the sentinels name the new one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

from .config import ConfigError
from .errors import NotDurable, StoreUnavailable

if TYPE_CHECKING:
    from .backend import Revocation
    from .config import Settings

#: Seconds to wait for Redis before calling it down. Loopback answers in well under 1 ms.
SOCKET_TIMEOUT = 0.5

#: What redis-py raises when the store is unreachable (a failover's READONLY included).
REDIS_DOWN = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.BusyLoadingError,
    redis.ReadOnlyError,
)


def _fail_fast() -> dict:
    return {
        "socket_timeout": SOCKET_TIMEOUT,
        "socket_connect_timeout": SOCKET_TIMEOUT,
        "retry": Retry(NoBackoff(), 1),
        "decode_responses": True,
        "health_check_interval": 0,
    }


def parse_sentinels(text: str) -> tuple[tuple[str, int], ...]:
    """ "host:port,host:port" -> ((host, port), ...); ValueError on a malformed entry."""
    found = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        host, sep, port = item.rpartition(":")
        if not sep or not host:
            raise ValueError(f"expected host:port, got {item!r}")
        found.append((host, int(port)))
    return tuple(found)


def make_redis(url: str, settings: Settings | None = None, **overrides: Any) -> redis.Redis:
    """A client with short timeouts and one quick retry (a reconnect after a restart);
    `overrides` change its connection settings (a blocking reader's longer timeout).

    With `settings.redis_sentinels`, the primary of `settings.redis_sentinel_master` is found
    through Sentinel; the URL then only gives the database number (and a password, if any).
    """
    kwargs = {**_fail_fast(), **overrides}
    if settings is None or not settings.redis_sentinels:
        return redis.Redis.from_url(url, **kwargs)
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0)
    try:
        sentinels = parse_sentinels(",".join(settings.redis_sentinels))
    except ValueError as exc:
        raise ConfigError(f"REDIS_SENTINELS: {exc}") from None
    sentinel = Sentinel(
        list(sentinels),
        sentinel_kwargs={
            "socket_timeout": SOCKET_TIMEOUT,
            "socket_connect_timeout": SOCKET_TIMEOUT,
        },
        **kwargs,
    )
    return sentinel.master_for(settings.redis_sentinel_master, db=db, password=parts.password)


def limiter_storage_uri(settings: Settings) -> str:
    """Flask-Limiter's storage: the same Redis, through Sentinel when there are sentinels."""
    if not settings.redis_sentinels:
        return settings.redis_url
    hosts = ",".join(settings.redis_sentinels)
    db = urlsplit(settings.redis_url).path.strip("/") or "0"
    return f"redis+sentinel://{hosts}/{settings.redis_sentinel_master}/{db}"


# -- durable revocation (REVOCATION_DURABILITY=wait) ------------------------------------------

#: A write that orders after the revocation on WAIT's own connection (see `replicas_acked`).
WAIT_MARKER_KEY = "authlab:wait-marker"


def replicas_acked(client: redis.Redis, timeout_ms: int) -> int:
    """How many replicas hold every write made so far, waiting up to `timeout_ms` for one.

    WAIT counts the writes of *its own connection*, and a pooled client may have written the
    revocation on another one. So the same connection first makes a tiny write of its own: it
    comes after the revocation in the replication stream, so a replica that acknowledges it has
    the revocation too. One round trip: the write and WAIT go in one pipeline.
    """
    pipe = client.pipeline(transaction=False)
    pipe.incr(WAIT_MARKER_KEY)
    pipe.execute_command("WAIT", 1, timeout_ms)
    return int(pipe.execute()[-1])


def durability(settings: Settings, setting: str | None = None) -> str:
    """REVOCATION_DURABILITY (or another durability `setting`'s value) as it applies: `auto`
    waits for a replica wherever one can be promoted (Sentinel), so a failover cannot undo a
    `revoked: true`, nor lose a session handed out, by default."""
    value = settings.revocation_durability if setting is None else setting
    if value == "auto":
        return "wait" if settings.redis_sentinels else "none"
    return value


def acknowledged(client: redis.Redis, settings: Settings) -> int:
    """Replicas that acknowledged every write so far (0 as well when the store did not answer)."""
    try:
        return replicas_acked(client, settings.revocation_wait_timeout_ms)
    except REDIS_DOWN:
        return 0


def confirm_session(
    client: redis.Redis | None, settings: Settings, take_back: Callable[[], object]
) -> None:
    """With SESSION_DURABILITY=wait, a new session is handed out only once a replica holds it.

    A session only the primary held is lost when a replica is promoted (a crash, a partition
    that isolated the primary): its user, logged in a moment ago, would be refused with "this
    session has ended", which nobody ended. NotDurable (503) instead: the login did not happen,
    and the client is told so, and why. `take_back` deletes the session first (best effort: the
    store may not answer), so nothing is left that no cookie names."""
    if client is None or durability(settings, settings.session_durability) != "wait":
        return
    if acknowledged(client, settings) < 1:
        with contextlib.suppress(StoreUnavailable, *REDIS_DOWN):
            take_back()
        raise NotDurable(
            "session_not_durable",
            "The session was written on the Redis primary, but no replica acknowledged it "
            f"within {settings.revocation_wait_timeout_ms} ms (SESSION_DURABILITY=wait): a "
            "failover now could lose it, so it was not handed out. Log in again in a moment.",
        )


def confirm_revocation(revocation: Revocation, client: redis.Redis | None, settings: Settings):
    """With REVOCATION_DURABILITY=wait, "revoked: true" only once a replica holds it too.

    Without a replica's acknowledgement, a failover could promote a replica that never saw the
    revocation: the logged-out session or denylisted token would work again. So the answer
    says `revoked: false`, with the reason, rather than promise what a crash could undo.
    """
    if durability(settings) != "wait" or client is None or not revocation.revoked:
        return revocation
    acked = acknowledged(client, settings)
    if acked >= 1:
        return replace(revocation, durability=f"acknowledged by {acked} replica(s)")
    return replace(
        revocation,
        revoked=False,
        message=(
            "Written on the Redis primary, but no replica acknowledged it within "
            f"{settings.revocation_wait_timeout_ms} ms (REVOCATION_DURABILITY=wait): a failover "
            "now could undo it. Retry the logout to be sure. " + revocation.message
        ),
        durability="not acknowledged by any replica",
    )
