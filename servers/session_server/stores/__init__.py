"""Session stores: Redis (shared by replicas), memory (per process, for the lesson), and cached
(Redis plus each replica's memory, kept honest by pushed invalidations)."""

from .base import ListedSession, SessionRecord, SessionStore
from .cached import CachedStore
from .memory import MemoryStore
from .redis import RedisStore

__all__ = [
    "CachedStore",
    "ListedSession",
    "MemoryStore",
    "RedisStore",
    "SessionRecord",
    "SessionStore",
]
