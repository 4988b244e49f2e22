"""The session store interface, and the record a session keeps on the server."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any

from ...core.backend import Revocation
from ...core.epoch import EpochGuard


@dataclass
class SessionRecord:
    """What the server keeps for one session: enough to answer /auth/me without SQL."""

    user: dict[str, Any]
    created: float
    #: Absolute deadline (epoch seconds): the session dies then, however active it is.
    expires_at: float
    user_agent: str = ""
    ip: str = ""

    @property
    def user_id(self) -> int:
        """The owner's id."""
        return int(self.user["id"])

    def dumps(self) -> str:
        """Compact JSON: small values keep Redis memory per session low."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def loads(cls, raw: str) -> SessionRecord:
        """Parse a stored record."""
        return cls(**json.loads(raw))


@dataclass
class ListedSession:
    """One row of GET /auth/sessions."""

    key: str
    record: SessionRecord
    last_seen: float


class SessionStore(ABC):
    """Where session records live. Keys are hashes of session ids, never the ids themselves."""

    #: Name reported by /health ("redis" or "memory").
    name: str = ""
    #: Whether every replica sees the same sessions (False: per-process memory).
    shared: bool = True
    #: Store round trips an authenticated request costs (for Server-Timing).
    read_round_trips: int = 0
    #: The Redis store's epoch (core/epoch.py): when the store lost its sessions; None: no Redis.
    guard: EpochGuard | None = None

    @abstractmethod
    def create(self, key: str, record: SessionRecord, idle: int, max_per_user: int) -> list[str]:
        """Store a new session and index it under its user; returns keys evicted by the cap."""

    @abstractmethod
    def read(self, key: str, now: float, idle: int) -> SessionRecord | None:
        """Read a live session and slide its idle timeout, in one round trip."""

    @abstractmethod
    def delete(self, key: str, user_id: int) -> bool:
        """End one session; False if it was not there."""

    @abstractmethod
    def list_user(self, user_id: int, now: float, idle: int) -> list[ListedSession]:
        """The user's live sessions, from the per-user index (no scan). The index holds live
        sessions only: every write drops the ended ones, so it never grows past them."""

    @abstractmethod
    def delete_user(self, user_id: int) -> int:
        """End every session of a user; returns how many ended."""

    @abstractmethod
    def ping(self) -> bool:
        """Whether the store answers."""

    def redis_client(self) -> Any:
        """The Redis connection revocations are written on, for REVOCATION_DURABILITY's WAIT
        (None: this store is not in Redis)."""
        return None

    def vouch(self, revocation: Revocation) -> Revocation:
        """What the last delete really achieved (a store that caches may have to say less)."""
        return revocation

    def health(self) -> dict[str, Any]:
        """More for /health (the cached store: the state of its feed)."""
        return {}
