"""Push mode: revocable tokens at no store round trip per request, and honest about the delay.

Every replica (every worker process) keeps the revocations in memory (stores/revocations.py),
filled at start from a Redis Stream and kept current by reading it (servers/core/push_feed.py).
A request looks at memory only: 0 round trips. A revocation is appended to the stream, applied
here at once, and the answer waits (briefly) for every live replica to acknowledge it:
`revoked: true` only then; otherwise `revoked: false` with the moment by which every replica
has applied it or stopped trusting its memory. A replica whose feed went quiet for longer than
PUSH_STALE_AFTER reads the stream before answering, or answers 503 when Redis is down.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Request

from ...core.backend import Issued, Principal, Revocation
from ...core.errors import StoreUnavailable
from ...core.push_feed import Delivery, PushFeed
from ...core.redis_client import REDIS_DOWN
from ..stores import RevocationState
from ..stores.revocations import STREAM
from .base import Mode, iso
from .denylist import cut_time

if TYPE_CHECKING:
    from ..kit import TokenKit

#: Shown on a 503 when the feed is stale and Redis does not answer.
FEED_LOST = (
    "This replica lost its revocation feed (Redis) for longer than it may trust its memory; "
    "try again shortly."
)
#: Shown on a 503 when a revocation could not be recorded.
NOT_RECORDED = "The revocation could not be recorded: Redis is unavailable. Nothing was revoked."


class PushMode(Mode):
    """Revocations pushed into every replica's memory: checked with no round trip."""

    name = "push"
    untracked_message = (
        "Push mode records revoked tokens, not live ones: there is no list of sessions. "
        "Log out everywhere (POST /auth/logout-all) to revoke every token at once."
    )

    def __init__(self, kit: TokenKit):
        super().__init__(kit)
        settings = kit.settings
        self.state = RevocationState()
        self.feed = PushFeed(
            settings.redis_url,
            STREAM,
            self.state.apply,
            stale_after=settings.push_stale_after,
            ack_wait=settings.push_ack_wait,
            # Older entries only concern tokens that have expired.
            horizon=kit.access_ttl + kit.leeway + 1,
            label=settings.replica_id,
            # Every read of the feed reads the store's epoch too: a replica started after the
            # stream was lost refuses the tokens it can no longer check (core/epoch.py).
            guard=kit.guard,
            settings=settings,  # through Sentinel when there are sentinels
        )
        self.feed.start()
        self._local = threading.local()

    @property  # type: ignore[override]
    def round_trips(self) -> int:
        """This thread's last check: 0, or the reads a stale feed needed first."""
        return getattr(self._local, "trips", 0)

    def check(self, claims: dict[str, Any]) -> str | None:
        self._local.trips = self.feed.ensure_fresh(FEED_LOST)
        return self.state.check(claims["jti"], int(claims["sub"]), float(claims["iat"]))

    def publish(self, fields: dict[str, Any]) -> Delivery:
        """Record a revocation in Redis, push it, wait for the replicas (503 if Redis is down)."""
        try:
            return self.feed.publish(fields)
        except REDIS_DOWN:
            raise StoreUnavailable(NOT_RECORDED) from None

    def report(self, delivery: Delivery, lives_until: float, done: str) -> Revocation:
        """`revoked: true` only when every live replica confirmed; else until when it may work."""
        if delivery.applied_everywhere:
            return Revocation(
                revoked=True,
                message=self.naive(f"{done} Every live replica confirmed it has applied it."),
            )
        until = min(delivery.settled_by, lives_until)
        if until <= time.time():
            return Revocation(revoked=True, message=f"{done} No copy can still be accepted.")
        moment = datetime.fromtimestamp(until, UTC)
        return Revocation(
            revoked=False,
            valid_until=moment,
            message=(
                f"{done} {len(delivery.pending)} replica process(es) had not confirmed within "
                f"{self.feed.ack_wait:g} s: each applies it, or stops trusting its memory, by "
                f"{iso(moment)}; until then a copy may still be accepted there."
            ),
        )

    def logout(self, principal: Principal) -> Revocation:
        jti = principal.token_id or principal.credential_id  # a token's jti is required
        lives_until = principal.expires_at + self.kit.leeway
        delivery = self.publish({"kind": "token", "jti": jti, "until": lives_until})
        return self.report(
            delivery, lives_until, "The token's id (jti) was pushed to every replica's memory."
        )

    def revoke_user(self, user_id: int) -> Revocation:
        # As in denylist mode: tokens issued before the cut die (it is 1 ms ahead of now).
        cut = cut_time()
        lives_until = cut + self.kit.access_ttl + self.kit.leeway + 1
        delivery = self.publish(
            {"kind": "user", "uid": user_id, "cut": repr(cut), "until": lives_until}
        )
        return self.report(
            delivery,
            lives_until,
            "A 'revoked before' time for every token of this user issued until now was pushed "
            "to every replica's memory.",
        )

    def renew(self, principal: Principal, request: Request) -> Issued:
        # Minted at a cut time taken after the revocation's: on the live side of it.
        issued = self.kit.deliver(self.kit.mint(principal.user, now=cut_time()))
        return Issued(issued.cookies, issued.body, "This client received a new token.")

    def health(self) -> dict[str, Any]:
        """The feed's state: /health says whether this replica trusts its memory."""
        return {**self.feed.status(), **self.state.sizes()}

    def close(self) -> None:
        """Stop the feed's reader (tests; a server process just exits)."""
        self.feed.close()
