"""Push mode's memory: what every replica knows about revoked tokens, without asking Redis.

Two tables, both small, both emptied as the tokens they concern expire:
    tokens   jti -> until     a logged-out token (keyed on its id, RFC 8725), refused until it
                              would have expired anyway (exp + leeway)
    cuts     uid -> (cut, until)   the user's tokens issued before `cut` are refused (log out
                              everywhere, password change, admin revoke), kept while one may live

They are filled from the revocation stream (servers/core/push_feed.py): an entry is
`{"kind": "token", "jti", "until"}` or `{"kind": "user", "uid", "cut", "until"}`. Applying an
entry twice, or two entries in either order, gives the same tables: the feed may replay.
"""

from __future__ import annotations

import time

#: The Redis Stream every push-mode replica reads.
STREAM = "push:revocations"

#: Seconds between sweeps of expired entries.
PRUNE_EVERY = 5.0


class RevocationState:
    """Revoked token ids and per-user cuts, in this process's memory."""

    def __init__(self) -> None:
        self.tokens: dict[str, float] = {}
        self.cuts: dict[int, tuple[float, float]] = {}
        self._next_prune = 0.0

    def apply(self, entry_id: str, fields: dict[str, str]) -> None:
        """Take one stream entry into memory (idempotent, order-free). Unknown kinds are
        ignored: a newer server may write entries an older one does not understand."""
        kind = fields.get("kind")
        try:
            until = float(fields["until"])
            if kind == "token":
                jti = fields["jti"]
                self.tokens[jti] = max(until, self.tokens.get(jti, 0.0))
            elif kind == "user":
                uid, cut = int(fields["uid"]), float(fields["cut"])
                old_cut, old_until = self.cuts.get(uid, (0.0, 0.0))
                self.cuts[uid] = (max(cut, old_cut), max(until, old_until))
        except (KeyError, ValueError):
            return
        self.prune()

    def check(self, jti: str, user_id: int, issued_at: float) -> str | None:
        """Why a validly signed token is refused, or None: two dict lookups, no I/O."""
        if jti in self.tokens:
            return "This token was revoked (logged out): log in again."
        cut = self.cuts.get(user_id)
        if cut is not None and issued_at < cut[0]:
            return "Every token of this user issued before a revocation was ended: log in again."
        return None

    def prune(self, now: float | None = None) -> None:
        """Forget entries whose tokens have expired (at most every PRUNE_EVERY seconds)."""
        now = time.time() if now is None else now
        if now < self._next_prune:
            return
        self._next_prune = now + PRUNE_EVERY
        for jti in [j for j, until in self.tokens.items() if until < now]:
            del self.tokens[jti]
        for uid in [u for u, (_, until) in self.cuts.items() if until < now]:
            del self.cuts[uid]

    def sizes(self) -> dict[str, int]:
        """How much is remembered (for /health and the memory measurement)."""
        return {"revoked_tokens": len(self.tokens), "revoked_users": len(self.cuts)}
