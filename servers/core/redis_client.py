"""A Redis client that fails fast: a down store must give a quick 503, not a hung request."""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

#: Seconds to wait for Redis before calling it down. Loopback answers in well under 1 ms.
SOCKET_TIMEOUT = 0.5


def make_redis(url: str) -> redis.Redis:
    """A client with short timeouts and one quick retry (a reconnect after a restart)."""
    return redis.Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=SOCKET_TIMEOUT,
        retry=Retry(NoBackoff(), 1),
        decode_responses=True,
        health_check_interval=0,
    )


#: What redis-py raises when the store is unreachable.
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)
