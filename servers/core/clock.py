"""A replica whose clock disagrees with the store's serves nothing: fail closed.

Token times (`iat`, `exp`) and revocation cuts ("every token of this user issued before now")
are written by one replica's clock and compared by another's. A replica far ahead mints tokens
the others call "not valid yet" and locks a user out with a cut in the future; a replica far
behind writes a cut in the past, and tokens issued after it by a correct replica, but also
tokens issued *before* the revocation, still pass: a `revoked: true` undone by a clock (the lab's
`chaos` command finds both with a skewed replica). Production keeps clocks within milliseconds
with NTP; a lab shows what happens when one drifts, and a server must not trust its clock blindly.

So each replica compares its clock with the store's (Redis `TIME`, one clock for all) when it
starts and on every `/health` (HAProxy asks every second, so never on the request path). Beyond
CLOCK_MAX_SKEW it answers every request with a JSON 503 `clock_skew` and `/health` with 503, so
the load balancer takes it out until its clock is right again (it keeps checking).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from flask import Flask, request

from .config import Settings
from .errors import ApiError
from .redis_client import REDIS_DOWN, make_redis

log = logging.getLogger(__name__)

#: The paths a skewed replica still answers: its own health report.
ALWAYS_SERVED = frozenset({"/health"})


class ClockGuard:
    """This process's clock against the store's; `skewed` once they part by more than allowed."""

    def __init__(self, client: redis.Redis, max_skew: float, label: str = ""):
        self.client = client
        self.max_skew = max_skew
        self.label = label
        #: Local minus store seconds at the last check (None: never measured).
        self.offset: float | None = None
        self.skewed = False

    def check(self) -> None:
        """One `TIME` round trip; the store's time is taken at the round trip's midpoint.
        A store that does not answer changes nothing: the store checks report that."""
        try:
            before = time.time()
            seconds, micros = self.client.time()
            after = time.time()
        except REDIS_DOWN:
            return
        self.offset = (before + after) / 2 - (seconds + micros / 1e6)
        skewed = abs(self.offset) > self.max_skew
        if skewed != self.skewed:
            level = logging.WARNING if skewed else logging.INFO
            log.log(level, "replica %s: %s", self.label, self.message())
        self.skewed = skewed

    def message(self) -> str:
        """What a client or an operator reads about this replica's clock."""
        if self.offset is None:
            return "This replica's clock has not been compared with the store's yet."
        direction = "ahead of" if self.offset > 0 else "behind"
        state = (
            "it serves nothing until the clock is right (token times and revocation cuts would"
            " be wrong): another replica can answer."
            if self.skewed
            else "within the allowed skew."
        )
        return (
            f"This replica's clock is {abs(self.offset):.3f} s {direction} the store's "
            f"(CLOCK_MAX_SKEW={self.max_skew:g} s): {state}"
        )

    def refusal(self) -> ApiError:
        """The JSON 503 a skewed replica answers: retry, another replica will take it."""
        return ApiError(503, "clock_skew", self.message(), {"Retry-After": "1"})

    def status(self) -> dict[str, Any]:
        """For /health."""
        return {
            "max_skew_s": self.max_skew,
            "offset_s": None if self.offset is None else round(self.offset, 4),
            "skewed": self.skewed,
        }


def install_clock_guard(app: Flask, settings: Settings) -> ClockGuard | None:
    """Check the clock now and refuse every request while it is skewed; None when off."""
    if not settings.clock_max_skew or not settings.redis_url:
        return None
    guard = ClockGuard(make_redis(settings.redis_url, settings), settings.clock_max_skew,
                       settings.replica_id)  # fmt: skip
    guard.check()
    app.extensions["authlab_clock"] = guard

    @app.before_request
    def refuse_while_skewed() -> None:
        """A flag read, no round trip: the check itself runs at start and on /health."""
        if guard.skewed and request.path not in ALWAYS_SERVED:
            raise guard.refusal()

    return guard


def clock_guard(app: Flask) -> ClockGuard | None:
    """The app's guard, if it has one."""
    return app.extensions.get("authlab_clock")
