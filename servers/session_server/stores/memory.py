"""The in-process store: fast, and wrong behind a load balancer. Kept on purpose, for the lesson.

Each gunicorn replica has its own dict, so a session created on replica 1 does not exist on
replicas 2 and 3: with round-robin balancing, about 2 requests in 3 are refused. Sticky sessions
hide the problem until that replica restarts, and every session on it is gone.
"""

from __future__ import annotations

import threading
import time

from .base import ListedSession, SessionRecord, SessionStore


class MemoryStore(SessionStore):
    """A dict of records with per-key deadlines, guarded by a lock (gthread workers)."""

    name = "memory"
    shared = False
    read_round_trips = 0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, tuple[SessionRecord, float]] = {}
        self._by_user: dict[int, dict[str, float]] = {}

    def _alive(self, key: str, now: float) -> tuple[SessionRecord, float] | None:
        entry = self._records.get(key)
        if entry is None:
            return None
        record, idle_deadline = entry
        if now >= idle_deadline or now >= record.expires_at:
            self._forget(key, record.user_id)
            return None
        return entry

    def _forget(self, key: str, user_id: int) -> bool:
        sessions = self._by_user.get(user_id, {})
        sessions.pop(key, None)
        if not sessions:
            self._by_user.pop(user_id, None)
        return self._records.pop(key, None) is not None

    def create(self, key: str, record: SessionRecord, idle: int, max_per_user: int) -> list[str]:
        with self._lock:
            now = time.time()
            # Prune on write: the user's index never outgrows their live sessions.
            for old in list(self._by_user.get(record.user_id, {})):
                self._alive(old, now)
            self._records[key] = (record, now + idle)
            sessions = self._by_user.setdefault(record.user_id, {})
            sessions[key] = record.created
            evicted: list[str] = []
            if max_per_user and len(sessions) > max_per_user:
                oldest = sorted(sessions, key=sessions.__getitem__)[: len(sessions) - max_per_user]
                for old in oldest:
                    self._forget(old, record.user_id)
                    evicted.append(old)
            return evicted

    def read(self, key: str, now: float, idle: int) -> SessionRecord | None:
        with self._lock:
            entry = self._alive(key, now)
            if entry is None:
                return None
            record, _ = entry
            self._records[key] = (record, now + idle)
            return record

    def delete(self, key: str, user_id: int) -> bool:
        with self._lock:
            return self._forget(key, user_id)

    def list_user(self, user_id: int, now: float, idle: int) -> list[ListedSession]:
        with self._lock:
            rows = []
            for key in list(self._by_user.get(user_id, {})):
                entry = self._alive(key, now)
                if entry is not None:
                    record, idle_deadline = entry
                    rows.append(ListedSession(key, record, idle_deadline - idle))
            return rows

    def delete_user(self, user_id: int) -> int:
        with self._lock:
            keys = list(self._by_user.pop(user_id, {}))
            return sum(self._records.pop(k, None) is not None for k in keys)

    def ping(self) -> bool:
        return True
