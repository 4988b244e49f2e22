"""Session stores: Redis (shared by replicas) and memory (per process, for the lesson)."""

from .base import ListedSession, SessionRecord, SessionStore
from .memory import MemoryStore
from .redis import RedisStore

__all__ = ["ListedSession", "MemoryStore", "RedisStore", "SessionRecord", "SessionStore"]
