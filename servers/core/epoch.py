"""The revocation store's epoch: how a server notices that Redis lost the data it relied on.

A denylist is a security database: when Redis restarts empty (nothing on disk) or is flushed,
every revocation it held is gone, and a token logged out before it is accepted again. Redis says
nothing about it (a new run id comes with a failover or a restart that kept its AOF too, so it
proves nothing), so the servers leave a marker of their own, written once with SET NX:

    authlab:epoch   "<random id> <epoch seconds when it was written>"

Every credential a guarded server issues names the epoch it was issued under (a JWT's `sep`
claim). The server reads the marker where it reads Redis anyway (the denylist: in the same MGET;
push mode: with every read of its feed; refresh mode: inside the rotation script; everyone: at
login and on /health), so the hot path gains no round trip. A missing or changed marker means
the store lost what it held since that epoch began: the first server to notice starts a new
epoch (SET NX GET, so concurrent replicas agree on one), every credential of an older epoch is
refused with 401 `revocation_state_lost`, /health says when, and the log has a warning.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis

from .errors import ApiError, StoreUnavailable
from .redis_client import REDIS_DOWN

log = logging.getLogger(__name__)

#: The marker; it never expires (a store that evicts keys must keep it: it is tiny).
EPOCH_KEY = "authlab:epoch"
#: The 401 code a client can switch on: log in again, nothing else will help.
LOST_CODE = "revocation_state_lost"
#: Shown on a 503 when the epoch cannot be read (a credential cannot be issued without it).
DOWN_MESSAGE = "The revocation store (Redis) is unavailable; try again shortly."


def new_marker(now: float | None = None) -> str:
    """A fresh marker: a random id, and when it was written."""
    return f"{secrets.token_hex(8)} {time.time() if now is None else now:.3f}"


def iso(ts: float | None) -> str | None:
    """Epoch seconds as an ISO 8601 UTC time (None stays None)."""
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


class EpochGuard:
    """This process's view of the store's epoch: which one is current, and when it last moved."""

    def __init__(self, client: redis.Redis, label: str = ""):
        self.client = client
        self.label = label
        #: The current epoch's id (None until the store was read once).
        self.current: str | None = None
        #: When the current epoch began (epoch seconds).
        self.began: float | None = None
        #: When this process last saw the store lose its data (None: never).
        self.lost_at: float | None = None
        #: The epoch that was current before that loss.
        self.lost_epoch: str | None = None
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def on_loss(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever a loss is seen (the cached session store empties itself)."""
        self._listeners.append(listener)

    # --- reading the marker --------------------------------------------------------------------

    def claim(self) -> str:
        """The store's marker, written now if there is none (SET NX GET: one round trip, and
        replicas noticing at once agree on the first one written)."""
        mine = new_marker()
        found = self.client.set(EPOCH_KEY, mine, nx=True, get=True)
        return found if found is not None else mine

    def observe(self, marker: str | None) -> str:
        """Take the marker just read from the store; returns the current epoch's id. A missing
        marker is claimed anew (a round trip, on a loss only); a changed one is a loss."""
        if marker is None:
            marker = self.claim()
        epoch, _, began = marker.partition(" ")
        if epoch == self.current:
            return epoch  # the hot path: one string comparison
        with self._lock:
            moved = self.current is not None and epoch != self.current
            if moved:
                self.lost_at, self.lost_epoch = time.time(), self.current
            self.current, self.began = epoch, float(began or 0) or None
        if moved:
            log.warning(
                "revocation store lost its data (marker %s missing or replaced; now %s): every "
                "credential issued before is refused until its user logs in again [%s]",
                self.lost_epoch,
                epoch,
                self.label,
            )
            for listener in self._listeners:
                listener()
        return epoch

    def read(self) -> str:
        """Read the marker now (one GET): the epoch a new credential is issued under. While
        Redis is down, the last one seen: such a token is refused later if the store comes back
        without its data, never accepted wrongly; with none seen yet, 503."""
        try:
            return self.observe(self.client.get(EPOCH_KEY))
        except REDIS_DOWN:
            if self.current is None:
                raise StoreUnavailable(DOWN_MESSAGE) from None
            return self.current

    def probe(self) -> bool:
        """For /health: read the marker instead of a PING (same one round trip)."""
        try:
            self.observe(self.client.get(EPOCH_KEY))
        except REDIS_DOWN:
            return False
        return True

    # --- judging a credential ------------------------------------------------------------------

    def stale(self, epoch: Any) -> bool:
        """Whether a credential issued under `epoch` predates what the store still holds."""
        return self.current is None or epoch != self.current

    def predates(self, epoch: str | None) -> bool:
        """Whether a session issued under `epoch` began before the store's current epoch: the
        store may have lost it. Without an epoch (a credential that names none): whether this
        process has seen the store lose its data."""
        if epoch is None:
            return self.lost_at is not None
        return self.current is not None and epoch != self.current

    def refusal(self) -> str:
        """The 401 sentence for a credential of an older epoch."""
        when = iso(self.lost_at) or iso(self.began) or "a restart"
        return (
            "The revocation store lost its data (restarted empty or flushed) and started over "
            f"at {when}: a credential issued before then can no longer be checked against the "
            "revocations made before then, so it is refused. Log in again."
        )

    def refuse(self) -> ApiError:
        """The 401 for a credential of an older epoch, as an error to raise."""
        return ApiError(401, LOST_CODE, self.refusal())

    def status(self) -> dict[str, Any]:
        """What /health shows: the epoch, since when, and the last loss seen."""
        return {
            "guard": "on",
            "epoch": self.current,
            "since": iso(self.began),
            "lost_at": iso(self.lost_at),
        }
