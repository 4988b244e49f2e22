"""SessionBackend: an opaque id in a cookie, the state on the server.

Compared with the tutorial (express-session + connect-redis + Passport) and with Flask-Session +
Flask-Login, this backend: issues a new id at every login (session fixation), has an absolute
timeout besides the sliding idle one, keeps a per-user index (log out everywhere, revoke on
password change), stores the user in the session (no SQL read per request) and costs exactly one
Redis round trip per authenticated request.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Request

from ..core.backend import AuthBackend, AuthCheck, Cookie, Issued, Principal, Revocation
from ..core.config import Settings
from ..core.epoch import EpochGuard
from ..core.redis_client import confirm_revocation, confirm_session, make_redis
from .cookies import STORE_KEY_HEX, SessionCookie, new_session_id, store_key
from .dbsc import BOUND_COOKIE, DBSC
from .ended import ended
from .stores import CachedStore, MemoryStore, RedisStore, SessionRecord, SessionStore


def iso(ts: float) -> str:
    """Epoch seconds as an ISO 8601 UTC time."""
    return datetime.fromtimestamp(ts, UTC).isoformat()


class SessionBackend(AuthBackend):
    """Server-side sessions in a pluggable store."""

    mechanism = "session"

    def __init__(self, settings: Settings, store: SessionStore | None = None):
        self.settings = settings
        self.idle = settings.session_idle_timeout
        self.absolute = settings.session_absolute_timeout
        self.store = store or self._make_store(settings)
        # The cookie lives as long as the absolute timeout; the server decides before that.
        self.cookie = SessionCookie(settings.secret_keys, self.absolute)
        # SESSION_BINDING=dbsc: sessions may be bound to a client key (dbsc.py).
        self.binding: DBSC | None = None
        if settings.session_binding == "dbsc":
            self.binding = DBSC(settings, self.store, self.cookie, self.idle)

    @staticmethod
    def _make_store(settings: Settings) -> SessionStore:
        if settings.session_store == "memory":
            return MemoryStore()
        client = make_redis(settings.redis_url, settings)
        redis_store = RedisStore(client)
        # Sessions die with the store (safe), but /health says when it lost them, and the cached
        # store empties its memory then (core/epoch.py).
        redis_store.guard = EpochGuard(client, settings.replica_id)
        redis_store.guard.probe()
        if settings.session_store == "cached":
            return CachedStore(
                redis_store,
                settings.redis_url,
                stale_after=settings.push_stale_after,
                ack_wait=settings.push_ack_wait,
                idle=settings.session_idle_timeout,
                label=settings.replica_id,
                settings=settings,
            )
        return redis_store

    @property
    def mode(self) -> str:
        return self.store.name

    def init_app(self, app: Flask) -> None:
        app.extensions["authlab_session_store"] = self.store
        if self.binding is not None:
            self.binding.init_app(app)

    def authenticate(self, request: Request) -> AuthCheck:
        # A bound session travels in a short-lived signed cookie (its store key), never in `sid`.
        found = self.binding.read_stamped(request) if self.binding is not None else None
        if found is None:
            found = self.cookie.read_stamped(request)
            if found is None:
                return AuthCheck(None, 0, "Log in first: no valid session cookie.")
            found = (store_key(found[0]), found[1])
        key, epoch = found
        record = self.store.read(key, time.time(), self.idle)
        if record is None:
            return self._ended(epoch)
        principal = Principal(record.user, key, record.created, record.expires_at)
        return AuthCheck(principal, self.store.read_round_trips)

    def _ended(self, epoch: str | None) -> AuthCheck:
        """No such session: ended, or (older than the store's epoch) lost with the store's
        data; the answer says which it can (ended.py). The miss reads the epoch marker: one
        more round trip, on a miss only."""
        guard = self.store.guard
        trips = self.store.read_round_trips + (1 if guard is not None else 0)
        code, reason = ended(guard, epoch)
        return AuthCheck(None, trips, reason, code)

    def login(self, user: dict[str, Any], request: Request) -> Issued:
        # A new id at every login defeats session fixation: an id planted before login is
        # never adopted, and a session this browser held before is ended, not upgraded.
        previous = self.cookie.read(request)
        if previous is not None:
            self.store.delete(store_key(previous), int(user["id"]))
        bound = self.binding.read(request) if self.binding is not None else None
        if bound is not None:  # a bound session this browser held ends too
            self.store.delete(bound, int(user["id"]))
        now = time.time()
        return self._start(user, request, created=now, expires_at=now + self.absolute)

    def _start(
        self, user: dict[str, Any], request: Request, created: float, expires_at: float
    ) -> Issued:
        """Store a session under a fresh id and hand its cookie out."""
        session_id = new_session_id()
        # The epoch it begins under goes into the cookie (one GET): see _ended.
        epoch = self.store.guard.read() if self.store.guard is not None else None
        record = SessionRecord(
            user=user,
            created=created,
            expires_at=expires_at,
            user_agent=(request.user_agent.string or "")[:200],
            ip=request.remote_addr or "",
        )
        key = store_key(session_id)
        self.store.create(key, record, self.idle, self.settings.session_max_per_user)
        user_id = int(user["id"])
        confirm_session(
            self.store.redis_client(), self.settings, lambda: self.store.delete(key, user_id)
        )
        if self.binding is None:
            return Issued((self.cookie.issue(session_id, epoch),))
        # DBSC: ask this client to register a key; any older bound cookie names another session.
        self.binding.offer(store_key(session_id))
        return Issued((self.cookie.issue(session_id, epoch), Cookie.expired(BOUND_COOKIE)))

    def logout(self, principal: Principal) -> Revocation:
        self.store.delete(principal.credential_id, principal.user_id)
        return self._durable(
            Revocation(
                revoked=True,
                count=1,
                message="The session was deleted on the server: a copy of the cookie is now "
                "useless.",
            )
        )

    def _durable(self, revocation: Revocation) -> Revocation:
        """What the store can vouch for (a caching store may say less), and, with
        REVOCATION_DURABILITY=wait, "revoked" only once a Redis replica has it too."""
        return confirm_revocation(
            self.store.vouch(revocation), self.store.redis_client(), self.settings
        )

    def revoke_user(self, user_id: int) -> Revocation:
        ended = self.store.delete_user(user_id)
        if not self.store.shared:
            # In-process memory: this replica can only end the sessions it holds. Say so.
            return Revocation(
                revoked=False,
                valid_until=datetime.fromtimestamp(time.time() + self.absolute, UTC),
                count=ended,
                message=(
                    f"Ended {ended} session(s) held by this replica "
                    f"({self.settings.replica_id}) only: the memory store is per process, so "
                    "sessions created on other replicas survive until they expire."
                ),
            )
        return self._durable(
            Revocation(
                revoked=True,
                count=ended,
                message=f"Every session of the user ({ended}) was deleted on the server: "
                "effective now.",
            )
        )

    def renew(self, principal: Principal, request: Request) -> Issued:
        # Keeping the *person* logged in, not the id: a password change is a privilege change
        # (OWASP), and the old cookie may be the stolen one. Same deadlines, new id.
        issued = self._start(principal.user, request, principal.issued_at, principal.expires_at)
        return Issued(
            issued.cookies,
            message="This client continues under a new session id: a copy of the old cookie "
            "is useless.",
        )

    def list_sessions(self, principal: Principal) -> dict[str, Any]:
        rows = self.store.list_user(principal.user_id, time.time(), self.idle)
        rows.sort(key=lambda r: r.record.created)
        return {
            "tracked": True,
            "sessions": [
                {
                    "id": row.key,
                    "created": iso(row.record.created),
                    "last_seen": iso(row.last_seen),
                    "expires": iso(row.record.expires_at),
                    "user_agent": row.record.user_agent,
                    "ip": row.record.ip,
                    "current": row.key == principal.credential_id,
                }
                for row in rows
            ],
            "message": f"Sessions live in the {self.store.name} store.",
        }

    def revoke_session(self, principal: Principal, session_id: str) -> Revocation | None:
        if len(session_id) != STORE_KEY_HEX:
            return None
        # Deleting through the user's own index: nobody can end someone else's session by id.
        owned = {row.key for row in self.store.list_user(principal.user_id, time.time(), self.idle)}
        if session_id not in owned or not self.store.delete(session_id, principal.user_id):
            return None
        return self._durable(
            Revocation(
                revoked=True,
                count=1,
                message="The session was deleted on the server: its cookie is now useless.",
            )
        )

    def expired_cookies(self) -> tuple[Cookie, ...]:
        if self.binding is None:
            return (self.cookie.expired(),)
        return (self.cookie.expired(), Cookie.expired(BOUND_COOKIE))

    def store_up(self) -> bool:
        guard = self.store.guard
        return guard.probe() if guard is not None else self.store.ping()

    def health(self) -> dict[str, Any]:
        return self.store.health()

    def revocation_store(self) -> dict[str, Any] | None:
        guard = self.store.guard
        return guard.status() if guard is not None else None
